/**
 * The SCORM run-time data model (CMI) as the server sees it: a flat map of dotted element
 * names to SCORM string values, one map per SCO, replaced on every commit.
 *
 * - `validateCmi` is the trust boundary: it refuses unknown elements, malformed values,
 *   oversized arrays and maps, and drops the read-only elements a runtime echoes back.
 * - `evaluateSco` applies the rules the LMS side owns (1.2 default status and mastery
 *   score, 2004 completion threshold and scaled passing score) and derives the SCO's state.
 *
 * docs/scorm-tracking.md describes the rules and limits; keep it in step with this file.
 */
import { AppError } from '../errors/app-error.js';
import { parseIso8601Duration, parseScorm12Timespan } from './duration.js';

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

/** `details.reason` of a CMI_INVALID error. */
export type CmiProblemReason =
  | 'not-an-object'
  | 'not-a-string'
  | 'unknown-element'
  | 'bad-index'
  | 'too-many-entries'
  | 'index-gap'
  | 'bad-format'
  | 'too-long'
  | 'out-of-range'
  | 'not-in-vocabulary'
  | 'too-large';

interface Problem {
  readonly reason: CmiProblemReason;
  /** What a valid value looks like, for the message. */
  readonly expected: string;
}

/** Checks one value; `undefined` means valid. */
type Check = (value: string) => Problem | undefined;

function invalid(element: string, reason: CmiProblemReason, message: string): AppError {
  return new AppError('CMI_INVALID', message, { details: { element, reason } });
}

// ---------------------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------------------

/** Length in characters (code points), as SCORM counts them, not UTF-16 units. */
function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function tooLong(value: string, max: number): Problem | undefined {
  // A UTF-16 length within the limit cannot hold more code points than that.
  if (value.length <= max || charLength(value) <= max) return undefined;
  return { reason: 'too-long', expected: `at most ${max} characters` };
}

/** characterstring / CMIString255 / CMIString4096 / CMIFeedback: every character allowed, length bounded. */
const text =
  (max: number): Check =>
  (v) =>
    tooLong(v, max);

/**
 * 1.2 CMIIdentifier. The spec says alphanumeric without spaces; scorm-again deliberately
 * accepts printable ASCII and whitespace (real content uses such ids), and we must not
 * refuse what the runtime accepted.
 */
const IDENTIFIER_12 = /^[\u0021-\u007E\s]*$/;
const identifier12: Check = (v) =>
  IDENTIFIER_12.test(v) ? tooLong(v, 255) : { reason: 'bad-format', expected: 'an identifier of printable ASCII characters' };

/** 2004 long_identifier_type (SPM 4000): a URI in principle; we require one line. */
const LINE_BREAK = /[\r\n\u2028\u2029]/;
const longIdentifier: Check = (v) =>
  LINE_BREAK.test(v) ? { reason: 'bad-format', expected: 'an identifier without line breaks' } : tooLong(v, 4000);

/** RFC 3066 language tag as SCORM 2004 language_type: primary 1-8 letters (or i / x), subtags 1-8 alphanumerics. */
const LANGUAGE_TAG = /^(?:[a-zA-Z]{1,8}|i|x)(?:-[a-zA-Z0-9]{1,8})*$/;
const language: Check = (v) =>
  v === '' || LANGUAGE_TAG.test(v) ? tooLong(v, 250) : { reason: 'bad-format', expected: 'a language tag such as en-US' };

/** 2004 localized_string_type: an optional `{lang=xx}` prefix, then at most `max` characters. */
const LANG_PREFIX = /^\{lang=((?:[a-zA-Z]{1,8}|i|x)(?:-[a-zA-Z0-9]{1,8})*)?\}/;
const localized =
  (max: number): Check =>
  (v) => {
    if (!v.startsWith('{lang=')) return tooLong(v, max);
    const m = LANG_PREFIX.exec(v);
    if (m === null) return { reason: 'bad-format', expected: 'a {lang=xx} prefix with a valid language tag' };
    return tooLong(v.slice(m[0].length), max);
  };

function vocabulary(values: readonly string[]): Check {
  const set = new Set(values);
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return (v) => (set.has(v) ? undefined : { reason: 'not-in-vocabulary', expected });
}

