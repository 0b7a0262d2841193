import { Layout } from './layout.js';

export interface PlayerSco {
  readonly id: string;
  readonly title: string;
  readonly launchUrl: string;
  readonly depth: number;
  readonly completion: string;
  readonly success: string;
}

export interface PlayerConfig {
  readonly family: '1.2' | '2004';
  /** Base of the runtime API: /play/<play token>. */
  readonly api: string;
  /** Base of the package files: /content/<content token>/. */
  readonly contentBase: string;
  /** How often the page trades its tokens for fresh ones (POST <api>/renew), so a long session keeps committing. */
  readonly renewEveryMs: number;
  readonly start: string;
  readonly scos: readonly PlayerSco[];
  /** Content dispatch: relay the attempt's status to the launcher in the LMS window (see docs/dispatch.md). */
  readonly relay?: PlayerRelay | undefined;
}

export interface PlayerRelay {
  /** The launcher's nonce from the launch form: the handshake must echo it. */
  readonly nonce: string;
  /** The Origin header of the launch form post (the launcher's origin), when the browser sent one. */
  readonly expectedOrigin: string | null;
  /** The attempt's total time before this launch: what it grows by is the session time. */
  readonly baseTimeMs: number;
}

export interface PlayerPageProps {
  readonly title: string;
  readonly learnerName: string;
  readonly attemptNumber: number;
  readonly completion: string;
  readonly success: string;
  readonly canStartNewAttempt: boolean;
  /** For instructors: their view of every learner's progress. */
  readonly progressUrl?: string | undefined;
  /** The attempt's score (-1..1), shown in the header. */
  readonly scoreScaled?: number | null | undefined;
  /** An administrator's preview from the console: tracked here only, never sent to an LMS. */
  readonly preview?: boolean | undefined;
  readonly config: PlayerConfig;
}

/** JSON for a <script type="application/json"> block: nothing in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STATUS_LABEL: Record<string, string> = {
  'not attempted': 'Not started',
  incomplete: 'In progress',
  completed: 'Completed',
  passed: 'Passed',
  failed: 'Failed',
};

export function statusLabel(completion: string, success: string): string {
  return STATUS_LABEL[success] ?? STATUS_LABEL[completion] ?? completion;
}

/** "Score 80 %" for the header ('' without a score); public/player.js formats live updates the same way. */
export function scoreLabel(scoreScaled: number | null | undefined): string {
  return scoreScaled === null || scoreScaled === undefined ? '' : `Score ${Math.round(scoreScaled * 1000) / 10} %`;
}

/** The SCORM player inside the LMS frame: table of contents, the SCO frame, the runtime. */
export function PlayerPage(p: PlayerPageProps): JSX.Element {
  const multi = p.config.scos.length > 1;
  return (
    <Layout title={p.title} bodyClass="player">
      {p.preview ? (
        <p class="preview-banner" id="preview-banner" role="note">
          Preview from the admin console: progress is kept for this preview only and nothing is sent to an LMS.
        </p>
      ) : (
        ''
      )}
      <header class="player-bar">
        <strong class="player-title" title={p.title} safe>
          {p.title}
        </strong>
        <span class="muted nowrap" data-attempt-status role="status" safe>
          {`Attempt ${p.attemptNumber} · ${statusLabel(p.completion, p.success)}`}
        </span>
        <span class="muted player-score" data-attempt-score safe>
          {scoreLabel(p.scoreScaled)}
        </span>
        {multi ? (
          <span class="player-nav">
            <button type="button" id="prev-sco">
              ← Previous
            </button>
            <button type="button" id="next-sco">
              Next →
            </button>
          </span>
        ) : (
          ''
        )}
        {p.progressUrl ? (
          <a href={p.progressUrl} id="progress-link" class="nowrap" target="_blank" rel="noopener">
            Learner progress
          </a>
        ) : (
          ''
        )}
        {p.canStartNewAttempt ? (
          <button type="button" id="new-attempt">
            Start a new attempt
          </button>
        ) : (
          ''
        )}
      </header>
      <div class={multi ? 'player-body with-toc' : 'player-body'}>
        {multi ? (
          <nav class="toc" aria-label="Table of contents">
            <ol>
              {p.config.scos.map((s) => (
                <li style={`padding-left:${s.depth * 12}px`}>
                  <button type="button" class="toc-item" data-sco={s.id} data-status={s.success !== 'unknown' ? s.success : s.completion} safe>
                    {s.title}
                  </button>
                </li>
              ))}
            </ol>
          </nav>
        ) : (
          ''
        )}
        <iframe id="sco-frame" name="sco" title="Course content" allow="fullscreen; autoplay"></iframe>
        <div class="end-page" id="end-page" hidden>
          <div class="card" role="region" aria-labelledby="end-title">
            <h1 id="end-title" tabindex="-1">
              {multi ? 'You have finished this part' : 'You have finished'}
            </h1>
            <p data-end-status></p>
            <p>You can close this window, or return to the course in your LMS.</p>
            <p class="picker-actions">
              {multi ? (
                <button type="button" class="primary" id="end-next" hidden>
                  Next part →
                </button>
              ) : (
                ''
              )}
              <button type="button" id="end-reopen">
                Open the course again
              </button>
            </p>
          </div>
        </div>
      </div>
      <script type="application/json" id="player-config">
        {scriptJson(p.config)}
      </script>
      <script src="/static/scorm-again.min.js"></script>
      <script src="/static/player.js"></script>
    </Layout>
  );
}
