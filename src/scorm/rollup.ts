/**
 * The attempt's state from its SCOs' states, and total time from session times.
 * The rule is documented in docs/scorm-tracking.md ("Rollup"); keep the two in step.
 */
import type { ScoState } from './cmi/evaluate.js';
import type { ScormFamily } from './cmi/model.js';
import { parseIso8601Duration, parseScorm12Timespan } from './duration.js';

export interface AttemptRollup {
  completion: 'not attempted' | 'incomplete' | 'completed';
  success: 'passed' | 'failed' | 'unknown';
  scoreScaled?: number;
  scoreRaw?: number;
  scoreMin?: number;
  scoreMax?: number;
}

export interface RollupSco {
  /** The SCO's evaluated state; undefined when it was never launched. */
  state: ScoState | undefined;
  /**
   * The SCO counts for success and score: the manifest gives it a mastery score or a
   * scaled passing score, or it reported a score.
   */
  scored: boolean;
}

/** Mean of scaled scores, rounded to the 7 decimals of SCORM's real(10,7). */
function mean(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  return Math.round((sum / values.length) * 1e7) / 1e7;
}

/**
 * Rolls an attempt up from its SCOs, in the package's order:
 * - completion: `not attempted` when no SCO was launched, `completed` when every SCO is
 *   completed, `incomplete` otherwise;
 * - success: `failed` when any SCO failed, `passed` when every scored SCO passed (and at
 *   least one is scored), `unknown` otherwise;
 * - score: with exactly one scored SCO (or, when none is scored, exactly one SCO) that
 *   SCO's raw/min/max/scaled; otherwise the mean of the scaled scores of those SCOs that
 *   reported one, without raw/min/max.
 */
export function rollupAttempt(scos: readonly RollupSco[]): AttemptRollup {
  const launched = scos.filter((s) => s.state !== undefined);
  const completion: AttemptRollup['completion'] =
    launched.length === 0 ? 'not attempted' : scos.every((s) => s.state?.completion === 'completed') ? 'completed' : 'incomplete';

  const scored = scos.filter((s) => s.scored);
  const success: AttemptRollup['success'] = launched.some((s) => s.state?.success === 'failed')
    ? 'failed'
    : scored.length > 0 && scored.every((s) => s.state?.success === 'passed')
      ? 'passed'
      : 'unknown';

  const rollup: AttemptRollup = { completion, success };
  const pool = scored.length > 0 ? scored : scos;
  if (pool.length === 1) {
    const state = pool[0]?.state;
    if (state?.scoreScaled !== undefined) rollup.scoreScaled = state.scoreScaled;
    if (state?.scoreRaw !== undefined) rollup.scoreRaw = state.scoreRaw;
    if (state?.scoreMin !== undefined) rollup.scoreMin = state.scoreMin;
    if (state?.scoreMax !== undefined) rollup.scoreMax = state.scoreMax;
  } else {
    const scaled = pool.flatMap((s) => (s.state?.scoreScaled !== undefined ? [s.state.scoreScaled] : []));
    if (scaled.length > 0) rollup.scoreScaled = mean(scaled);
  }
  return rollup;
}

/**
 * Adds one session's time to a SCO's total. `sessionValue` is cmi.core.session_time (1.2)
 * or cmi.session_time (2004) as validated by validateCmi; unset ('' or undefined) adds
 * nothing. Call it once per session (on the terminating commit): every commit of a
 * session repeats the same session time.
 *
 * @throws Error on a malformed value (validateCmi refuses those before they get here).
 */
export function addSessionTime(totalMs: number, sessionValue: string | undefined, family: ScormFamily): number {
  if (sessionValue === undefined || sessionValue === '') return totalMs;
  return totalMs + (family === '1.2' ? parseScorm12Timespan(sessionValue) : parseIso8601Duration(sessionValue));
}