/**
 * CMIDecimal (1.2) and real(10,7) (2004): an optional minus, up to 10 integer digits and
 * a fraction. A superset of what scorm-again accepts for either version; no exponents.
 */
const DECIMAL = /^-?(?:\d{1,10}(?:\.\d{0,30})?|\.\d{1,30})$/;
function decimal(min?: number, max?: number): Check {
  const range =
    min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` of at least ${min}` : '';
  return (v) => {
    if (!DECIMAL.test(v)) return { reason: 'bad-format', expected: `a decimal number${range}` };
    const n = Number(v);
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      return { reason: 'out-of-range', expected: `a number${range}` };
    }
    return undefined;
  };
}

/** CMISInteger (1.2 student preferences) and the 2004 audio_captioning state, with a range. */
const SIGNED_INTEGER = /^-?\d{1,6}$/;
function integer(min: number, max: number): Check {
  return (v) => {
    if (!SIGNED_INTEGER.test(v)) return { reason: 'bad-format', expected: `an integer from ${min} to ${max}` };
    const n = Number(v);
    return n < min || n > max ? { reason: 'out-of-range', expected: `an integer from ${min} to ${max}` } : undefined;
  };
}

function fromParser(parse: (v: string) => number, expected: string): Check {
  return (v) => {
    try {
      parse(v);
      return undefined;
    } catch {
      return { reason: 'bad-format', expected };
    }
  };
}

/** 1.2 CMITimespan, HHHH:MM:SS.SS. */
const timespan12 = fromParser(parseScorm12Timespan, 'a timespan HHHH:MM:SS.SS');
/** 2004 timeinterval (second,10,2), ISO 8601. */
const timeinterval = fromParser(parseIso8601Duration, 'an ISO 8601 duration such as PT1H5M30.5S');

/** 1.2 CMITime: a time of day HH:MM:SS(.SS). */
const TIME_12 = /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,2})?$/;
const time12: Check = (v) => (TIME_12.test(v) ? undefined : { reason: 'bad-format', expected: 'a time of day HH:MM:SS.SS' });

/**
 * 2004 time (second,10,0): YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]]. The spec bounds years to
 * 1970-2038 and fractions to 2 digits; scorm-again accepts up to 9999 and 6 digits, and so do we.
 */
const TIME_2004 =
  /^(?:19[7-9]\d|[2-9]\d{3})(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01])(?:T(?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d(?:\.\d{1,6}(?:Z|[+-](?:[01]\d|2[0-3])(?::[0-5]\d)?)?)?)?)?)?)?)?$/;
const time2004: Check = (v) =>
  TIME_2004.test(v) ? undefined : { reason: 'bad-format', expected: 'an ISO 8601 time such as 2024-03-01T10:15:30.5Z' };

function oneOf(...checks: readonly Check[]): (expected: string) => Check {
  return (expected) => (v) => (checks.some((c) => c(v) === undefined) ? undefined : { reason: 'bad-format', expected });
}

// ---------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------

const LESSON_STATUS_12 = ['passed', 'completed', 'failed', 'incomplete', 'browsed', 'not attempted'] as const;
const EXIT_12 = ['time-out', 'suspend', 'logout', ''] as const;
const INTERACTION_TYPE_12 = ['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'];
const RESULT_12 = ['correct', 'wrong', 'unanticipated', 'neutral'];

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

// ---------------------------------------------------------------------------------------
// Data models: writable elements (`n` stands for an array index) and read-only ones
// ---------------------------------------------------------------------------------------

const score12 = decimal(0, 100);

