import { jsonScript } from '../util/json-script.js';
import type { PlayerView } from '../play/player.js';
import { Layout } from './layout.js';

export type PlayerPageProps = PlayerView;

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
        {jsonScript(p.config)}
      </script>
      <script src="/static/scorm-again.min.js"></script>
      <script src="/static/player.js"></script>
    </Layout>
  );
}
