import { parseIso8601Duration, parseScorm12Timespan } from '../duration.js';

/** The SCORM value types of the data model, as checks of one string value. */

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
export type Check = (value: string) => Problem | undefined;

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
export const text =
  (max: number): Check =>
  (v) =>
    tooLong(v, max);

/**
 * 1.2 CMIIdentifier. The spec says alphanumeric without spaces; scorm-again deliberately
 * accepts printable ASCII and whitespace (real content uses such ids), and we must not
 * refuse what the runtime accepted.
 */
const IDENTIFIER_12 = /^[\u0021-\u007E\s]*$/;
export const identifier12: Check = (v) =>
  IDENTIFIER_12.test(v) ? tooLong(v, 255) : { reason: 'bad-format', expected: 'an identifier of printable ASCII characters' };

/** 2004 long_identifier_type (SPM 4000): a URI in principle; we require one line. */
const LINE_BREAK = /[\r\n\u2028\u2029]/;
export const longIdentifier: Check = (v) => (LINE_BREAK.test(v) ? { reason: 'bad-format', expected: 'an identifier without line breaks' } : tooLong(v, 4000));

/** RFC 3066 language tag as SCORM 2004 language_type: primary 1-8 letters (or i / x), subtags 1-8 alphanumerics. */
const LANGUAGE_TAG = /^(?:[a-zA-Z]{1,8}|i|x)(?:-[a-zA-Z0-9]{1,8})*$/;
export const language: Check = (v) => (v === '' || LANGUAGE_TAG.test(v) ? tooLong(v, 250) : { reason: 'bad-format', expected: 'a language tag such as en-US' });

/** 2004 localized_string_type: an optional `{lang=xx}` prefix, then at most `max` characters. */
const LANG_PREFIX = /^\{lang=((?:[a-zA-Z]{1,8}|i|x)(?:-[a-zA-Z0-9]{1,8})*)?\}/;
export const localized =
  (max: number): Check =>
  (v) => {
    if (!v.startsWith('{lang=')) return tooLong(v, max);
    const m = LANG_PREFIX.exec(v);
    if (m === null) return { reason: 'bad-format', expected: 'a {lang=xx} prefix with a valid language tag' };
    return tooLong(v.slice(m[0].length), max);
  };

export function vocabulary(values: readonly string[]): Check {
  const set = new Set(values);
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return (v) => (set.has(v) ? undefined : { reason: 'not-in-vocabulary', expected });
}

/**
 * CMIDecimal (1.2) and real(10,7) (2004): an optional minus, up to 10 integer digits and
 * a fraction. A superset of what scorm-again accepts for either version; no exponents.
 */
const DECIMAL = /^-?(?:\d{1,10}(?:\.\d{0,30})?|\.\d{1,30})$/;
export function decimal(min?: number, max?: number): Check {
  const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` of at least ${min}` : '';
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
export function integer(min: number, max: number): Check {
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
export const timespan12 = fromParser(parseScorm12Timespan, 'a timespan HHHH:MM:SS.SS');
/** 2004 timeinterval (second,10,2), ISO 8601. */
export const timeinterval = fromParser(parseIso8601Duration, 'an ISO 8601 duration such as PT1H5M30.5S');

/** 1.2 CMITime: a time of day HH:MM:SS(.SS). */
const TIME_12 = /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,2})?$/;
export const time12: Check = (v) => (TIME_12.test(v) ? undefined : { reason: 'bad-format', expected: 'a time of day HH:MM:SS.SS' });

/**
 * 2004 time (second,10,0): YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]]. The spec bounds years to
 * 1970-2038 and fractions to 2 digits; scorm-again accepts up to 9999 and 6 digits, and so do we.
 */
const TIME_2004 =
  /^(?:19[7-9]\d|[2-9]\d{3})(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01])(?:T(?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d(?:\.\d{1,6}(?:Z|[+-](?:[01]\d|2[0-3])(?::[0-5]\d)?)?)?)?)?)?)?)?$/;
export const time2004: Check = (v) => (TIME_2004.test(v) ? undefined : { reason: 'bad-format', expected: 'an ISO 8601 time such as 2024-03-01T10:15:30.5Z' });

export function oneOf(...checks: readonly Check[]): (expected: string) => Check {
  return (expected) => (v) => (checks.some((c) => c(v) === undefined) ? undefined : { reason: 'bad-format', expected });
}