const WRITABLE_12: Readonly<Record<string, Check>> = {
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

const READ_ONLY_12: readonly string[] = [
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

const scaled2004 = decimal(-1, 1);
const measure2004 = decimal(0, 1);
const real2004 = decimal();
/**
 * learner_response and correct_responses.n.pattern: their format depends on the interaction
 * type and is checked by the runtime; the server only bounds the length.
 */
const RESPONSE_2004_MAX = 64_000;

const WRITABLE_2004: Readonly<Record<string, Check>> = {
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

const READ_ONLY_2004: readonly string[] = [
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
const READ_ONLY_PREFIX_2004 = 'adl.nav.request_valid.';

/** Per-array caps, by the array's normalized path. */
const ARRAY_CAPS: Readonly<Record<string, number>> = {
  'cmi.objectives': CMI_LIMITS.objectives,
  'cmi.interactions': CMI_LIMITS.interactions,
  'cmi.interactions.n.objectives': CMI_LIMITS.perInteraction,
  'cmi.interactions.n.correct_responses': CMI_LIMITS.perInteraction,
  'cmi.comments_from_learner': CMI_LIMITS.commentsFromLearner,
};

/** `_children`, `_count`, `_version`: keywords a runtime may echo; never stored. */
const KEYWORDS = new Set(['_children', '_count', '_version']);

interface DataModel {
  readonly writable: ReadonlyMap<string, Check>;
  readonly readOnly: ReadonlySet<string>;
  /** Every group or array path ("cmi", "cmi.core", "cmi.interactions.n.objectives", ...). */
  readonly containers: ReadonlySet<string>;
  readonly readOnlyPrefix: string | undefined;
}

function buildModel(writable: Readonly<Record<string, Check>>, readOnly: readonly string[], readOnlyPrefix?: string): DataModel {
  const containers = new Set<string>();
  for (const name of [...Object.keys(writable), ...readOnly]) {
    const parts = name.split('.');
    for (let i = 1; i < parts.length; i++) containers.add(parts.slice(0, i).join('.'));
  }
  return {
    writable: new Map(Object.entries(writable)),
    readOnly: new Set(readOnly),
    containers,
    readOnlyPrefix,
  };
}

const MODELS: Readonly<Record<ScormFamily, DataModel>> = {
  '1.2': buildModel(WRITABLE_12, READ_ONLY_12),
  '2004': buildModel(WRITABLE_2004, READ_ONLY_2004, READ_ONLY_PREFIX_2004),
};

// ---------------------------------------------------------------------------------------
// validateCmi
// ---------------------------------------------------------------------------------------

interface ArrayRef {
  /** The concrete array path, e.g. "cmi.interactions.3.objectives". */
  readonly path: string;
  /** The same with indexes as `n`, e.g. "cmi.interactions.n.objectives". */
  readonly normalizedPath: string;
  readonly index: number;
}

interface ParsedName {
  /** The name with every index replaced by `n`. */
  readonly normalized: string;
  readonly segments: readonly string[];
  /** The arrays the name indexes into, outermost first. */
  readonly arrays: readonly ArrayRef[];
}

const DIGITS = /^\d+$/;

/**
 * Parsed names of writable elements, memoized: every commit of a SCO repeats the same
 * names, and parsing is most of validation's cost. Bounded; cleared when full.
 */
const PARSED_NAMES = new Map<string, ParsedName>();
const PARSED_NAMES_MAX = 20_000;

function parseName(name: string): ParsedName {
  const cached = PARSED_NAMES.get(name);
  if (cached !== undefined) return cached;
  const parsed = parseNameUncached(name);
  if (MODELS['1.2'].writable.has(parsed.normalized) || MODELS['2004'].writable.has(parsed.normalized)) {
    if (PARSED_NAMES.size >= PARSED_NAMES_MAX) PARSED_NAMES.clear();
    PARSED_NAMES.set(name, parsed);
  }
  return parsed;
}

function parseNameUncached(name: string): ParsedName {
  const segments = name.split('.');
  let concrete = '';
  let normalized = '';
  const arrays: ArrayRef[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const sep = i === 0 ? '' : '.';
    if (DIGITS.test(segment)) {
      if (segment.length > 1 && segment.startsWith('0')) {
        throw invalid(name, 'bad-index', `${name}: an array index must not have leading zeros`);
      }
      arrays.push({ path: concrete, normalizedPath: normalized, index: Number(segment) });
      normalized += `${sep}n`;
    } else {
      normalized += sep + segment;
    }
    concrete += sep + segment;
  }
  return { normalized, segments, arrays };
}

function isEmptyPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** What validation does with one name. */
type Disposition = { readonly keep: false } | { readonly keep: true; readonly value: string; readonly check: Check };

function classify(model: DataModel, name: string, parsed: ParsedName, value: unknown): Disposition {
  const { normalized } = parsed;
  const check = model.writable.get(normalized);
  if (check !== undefined) {
    if (typeof value !== 'string') throw invalid(name, 'not-a-string', `${name}: the value must be a string`);
    return { keep: true, value, check };
  }
  const last = parsed.segments[parsed.segments.length - 1] ?? '';
  const parent = parsed.segments.length > 1 ? normalized.slice(0, normalized.lastIndexOf('.')) : '';
  const ignorable =
    model.readOnly.has(normalized) ||
    (KEYWORDS.has(last) && model.containers.has(parent)) ||
    // scorm-again's flattened export writes an empty array or group as `{}`.
    (model.containers.has(normalized) && isEmptyPlainObject(value));
  // Whatever the runtime echoes in a read-only element is dropped, so its value does not matter.
  if (ignorable) return { keep: false };
  throw invalid(name, 'unknown-element', `${name} is not a SCORM element that can be stored`);
}

/**
 * Validates a commit's CMI map for one SCO and returns the elements to store (the writable
 * ones); known read-only elements and keywords echoed by the runtime are dropped. An empty
 * string is accepted for every element (the runtime exports unset elements that way).
 *
 * @throws AppError CMI_INVALID on the first problem, with `details: { element, reason }`.
 */
export function validateCmi(family: ScormFamily, input: unknown): Record<string, string> {
  const model = MODELS[family];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('cmi', 'not-an-object', 'The CMI data must be an object of element names to string values');
  }
  const entries = Object.entries(input);
  if (entries.length > CMI_LIMITS.keys) {
    throw invalid('cmi', 'too-large', `The CMI data has more than ${CMI_LIMITS.keys} elements`);
  }

  const kept: Record<string, string> = {};
  /** Concrete array path ("cmi.interactions.3.objectives") → indexes seen. */
  const arrays = new Map<string, Set<number>>();

  for (const [name, value] of entries) {
    if (model.readOnlyPrefix !== undefined && name.startsWith(model.readOnlyPrefix)) continue;
    const parsed = parseName(name);
    const disposition = classify(model, name, parsed, value);
    if (!disposition.keep) continue;
    const text = disposition.value;

    for (const { path, normalizedPath, index } of parsed.arrays) {
      const cap = ARRAY_CAPS[normalizedPath] ?? 0;
      if (index >= cap) {
        throw invalid(name, 'too-many-entries', `${path} holds at most ${cap} entries (index ${index})`);
      }
      let seen = arrays.get(path);
      if (seen === undefined) {
        seen = new Set();
        arrays.set(path, seen);
      }
      seen.add(index);
    }

    if (text !== '') {
      const problem = disposition.check(text);
      if (problem !== undefined) {
        throw invalid(name, problem.reason, `${name}: expected ${problem.expected}`);
      }
    }
    kept[name] = text;
  }

  // Arrays are filled in order (SCORM refuses to skip an index): 0..count-1, no gaps.
  for (const [arrayPath, seen] of arrays) {
    for (let i = 0; i < seen.size; i++) {
      if (!seen.has(i)) {
        throw invalid(`${arrayPath}.${i}`, 'index-gap', `${arrayPath} skips index ${i}: entries must be numbered from 0 without gaps`);
      }
    }
  }

  const bytes = Buffer.byteLength(JSON.stringify(kept), 'utf8');
  if (bytes > CMI_LIMITS.serializedBytes) {
    throw invalid('cmi', 'too-large', `The CMI data takes ${bytes} bytes, more than the ${CMI_LIMITS.serializedBytes} allowed per SCO`);
  }
  return kept;
}

// ---------------------------------------------------------------------------------------
// evaluateSco
// ---------------------------------------------------------------------------------------

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

export interface ScoEvaluationContext {
  /** This commit ends the session (LMSFinish / Terminate). */
  terminated: boolean;
  /** The attempt is for credit (cmi.core.credit / cmi.credit = credit, normal mode). */
  credit: boolean;
}

export interface ScoEvaluation {
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

function evaluate12(
  input: CmiValues,
  rules: ScoItemRules,
  ctx: ScoEvaluationContext,
): ScoEvaluation {
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
    completionValue === 'completed' || completionValue === 'incomplete' || completionValue === 'not attempted'
      ? completionValue
      : 'unknown';
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
export function evaluateSco(
  family: ScormFamily,
  cmi: CmiValues,
  rules: ScoItemRules,
  ctx: ScoEvaluationContext,
): ScoEvaluation {
  return family === '1.2' ? evaluate12(cmi, rules, ctx) : evaluate2004(cmi, rules);
}
