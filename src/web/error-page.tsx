import { Layout } from './layout.js';

/** Where a person can go from an error page shown inside an LMS frame. */
export interface WayBack {
  /** A page that works again (a GET), when there is one. */
  readonly href?: string | undefined;
  readonly label?: string | undefined;
  /** Always shown: how to get back to the course in the LMS. */
  readonly note: string;
}

export interface ErrorPageProps {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly hint: string | undefined;
  readonly requestId: string;
  /** Pages shown inside an LMS frame: where to go from here (see src/http/plugins/way-back.ts). */
  readonly wayBack?: WayBack | undefined;
}

/** What happened, what to do, and the code and reference to quote: every error page's core. */
export function ErrorSummary(p: { status: number; code: string; title: string; message: string; hint: string | undefined; requestId: string }): JSX.Element {
  return (
    <>
      <h1 safe>{p.title}</h1>
      <p safe>{p.message}</p>
      {p.hint ? (
        <p class="hint" safe>
          {p.hint}
        </p>
      ) : (
        ''
      )}
      <ErrorReference {...p} />
    </>
  );
}

/** The error code and request reference, for support. */
export function ErrorReference(p: { status: number; code: string; requestId: string }): JSX.Element {
  return (
    <p class="muted">
      Error code{' '}
      <code data-error-code safe>
        {p.code}
      </code>{' '}
      · HTTP {String(p.status)} · reference <code safe>{p.requestId}</code>
    </p>
  );
}

/** The one page every error shown to a person goes through: what happened, its code, what to do. */
export function ErrorPage(p: ErrorPageProps): JSX.Element {
  return (
    <Layout title={p.title}>
      <div class="card error" role="alert">
        <ErrorSummary {...p} />
        <p class="muted">If you report this problem, include the error code and reference.</p>
        {p.wayBack ? <WayBackLinks back={p.wayBack} /> : ''}
      </div>
    </Layout>
  );
}

/** Inside an LMS frame the browser's Back button may re-post a form: give a way that works. */
function WayBackLinks(p: { back: WayBack }): JSX.Element {
  return (
    <div class="way-back" id="way-back">
      {p.back.href ? (
        <p>
          <a class="button primary" href={p.back.href} id="way-back-link" safe>
            {p.back.label ?? 'Back'}
          </a>
        </p>
      ) : (
        ''
      )}
      <p class="muted" safe>
        {p.back.note}
      </p>
    </div>
  );
}
