import type { ActivityProgress, GradingProgress } from '../lti/ags.js';
import type { Attempt } from '../store/tables.js';

export const SCORE_MAXIMUM = 100;

export interface MappedScore {
  readonly activityProgress: ActivityProgress;
  readonly gradingProgress: GradingProgress;
  readonly scoreGiven?: number;
  readonly scoreMaximum?: number;
}

type AttemptState = Pick<Attempt, 'completion' | 'success' | 'score_scaled'>;

/**
 * How an attempt's SCORM state becomes an AGS score (documented in docs/grades.md):
 *
 * | attempt | activityProgress | gradingProgress | scoreGiven (of 100) |
 * |---|---|---|---|
 * | not attempted | Initialized | NotReady | – |
 * | incomplete | InProgress | Pending | the score so far, if any |
 * | completed, passed or unknown success | Completed | FullyGraded | score × 100, or 100 without a score |
 * | completed, failed | Completed | FullyGraded | score × 100, or 0 without a score |
 * | failed but not completed (a 2004 SCO may) | Submitted | FullyGraded | score × 100, or 0 |
 */
export function mapAttemptToScore(a: AttemptState): MappedScore {
  const scaled = a.score_scaled === null ? undefined : Math.max(0, Math.min(1, a.score_scaled));
  const given = (fallback: number | undefined) => {
    const v = scaled !== undefined ? round(scaled * SCORE_MAXIMUM) : fallback;
    return v === undefined ? {} : { scoreGiven: v, scoreMaximum: SCORE_MAXIMUM };
  };
  if (a.completion === 'completed') {
    return { activityProgress: 'Completed', gradingProgress: 'FullyGraded', ...given(a.success === 'failed' ? 0 : SCORE_MAXIMUM) };
  }
  if (a.success === 'failed' || a.success === 'passed') {
    return { activityProgress: 'Submitted', gradingProgress: 'FullyGraded', ...given(a.success === 'failed' ? 0 : SCORE_MAXIMUM) };
  }
  if (a.completion === 'incomplete') return { activityProgress: 'InProgress', gradingProgress: 'Pending', ...given(undefined) };
  return { activityProgress: 'Initialized', gradingProgress: 'NotReady' };
}

/** Whether a change of the attempt is one the gradebook must hear about. */
export function gradeChanged(before: AttemptState, after: AttemptState): boolean {
  return before.completion !== after.completion || before.success !== after.success || before.score_scaled !== after.score_scaled;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
