import { INTERACTION_TYPE_12 } from './elements-12.js';
import { decimal, integer, language, localized, longIdentifier, oneOf, text, time2004, timeinterval, vocabulary, type Check } from './value-types.js';

/** The SCORM 2004 data model: writable elements (`n` stands for an array index) and read-only ones. */

const COMPLETION_STATUS_2004 = ['completed', 'incomplete', 'not attempted', 'unknown'] as const;
const SUCCESS_STATUS_2004 = ['passed', 'failed', 'unknown'] as const;
const EXIT_2004 = ['time-out', 'suspend', 'logout', 'normal', ''];
const INTERACTION_TYPE_2004 = [...INTERACTION_TYPE_12, 'long-fill-in', 'other'];
const RESULT_2004 = ['correct', 'incorrect', 'unanticipated', 'neutral'];
const NAV_REQUESTS = ['continue', 'previous', 'exit', 'exitAll', 'abandon', 'abandonAll', 'suspendAll', '_none_'];
/** `{target=ID}choice` and `{target=ID}jump`. */
const NAV_TARGETED = /^\{target=[^\s{}]+\}(?:choice|jump)$/;

const navRequest: Check = (v) =>
  NAV_REQUESTS.includes(v) || NAV_TARGETED.test(v)
    ? undefined
    : { reason: 'not-in-vocabulary', expected: `one of ${NAV_REQUESTS.join(', ')}, {target=ID}choice, {target=ID}jump` };

const scaled2004 = decimal(-1, 1);
const measure2004 = decimal(0, 1);
const real2004 = decimal();
/**
 * learner_response and correct_responses.n.pattern: their format depends on the interaction
 * type and is checked by the runtime; the server only bounds the length.
 */
const RESPONSE_2004_MAX = 64_000;

export const WRITABLE_2004: Readonly<Record<string, Check>> = {
  'cmi.comments_from_learner.n.comment': localized(4000),
  'cmi.comments_from_learner.n.location': text(250),
  'cmi.comments_from_learner.n.timestamp': time2004,
  'cmi.completion_status': vocabulary(COMPLETION_STATUS_2004),
  'cmi.exit': vocabulary(EXIT_2004),
  'cmi.interactions.n.id': longIdentifier,
  'cmi.interactions.n.type': vocabulary(INTERACTION_TYPE_2004),
  'cmi.interactions.n.objectives.n.id': longIdentifier,
  'cmi.interactions.n.timestamp': time2004,
  'cmi.interactions.n.correct_responses.n.pattern': text(RESPONSE_2004_MAX),
  'cmi.interactions.n.weighting': real2004,
  'cmi.interactions.n.learner_response': text(RESPONSE_2004_MAX),
  'cmi.interactions.n.result': oneOf(vocabulary(RESULT_2004), real2004)(`one of ${RESULT_2004.join(', ')} or a decimal number`),
  'cmi.interactions.n.latency': timeinterval,
  'cmi.interactions.n.description': localized(250),
  'cmi.learner_preference.audio_level': decimal(0),
  'cmi.learner_preference.language': language,
  'cmi.learner_preference.delivery_speed': decimal(0),
  'cmi.learner_preference.audio_captioning': integer(-1, 1),
  'cmi.location': text(1000),
  'cmi.objectives.n.id': longIdentifier,
  'cmi.objectives.n.score.scaled': scaled2004,
  'cmi.objectives.n.score.raw': real2004,
  'cmi.objectives.n.score.min': real2004,
  'cmi.objectives.n.score.max': real2004,
  'cmi.objectives.n.success_status': vocabulary(SUCCESS_STATUS_2004),
  'cmi.objectives.n.completion_status': vocabulary(COMPLETION_STATUS_2004),
  'cmi.objectives.n.progress_measure': measure2004,
  'cmi.objectives.n.description': localized(250),
  'cmi.progress_measure': measure2004,
  'cmi.score.scaled': scaled2004,
  'cmi.score.raw': real2004,
  'cmi.score.min': real2004,
  'cmi.score.max': real2004,
  'cmi.session_time': timeinterval,
  'cmi.success_status': vocabulary(SUCCESS_STATUS_2004),
  'cmi.suspend_data': text(64_000),
  'adl.nav.request': navRequest,
};

export const READ_ONLY_2004: readonly string[] = [
  'cmi.comments_from_lms.n.comment',
  'cmi.comments_from_lms.n.location',
  'cmi.comments_from_lms.n.timestamp',
  'cmi.completion_threshold',
  'cmi.credit',
  'cmi.entry',
  'cmi.launch_data',
  'cmi.learner_id',
  'cmi.learner_name',
  'cmi.max_time_allowed',
  'cmi.mode',
  'cmi.scaled_passing_score',
  'cmi.time_limit_action',
  'cmi.total_time',
];
/** adl.nav.request_valid.continue, ….choice.{target=ID}: read-only, targets may contain dots. */
export const READ_ONLY_PREFIX_2004 = 'adl.nav.request_valid.';
