/**
 * The SCORM run-time data model (CMI) as the server sees it: a flat map of dotted element
 * names to SCORM string values, one map per SCO, replaced on every commit.
 *
 * docs/scorm-tracking.md describes the rules and limits; keep it in step with this folder.
 */

export type ScormFamily = '1.2' | '2004';
export type CmiValues = Readonly<Record<string, string>>;

/** Element names the rest of the server reads or writes, per family. */
export const CMI_ELEMENT = {
  '1.2': {
    lessonStatus: 'cmi.core.lesson_status',
    scoreRaw: 'cmi.core.score.raw',
    scoreMin: 'cmi.core.score.min',
    scoreMax: 'cmi.core.score.max',
    location: 'cmi.core.lesson_location',
    exit: 'cmi.core.exit',
    sessionTime: 'cmi.core.session_time',
    totalTime: 'cmi.core.total_time',
    suspendData: 'cmi.suspend_data',
    entry: 'cmi.core.entry',
    credit: 'cmi.core.credit',
    mode: 'cmi.core.lesson_mode',
    masteryScore: 'cmi.student_data.mastery_score',
  },
  '2004': {
    completionStatus: 'cmi.completion_status',
    successStatus: 'cmi.success_status',
    progressMeasure: 'cmi.progress_measure',
    scoreScaled: 'cmi.score.scaled',
    scoreRaw: 'cmi.score.raw',
    scoreMin: 'cmi.score.min',
    scoreMax: 'cmi.score.max',
    location: 'cmi.location',
    exit: 'cmi.exit',
    sessionTime: 'cmi.session_time',
    totalTime: 'cmi.total_time',
    suspendData: 'cmi.suspend_data',
    entry: 'cmi.entry',
    credit: 'cmi.credit',
    mode: 'cmi.mode',
    navRequest: 'adl.nav.request',
    scaledPassingScore: 'cmi.scaled_passing_score',
    completionThreshold: 'cmi.completion_threshold',
  },
} as const;

/** Storage bounds per SCO (documented in docs/scorm-tracking.md). */
export const CMI_LIMITS = {
  /** cmi.objectives.n (the SCORM 2004 smallest permitted maximum). */
  objectives: 100,
  /** cmi.interactions.n (the SCORM 2004 smallest permitted maximum). */
  interactions: 250,
  /** cmi.comments_from_learner.n (2004). */
  commentsFromLearner: 250,
  /** cmi.interactions.n.objectives.n and cmi.interactions.n.correct_responses.n. */
  perInteraction: 50,
  /** The kept map serialized as JSON, in UTF-8 bytes. */
  serializedBytes: 256 * 1024,
  /** Keys in one commit, checked before anything else. */
  keys: 20_000,
} as const;
