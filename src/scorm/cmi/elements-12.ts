import { decimal, identifier12, integer, oneOf, text, time12, timespan12, vocabulary, type Check } from './value-types.js';

/** The SCORM 1.2 data model: writable elements (`n` stands for an array index) and read-only ones. */

const LESSON_STATUS_12 = ['passed', 'completed', 'failed', 'incomplete', 'browsed', 'not attempted'] as const;
const EXIT_12 = ['time-out', 'suspend', 'logout', ''] as const;
export const INTERACTION_TYPE_12 = ['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'];
const RESULT_12 = ['correct', 'wrong', 'unanticipated', 'neutral'];

const score12 = decimal(0, 100);

export const WRITABLE_12: Readonly<Record<string, Check>> = {
  'cmi.core.lesson_location': text(255),
  'cmi.core.lesson_status': vocabulary(LESSON_STATUS_12),
  'cmi.core.score.raw': score12,
  'cmi.core.score.min': score12,
  'cmi.core.score.max': score12,
  'cmi.core.exit': vocabulary(EXIT_12),
  'cmi.core.session_time': timespan12,
  // 1.2 says CMIString4096; scorm-again deliberately accepts 64000 (modern content needs it).
  'cmi.suspend_data': text(64_000),
  'cmi.comments': text(4096),
  'cmi.objectives.n.id': identifier12,
  'cmi.objectives.n.score.raw': score12,
  'cmi.objectives.n.score.min': score12,
  'cmi.objectives.n.score.max': score12,
  'cmi.objectives.n.status': vocabulary(LESSON_STATUS_12),
  'cmi.student_preference.audio': integer(-1, 100),
  'cmi.student_preference.language': text(255),
  'cmi.student_preference.speed': integer(-100, 100),
  'cmi.student_preference.text': integer(-1, 1),
  'cmi.interactions.n.id': identifier12,
  'cmi.interactions.n.objectives.n.id': identifier12,
  'cmi.interactions.n.time': time12,
  'cmi.interactions.n.type': vocabulary(INTERACTION_TYPE_12),
  // CMIFeedback is 255 in 1.2; scorm-again does not bound it, we bound it at 4096.
  'cmi.interactions.n.correct_responses.n.pattern': text(4096),
  'cmi.interactions.n.weighting': decimal(),
  'cmi.interactions.n.student_response': text(4096),
  'cmi.interactions.n.result': oneOf(vocabulary(RESULT_12), decimal())(`one of ${RESULT_12.join(', ')} or a decimal number`),
  'cmi.interactions.n.latency': timespan12,
};

export const READ_ONLY_12: readonly string[] = [
  'cmi.core.student_id',
  'cmi.core.student_name',
  'cmi.core.credit',
  'cmi.core.entry',
  'cmi.core.total_time',
  'cmi.core.lesson_mode',
  'cmi.launch_data',
  'cmi.comments_from_lms',
  'cmi.student_data.mastery_score',
  'cmi.student_data.max_time_allowed',
  'cmi.student_data.time_limit_action',
];
