import { Layout } from './layout.js';

export interface ErrorPageProps {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly hint: string | undefined;
  readonly requestId: string;
}

/** The one page every error shown to a person goes through: what happened, its code, what to do. */
export function ErrorPage(p: ErrorPageProps): JSX.Element {
  return (
    <Layout title={p.title}>
      <div class="card error" role="alert">
        <h1 safe>{p.title}</h1>
        <p safe>{p.message}</p>
        {p.hint ? (
          <p class="hint" safe>
            {p.hint}
          </p>
        ) : (
          ''
        )}
        <p class="muted">
          Error code <code data-error-code safe>{p.code}</code> · HTTP {String(p.status)} · reference{' '}
          <code safe>{p.requestId}</code>
        </p>
        <p class="muted">If you report this problem, include the error code and reference.</p>
      </div>
    </Layout>
  );
}
