import { CMI_ELEMENT, type CmiValues, type ScormFamily } from './model.js';

/**
 * `evaluateSco` applies the rules the LMS side owns (1.2 default status and mastery score,
 * 2004 completion threshold and scaled passing score) and derives the SCO's state.
 */

/** What the manifest says about an item, as the LMS-side rules need it. */
export interface ScoItemRules {
  /** 1.2 `adlcp:masteryscore`, 0-100, compared with cmi.core.score.raw. */
  masteryScore?: number;
  /** 2004 `imsss:minNormalizedMeasure` (with satisfiedByMeasure), -1..1, compared with cmi.score.scaled. */
  scaledPassingScore?: number;
  /** 2004 `adlcp:completionThreshold` / minProgressMeasure, 0..1, compared with cmi.progress_measure. */
  completionThreshold?: number;
}

export interface ScoState {
  completion: 'not attempted' | 'incomplete' | 'completed' | 'unknown';
  success: 'passed' | 'failed' | 'unknown';
  scoreRaw?: number;
  scoreMin?: number;
  scoreMax?: number;
  /** -1..1. */
  scoreScaled?: number;
  location?: string;
  /** The SCO exited with `suspend` (or 2004 `adl.nav.request=suspendAll`): the next launch resumes. */
  suspended: boolean;
}

interface ScoEvaluationContext {
  /** This commit ends the session (LMSFinish / Terminate). */
  terminated: boolean;
  /** The attempt is for credit (cmi.core.credit / cmi.credit = credit, normal mode). */
  credit: boolean;
}

interface ScoEvaluation {
  /** The map to store: the input with the LMS-side rules applied. */
  cmi: Record<string, string>;
  state: ScoState;
}

/** A number from a stored value, or undefined when unset ('' or absent). */
function numberOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const finite = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n);

/** Rounded to the 7 decimals of SCORM's real(10,7), clamped to -1..1. */
function scaledValue(n: number): number {
  return Math.round(Math.min(1, Math.max(-1, n)) * 1e7) / 1e7;
}

function scores(raw: number | undefined, min: number | undefined, max: number | undefined, scaled: number | undefined) {
  const out: Pick<ScoState, 'scoreRaw' | 'scoreMin' | 'scoreMax' | 'scoreScaled'> = {};
  if (raw !== undefined) out.scoreRaw = raw;
  if (min !== undefined) out.scoreMin = min;
  if (max !== undefined) out.scoreMax = max;
  if (scaled !== undefined) out.scoreScaled = scaledValue(scaled);
  return out;
}

function evaluate12(input: CmiValues, rules: ScoItemRules, ctx: ScoEvaluationContext): ScoEvaluation {
  const E = CMI_ELEMENT['1.2'];
  const cmi = { ...input };
  const raw = numberOf(cmi[E.scoreRaw]);

  if (ctx.terminated) {
    const status = cmi[E.lessonStatus] ?? '';
    if (ctx.credit && finite(rules.masteryScore) && raw !== undefined) {
      // RTE 3.4.4: with a mastery score and credit, the LMS decides passed/failed from score.raw.
      cmi[E.lessonStatus] = raw >= rules.masteryScore ? 'passed' : 'failed';
    } else if (status === '' || status === 'not attempted') {
      // A SCO that never set a status is taken as completed when it finishes (as Moodle does).
      cmi[E.lessonStatus] = 'completed';
    }
  }

  const status = cmi[E.lessonStatus] ?? '';
  const completion: ScoState['completion'] =
    status === 'passed' || status === 'completed' || status === 'failed'
      ? 'completed'
      : status === 'incomplete' || status === 'browsed'
        ? 'incomplete'
        : 'not attempted';
  const success: ScoState['success'] = status === 'passed' ? 'passed' : status === 'failed' ? 'failed' : 'unknown';

  const min = numberOf(cmi[E.scoreMin]);
  const max = numberOf(cmi[E.scoreMax]);
  // 1.2 scores are normalized 0-100: scaled = raw / max, or raw / 100 when max is unset.
  const scaled = raw === undefined ? undefined : max === undefined ? raw / 100 : max > 0 ? raw / max : undefined;

  const location = cmi[E.location];
  return {
    cmi,
    state: {
      completion,
      success,
      ...scores(raw, min, max, scaled),
      ...(location ? { location } : {}),
      suspended: cmi[E.exit] === 'suspend',
    },
  };
}

function evaluate2004(input: CmiValues, rules: ScoItemRules): ScoEvaluation {
  const E = CMI_ELEMENT['2004'];
  const cmi = { ...input };

  // RTE 4.2.4.1: with a completion threshold and a progress measure, the LMS decides completion.
  const progress = numberOf(cmi[E.progressMeasure]);
  if (finite(rules.completionThreshold) && progress !== undefined) {
    cmi[E.completionStatus] = progress >= rules.completionThreshold ? 'completed' : 'incomplete';
  }
  // RTE 4.2.22: with a scaled passing score and a scaled score, the LMS decides success.
  const scaledScore = numberOf(cmi[E.scoreScaled]);
  if (finite(rules.scaledPassingScore) && scaledScore !== undefined) {
    cmi[E.successStatus] = scaledScore >= rules.scaledPassingScore ? 'passed' : 'failed';
  }

  const completionValue = cmi[E.completionStatus] ?? '';
  const completion: ScoState['completion'] =
    completionValue === 'completed' || completionValue === 'incomplete' || completionValue === 'not attempted' ? completionValue : 'unknown';
  const successValue = cmi[E.successStatus] ?? '';
  const success: ScoState['success'] = successValue === 'passed' || successValue === 'failed' ? successValue : 'unknown';

  const raw = numberOf(cmi[E.scoreRaw]);
  const min = numberOf(cmi[E.scoreMin]);
  const max = numberOf(cmi[E.scoreMax]);
  const scaled = scaledScore ?? (raw !== undefined && max !== undefined && max > 0 ? raw / max : undefined);

  const location = cmi[E.location];
  return {
    cmi,
    state: {
      completion,
      success,
      ...scores(raw, min, max, scaled),
      ...(location ? { location } : {}),
      suspended: cmi[E.exit] === 'suspend' || cmi[E.navRequest] === 'suspendAll',
    },
  };
}

/**
 * Applies the LMS-side status rules to a SCO's validated CMI map and derives its state.
 * Pure: the input is not modified; store the returned `cmi`.
 */
export function evaluateSco(family: ScormFamily, cmi: CmiValues, rules: ScoItemRules, ctx: ScoEvaluationContext): ScoEvaluation {
  return family === '1.2' ? evaluate12(cmi, rules, ctx) : evaluate2004(cmi, rules);
}
