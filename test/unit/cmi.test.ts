import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { evaluateSco, type ScoItemRules } from '../../src/scorm/cmi/evaluate.js';
import { CMI_ELEMENT, CMI_LIMITS, type ScormFamily } from '../../src/scorm/cmi/model.js';
import { validateCmi } from '../../src/scorm/cmi/validate.js';

interface Refusal {
  code: string;
  element: unknown;
  reason: unknown;
  message: string;
}

/** Runs validateCmi expecting a CMI_INVALID refusal; returns its code and details. */
function refusal(family: ScormFamily, input: unknown): Refusal {
  try {
    validateCmi(family, input);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, element: err.details?.element, reason: err.details?.reason, message: err.message };
  }
  throw new Error(`expected ${JSON.stringify(input).slice(0, 200)} to be refused`);
}

const repeat = (n: number, ch = 'a'): string => ch.repeat(n);
/** A test-name-friendly rendering of a value: long ones by their length. */
const show = (value: string): string => (value.length > 40 ? `<${[...value].length} × ${JSON.stringify(value[0])}…>` : JSON.stringify(value));
/** A character outside the BMP: one character, two UTF-16 units, four UTF-8 bytes. */
const EMOJI = '\u{1F600}';

// ---------------------------------------------------------------------------------------
// The data models, element by element
// ---------------------------------------------------------------------------------------

/** Every element a 1.2 SCO can write, as stored. */
const WRITABLE_12 = [
  'cmi.core.lesson_location',
  'cmi.core.lesson_status',
  'cmi.core.score.raw',
  'cmi.core.score.min',
  'cmi.core.score.max',
  'cmi.core.exit',
  'cmi.core.session_time',
  'cmi.suspend_data',
  'cmi.comments',
  'cmi.objectives.0.id',
  'cmi.objectives.0.score.raw',
  'cmi.objectives.0.score.min',
  'cmi.objectives.0.score.max',
  'cmi.objectives.0.status',
  'cmi.student_preference.audio',
  'cmi.student_preference.language',
  'cmi.student_preference.speed',
  'cmi.student_preference.text',
  'cmi.interactions.0.id',
  'cmi.interactions.0.objectives.0.id',
  'cmi.interactions.0.time',
  'cmi.interactions.0.type',
  'cmi.interactions.0.correct_responses.0.pattern',
  'cmi.interactions.0.weighting',
  'cmi.interactions.0.student_response',
  'cmi.interactions.0.result',
  'cmi.interactions.0.latency',
];

/** Every element a 2004 SCO can write, as stored. */
const WRITABLE_2004 = [
  'cmi.comments_from_learner.0.comment',
  'cmi.comments_from_learner.0.location',
  'cmi.comments_from_learner.0.timestamp',
  'cmi.completion_status',
  'cmi.exit',
  'cmi.interactions.0.id',
  'cmi.interactions.0.type',
  'cmi.interactions.0.objectives.0.id',
  'cmi.interactions.0.timestamp',
  'cmi.interactions.0.correct_responses.0.pattern',
  'cmi.interactions.0.weighting',
  'cmi.interactions.0.learner_response',
  'cmi.interactions.0.result',
  'cmi.interactions.0.latency',
  'cmi.interactions.0.description',
  'cmi.learner_preference.audio_level',
  'cmi.learner_preference.language',
  'cmi.learner_preference.delivery_speed',
  'cmi.learner_preference.audio_captioning',
  'cmi.location',
  'cmi.objectives.0.id',
  'cmi.objectives.0.score.scaled',
  'cmi.objectives.0.score.raw',
  'cmi.objectives.0.score.min',
  'cmi.objectives.0.score.max',
  'cmi.objectives.0.success_status',
  'cmi.objectives.0.completion_status',
  'cmi.objectives.0.progress_measure',
  'cmi.objectives.0.description',
  'cmi.progress_measure',
  'cmi.score.scaled',
  'cmi.score.raw',
  'cmi.score.min',
  'cmi.score.max',
  'cmi.session_time',
  'cmi.success_status',
  'cmi.suspend_data',
  'adl.nav.request',
];

/** Valid values, per element (boundaries included). */
const VALID_12: Array<[string, string]> = [
  ['cmi.core.lesson_location', 'page-3'],
  ['cmi.core.lesson_location', repeat(255)],
  ['cmi.core.lesson_location', repeat(255, EMOJI)],
  ...['passed', 'completed', 'failed', 'incomplete', 'browsed', 'not attempted'].map((v): [string, string] => ['cmi.core.lesson_status', v]),
  ['cmi.core.score.raw', '0'],
  ['cmi.core.score.raw', '100'],
  ['cmi.core.score.raw', '85.5'],
  ['cmi.core.score.raw', '33.333333333333336'],
  ['cmi.core.score.raw', '.5'],
  ['cmi.core.score.raw', '80.'],
  ['cmi.core.score.raw', '-0'],
  ['cmi.core.score.min', '0'],
  ['cmi.core.score.max', '100'],
  ['cmi.core.exit', 'time-out'],
  ['cmi.core.exit', 'suspend'],
  ['cmi.core.exit', 'logout'],
  ['cmi.core.session_time', '0000:00:00.0'],
  ['cmi.core.session_time', '00:05:30'],
  ['cmi.core.session_time', '9999:59:59.99'],
  ['cmi.suspend_data', repeat(4096)],
  ['cmi.suspend_data', repeat(64_000)],
  ['cmi.suspend_data', '{"a":[1,2,3]}\n\t'],
  ['cmi.comments', repeat(4096)],
  ['cmi.objectives.0.id', 'obj_1'],
  ['cmi.objectives.0.id', 'Objective 1.a (legacy id with spaces)'],
  ['cmi.objectives.0.id', repeat(255)],
  ['cmi.objectives.0.score.raw', '100'],
  ['cmi.objectives.0.status', 'passed'],
  ['cmi.objectives.0.status', 'not attempted'],
  ['cmi.student_preference.audio', '-1'],
  ['cmi.student_preference.audio', '0'],
  ['cmi.student_preference.audio', '100'],
  ['cmi.student_preference.language', 'fr-CA'],
  ['cmi.student_preference.speed', '-100'],
  ['cmi.student_preference.speed', '100'],
  ['cmi.student_preference.text', '-1'],
  ['cmi.student_preference.text', '1'],
  ['cmi.interactions.0.id', 'q1'],
  ['cmi.interactions.0.objectives.0.id', 'obj_1'],
  ['cmi.interactions.0.time', '00:00:00'],
  ['cmi.interactions.0.time', '23:59:59.99'],
  ['cmi.interactions.0.time', '12:30:05.5'],
  ...['true-false', 'choice', 'fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric'].map((v): [string, string] => [
    'cmi.interactions.0.type',
    v,
  ]),
  ['cmi.interactions.0.correct_responses.0.pattern', 'a,b'],
  ['cmi.interactions.0.correct_responses.0.pattern', repeat(4096)],
  ['cmi.interactions.0.weighting', '-2.5'],
  ['cmi.interactions.0.weighting', '1000'],
  ['cmi.interactions.0.student_response', 'the learner typed this'],
  ['cmi.interactions.0.student_response', repeat(4096)],
  ...['correct', 'wrong', 'unanticipated', 'neutral', '0.75', '-1', '42'].map((v): [string, string] => ['cmi.interactions.0.result', v]),
  ['cmi.interactions.0.latency', '00:00:12.5'],
];

const INVALID_12: Array<[string, string, string]> = [
  ['cmi.core.lesson_location', repeat(256), 'too-long'],
  ['cmi.core.lesson_location', repeat(256, EMOJI), 'too-long'],
  ['cmi.core.lesson_status', 'complete', 'not-in-vocabulary'],
  ['cmi.core.lesson_status', 'Passed', 'not-in-vocabulary'],
  ['cmi.core.lesson_status', 'unknown', 'not-in-vocabulary'],
  ['cmi.core.lesson_status', ' passed', 'not-in-vocabulary'],
  ['cmi.core.score.raw', '100.01', 'out-of-range'],
  ['cmi.core.score.raw', '101', 'out-of-range'],
  ['cmi.core.score.raw', '-1', 'out-of-range'],
  ['cmi.core.score.raw', '-0.001', 'out-of-range'],
  ['cmi.core.score.raw', 'eighty', 'bad-format'],
  ['cmi.core.score.raw', '1e2', 'bad-format'],
  ['cmi.core.score.raw', '80%', 'bad-format'],
  ['cmi.core.score.raw', '8,5', 'bad-format'],
  ['cmi.core.score.raw', '.', 'bad-format'],
  ['cmi.core.score.raw', '-', 'bad-format'],
  ['cmi.core.score.raw', ' 80', 'bad-format'],
  ['cmi.core.score.raw', 'NaN', 'bad-format'],
  ['cmi.core.score.raw', 'Infinity', 'bad-format'],
  ['cmi.core.score.max', '200', 'out-of-range'],
  ['cmi.core.score.min', '-5', 'out-of-range'],
  ['cmi.core.exit', 'normal', 'not-in-vocabulary'],
  ['cmi.core.exit', 'Suspend', 'not-in-vocabulary'],
  ['cmi.core.session_time', '10000:00:00', 'bad-format'],
  ['cmi.core.session_time', '0:05:30', 'bad-format'],
  ['cmi.core.session_time', '00:60:00', 'bad-format'],
  ['cmi.core.session_time', 'PT5M', 'bad-format'],
  ['cmi.core.session_time', '00:00:00.123', 'bad-format'],
  ['cmi.suspend_data', repeat(64_001), 'too-long'],
  ['cmi.comments', repeat(4097), 'too-long'],
  ['cmi.objectives.0.id', repeat(256), 'too-long'],
  ['cmi.objectives.0.id', 'caf\u00e9', 'bad-format'],
  ['cmi.objectives.0.score.raw', '150', 'out-of-range'],
  ['cmi.objectives.0.status', 'unknown', 'not-in-vocabulary'],
  ['cmi.student_preference.audio', '-2', 'out-of-range'],
  ['cmi.student_preference.audio', '101', 'out-of-range'],
  ['cmi.student_preference.audio', '50.5', 'bad-format'],
  ['cmi.student_preference.audio', 'loud', 'bad-format'],
  ['cmi.student_preference.language', repeat(256), 'too-long'],
  ['cmi.student_preference.speed', '-101', 'out-of-range'],
  ['cmi.student_preference.speed', '101', 'out-of-range'],
  ['cmi.student_preference.text', '2', 'out-of-range'],
  ['cmi.student_preference.text', '-2', 'out-of-range'],
  ['cmi.interactions.0.id', repeat(256), 'too-long'],
  ['cmi.interactions.0.objectives.0.id', '\u00e9', 'bad-format'],
  ['cmi.interactions.0.time', '24:00:00', 'bad-format'],
  ['cmi.interactions.0.time', '1:00:00', 'bad-format'],
  ['cmi.interactions.0.time', '2024-01-01T10:00:00', 'bad-format'],
  ['cmi.interactions.0.type', 'long-fill-in', 'not-in-vocabulary'],
  ['cmi.interactions.0.type', 'other', 'not-in-vocabulary'],
  ['cmi.interactions.0.correct_responses.0.pattern', repeat(4097), 'too-long'],
  ['cmi.interactions.0.weighting', 'heavy', 'bad-format'],
  ['cmi.interactions.0.student_response', repeat(4097), 'too-long'],
  ['cmi.interactions.0.result', 'incorrect', 'bad-format'],
  ['cmi.interactions.0.result', 'right', 'bad-format'],
  ['cmi.interactions.0.latency', 'PT12S', 'bad-format'],
];

const VALID_2004: Array<[string, string]> = [
  ['cmi.comments_from_learner.0.comment', 'Great course'],
  ['cmi.comments_from_learner.0.comment', `{lang=en-US}${repeat(4000)}`],
  ['cmi.comments_from_learner.0.comment', repeat(4000)],
  ['cmi.comments_from_learner.0.comment', '{lang=}no language'],
  ['cmi.comments_from_learner.0.location', repeat(250)],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15:30.5Z'],
  ['cmi.comments_from_learner.0.timestamp', '2024'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15:30'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15:30.25+02:00'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15:30.123456-05'],
  ['cmi.comments_from_learner.0.timestamp', '1970-01-01T00:00:00.0Z'],
  ...['completed', 'incomplete', 'not attempted', 'unknown'].map((v): [string, string] => ['cmi.completion_status', v]),
  ...['time-out', 'suspend', 'logout', 'normal'].map((v): [string, string] => ['cmi.exit', v]),
  ['cmi.interactions.0.id', 'urn:example:q1'],
  ['cmi.interactions.0.id', 'question 1 (spaces are common)'],
  ['cmi.interactions.0.id', repeat(4000)],
  ...['true-false', 'choice', 'fill-in', 'long-fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric', 'other'].map((v): [string, string] => [
    'cmi.interactions.0.type',
    v,
  ]),
  ['cmi.interactions.0.objectives.0.id', 'obj-1'],
  ['cmi.interactions.0.timestamp', '2024-03-01T10:15:30'],
  ['cmi.interactions.0.correct_responses.0.pattern', '{case_matters=true}{lang=en}Paris[,]London'],
  ['cmi.interactions.0.correct_responses.0.pattern', repeat(64_000)],
  ['cmi.interactions.0.weighting', '1.5'],
  ['cmi.interactions.0.weighting', '-10'],
  ['cmi.interactions.0.learner_response', 'a[,]b'],
  ['cmi.interactions.0.learner_response', repeat(64_000)],
  ...['correct', 'incorrect', 'unanticipated', 'neutral', '0.5', '-3', '1234567890.1234567'].map((v): [string, string] => ['cmi.interactions.0.result', v]),
  ['cmi.interactions.0.latency', 'PT1M30S'],
  ['cmi.interactions.0.description', '{lang=fr}Quelle est la capitale ?'],
  ['cmi.interactions.0.description', repeat(250)],
  ['cmi.learner_preference.audio_level', '0'],
  ['cmi.learner_preference.audio_level', '2.5'],
  ['cmi.learner_preference.language', 'en'],
  ['cmi.learner_preference.language', 'zh-Hant-TW'],
  ['cmi.learner_preference.language', 'x-klingon'],
  ['cmi.learner_preference.delivery_speed', '1'],
  ['cmi.learner_preference.delivery_speed', '0.75'],
  ['cmi.learner_preference.audio_captioning', '-1'],
  ['cmi.learner_preference.audio_captioning', '0'],
  ['cmi.learner_preference.audio_captioning', '1'],
  ['cmi.location', repeat(1000)],
  ['cmi.location', repeat(1000, EMOJI)],
  ['cmi.objectives.0.id', 'obj-1'],
  ['cmi.objectives.0.score.scaled', '-1'],
  ['cmi.objectives.0.score.scaled', '1'],
  ['cmi.objectives.0.score.raw', '-500'],
  ['cmi.objectives.0.score.raw', '9999999999'],
  ['cmi.objectives.0.score.min', '-10'],
  ['cmi.objectives.0.score.max', '250'],
  ['cmi.objectives.0.success_status', 'unknown'],
  ['cmi.objectives.0.completion_status', 'not attempted'],
  ['cmi.objectives.0.progress_measure', '0'],
  ['cmi.objectives.0.progress_measure', '1'],
  ['cmi.objectives.0.description', '{lang=de}Ziel'],
  ['cmi.progress_measure', '0.5'],
  ['cmi.progress_measure', '1.0000000'],
  ['cmi.score.scaled', '-1'],
  ['cmi.score.scaled', '0'],
  ['cmi.score.scaled', '1'],
  ['cmi.score.scaled', '0.8765432'],
  ['cmi.score.raw', '150'],
  ['cmi.score.raw', '-20'],
  ['cmi.score.min', '0'],
  ['cmi.score.max', '200'],
  ['cmi.session_time', 'PT0H0M0S'],
  ['cmi.session_time', 'PT1H30M'],
  ['cmi.session_time', 'P1DT0.5S'],
  ['cmi.session_time', 'PT0.01S'],
  ...['passed', 'failed', 'unknown'].map((v): [string, string] => ['cmi.success_status', v]),
  ['cmi.suspend_data', repeat(64_000)],
  ...['continue', 'previous', 'exit', 'exitAll', 'abandon', 'abandonAll', 'suspendAll', '_none_', '{target=sco-2}choice', '{target=intro_1}jump'].map(
    (v): [string, string] => ['adl.nav.request', v],
  ),
];

const INVALID_2004: Array<[string, string, string]> = [
  ['cmi.comments_from_learner.0.comment', repeat(4001), 'too-long'],
  ['cmi.comments_from_learner.0.comment', `{lang=en}${repeat(4001)}`, 'too-long'],
  ['cmi.comments_from_learner.0.comment', '{lang=not_a_tag}text', 'bad-format'],
  ['cmi.comments_from_learner.0.location', repeat(251), 'too-long'],
  ['cmi.comments_from_learner.0.timestamp', '1969-12-31T23:59:59', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', '2024-13-01', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', '2024-02-00', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T24:00:00', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01 10:15:30', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', '2024-03-01T10:15:30Z', 'bad-format'],
  ['cmi.comments_from_learner.0.timestamp', 'yesterday', 'bad-format'],
  ['cmi.completion_status', 'passed', 'not-in-vocabulary'],
  ['cmi.completion_status', 'browsed', 'not-in-vocabulary'],
  ['cmi.exit', 'finished', 'not-in-vocabulary'],
  ['cmi.interactions.0.id', repeat(4001), 'too-long'],
  ['cmi.interactions.0.id', 'q\n1', 'bad-format'],
  ['cmi.interactions.0.type', 'essay', 'not-in-vocabulary'],
  ['cmi.interactions.0.objectives.0.id', repeat(4001), 'too-long'],
  ['cmi.interactions.0.timestamp', '10:15:30', 'bad-format'],
  ['cmi.interactions.0.correct_responses.0.pattern', repeat(64_001), 'too-long'],
  ['cmi.interactions.0.weighting', '12345678901', 'bad-format'],
  ['cmi.interactions.0.learner_response', repeat(64_001), 'too-long'],
  ['cmi.interactions.0.result', 'wrong', 'bad-format'],
  ['cmi.interactions.0.latency', '00:01:30', 'bad-format'],
  ['cmi.interactions.0.latency', 'PT', 'bad-format'],
  ['cmi.interactions.0.description', repeat(251), 'too-long'],
  ['cmi.learner_preference.audio_level', '-0.1', 'out-of-range'],
  ['cmi.learner_preference.language', 'english language', 'bad-format'],
  ['cmi.learner_preference.language', 'en_US', 'bad-format'],
  ['cmi.learner_preference.delivery_speed', '-1', 'out-of-range'],
  ['cmi.learner_preference.audio_captioning', '2', 'out-of-range'],
  ['cmi.learner_preference.audio_captioning', 'on', 'bad-format'],
  ['cmi.location', repeat(1001), 'too-long'],
  ['cmi.location', repeat(1001, EMOJI), 'too-long'],
  ['cmi.objectives.0.id', 'a\r\nb', 'bad-format'],
  ['cmi.objectives.0.score.scaled', '1.0000001', 'out-of-range'],
  ['cmi.objectives.0.score.scaled', '-1.5', 'out-of-range'],
  ['cmi.objectives.0.success_status', 'completed', 'not-in-vocabulary'],
  ['cmi.objectives.0.completion_status', 'passed', 'not-in-vocabulary'],
  ['cmi.objectives.0.progress_measure', '1.01', 'out-of-range'],
  ['cmi.objectives.0.progress_measure', '-0.01', 'out-of-range'],
  ['cmi.objectives.0.description', repeat(251), 'too-long'],
  ['cmi.progress_measure', '2', 'out-of-range'],
  ['cmi.progress_measure', 'half', 'bad-format'],
  ['cmi.score.scaled', '1.1', 'out-of-range'],
  ['cmi.score.scaled', '-1.0001', 'out-of-range'],
  ['cmi.score.scaled', '80%', 'bad-format'],
  ['cmi.score.raw', '1e3', 'bad-format'],
  ['cmi.session_time', 'PT', 'bad-format'],
  ['cmi.session_time', 'P', 'bad-format'],
  ['cmi.session_time', '-PT1H', 'bad-format'],
  ['cmi.session_time', 'PT1.5H', 'bad-format'],
  ['cmi.session_time', 'P1W', 'bad-format'],
  ['cmi.session_time', '00:10:00', 'bad-format'],
  ['cmi.success_status', 'completed', 'not-in-vocabulary'],
  ['cmi.suspend_data', repeat(64_001), 'too-long'],
  ['adl.nav.request', 'start', 'not-in-vocabulary'],
  ['adl.nav.request', 'choice', 'not-in-vocabulary'],
  ['adl.nav.request', '{target=}choice', 'not-in-vocabulary'],
  ['adl.nav.request', '{target=a b}choice', 'not-in-vocabulary'],
  ['adl.nav.request', '{target=x}retry', 'not-in-vocabulary'],
  ['adl.nav.request', 'Continue', 'not-in-vocabulary'],
];

describe.each([
  ['1.2', VALID_12, INVALID_12, WRITABLE_12],
  ['2004', VALID_2004, INVALID_2004, WRITABLE_2004],
] as const)('validateCmi %s: values', (family, valid, invalid, writable) => {
  it.each(valid.map(([element, value]) => [element, show(value), value] as const))('keeps %s = %s', (element, _shown, value) => {
    expect(validateCmi(family, { [element]: value })).toEqual({ [element]: value });
  });

  it.each(invalid.map(([element, value, reason]) => [element, show(value), reason, value] as const))(
    'refuses %s = %s (%s)',
    (element, _shown, reason, value) => {
      const r = refusal(family, { [element]: value });
      expect(r).toMatchObject({ code: 'CMI_INVALID', element, reason });
      expect(r.message).toContain(element);
    },
  );

  it.each(writable)('accepts an empty (unset) %s', (element) => {
    expect(validateCmi(family, { [element]: '' })).toEqual({ [element]: '' });
  });

  it('keeps every writable element at once', () => {
    const input = Object.fromEntries(writable.map((e) => [e, '']));
    expect(validateCmi(family, input)).toEqual(input);
  });

  it.each(writable)('refuses a non-string value for %s', (element) => {
    for (const value of [80, true, null, ['x'], { a: 1 }]) {
      expect(refusal(family, { [element]: value })).toMatchObject({ element, reason: 'not-a-string' });
    }
  });
});

// ---------------------------------------------------------------------------------------
// Names: read-only, keywords, unknown
// ---------------------------------------------------------------------------------------

describe('validateCmi: element names', () => {
  it.each([
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
    'cmi.core._children',
    'cmi.core.score._children',
    'cmi.objectives._children',
    'cmi.objectives._count',
    'cmi.objectives.0.score._children',
    'cmi.interactions._children',
    'cmi.interactions._count',
    'cmi.interactions.0.objectives._count',
    'cmi.interactions.0.correct_responses._count',
    'cmi.student_data._children',
    'cmi.student_preference._children',
  ])('1.2 drops the read-only %s', (element) => {
    expect(validateCmi('1.2', { [element]: 'anything', 'cmi.core.lesson_status': 'incomplete' })).toEqual({
      'cmi.core.lesson_status': 'incomplete',
    });
  });

  it.each([
    'cmi._version',
    'cmi.comments_from_lms.0.comment',
    'cmi.comments_from_lms.3.location',
    'cmi.comments_from_lms.0.timestamp',
    'cmi.comments_from_lms._count',
    'cmi.comments_from_lms._children',
    'cmi.comments_from_learner._count',
    'cmi.completion_threshold',
    'cmi.credit',
    'cmi.entry',
    'cmi.launch_data',
    'cmi.learner_id',
    'cmi.learner_name',
    'cmi.learner_preference._children',
    'cmi.max_time_allowed',
    'cmi.mode',
    'cmi.objectives._count',
    'cmi.scaled_passing_score',
    'cmi.score._children',
    'cmi.time_limit_action',
    'cmi.total_time',
    'adl.nav.request_valid.continue',
    'adl.nav.request_valid.previous',
    'adl.nav.request_valid.choice.{target=sco.1}',
    'adl.nav.request_valid.jump.{target=x}',
  ])('2004 drops the read-only %s', (element) => {
    expect(validateCmi('2004', { [element]: 'anything', 'cmi.completion_status': 'incomplete' })).toEqual({
      'cmi.completion_status': 'incomplete',
    });
  });

  it('drops read-only elements whatever their value', () => {
    expect(validateCmi('1.2', { 'cmi.core.total_time': null, 'cmi.core.student_id': 7 })).toEqual({});
  });

  it.each([
    ['1.2', 'cmi.interactions.0.objectives'],
    ['1.2', 'cmi.interactions.0.correct_responses'],
    ['1.2', 'cmi.objectives'],
    ['1.2', 'cmi.core'],
    ['2004', 'cmi.comments_from_learner'],
    ['2004', 'cmi.comments_from_lms'],
    ['2004', 'cmi.objectives'],
    ['2004', 'cmi.interactions.2.correct_responses'],
  ] as const)('%s drops the empty container %s that scorm-again exports as {}', (family, element) => {
    expect(validateCmi(family, { [element]: {} })).toEqual({});
  });

  it.each([
    ['1.2', 'cmi.objectives', 'x', 'unknown-element'],
    ['1.2', 'cmi.objectives', { 0: {} }, 'unknown-element'],
    ['1.2', 'cmi.nothing', {}, 'unknown-element'],
  ] as const)('%s refuses the container %s with a value other than {}', (family, element, value, reason) => {
    expect(refusal(family, { [element]: value })).toMatchObject({ element, reason });
  });

  it.each([
    // names from the other version
    ['1.2', 'cmi.completion_status'],
    ['1.2', 'cmi.location'],
    ['1.2', 'cmi.score.raw'],
    ['1.2', 'cmi.session_time'],
    ['1.2', 'cmi.interactions.0.learner_response'],
    ['1.2', 'cmi.interactions.0.description'],
    ['1.2', 'cmi.comments_from_learner.0.comment'],
    ['1.2', 'adl.nav.request'],
    ['2004', 'cmi.core.lesson_status'],
    ['2004', 'cmi.core.score.raw'],
    ['2004', 'cmi.comments'],
    ['2004', 'cmi.interactions.0.student_response'],
    ['2004', 'cmi.student_preference.audio'],
    // made up, misspelled, wrong shape
    ['1.2', 'cmi.core.lesson_statuss'],
    ['1.2', 'cmi.core.score'],
    ['1.2', 'cmi.core.score.raw.x'],
    ['1.2', 'cmi.objectives.id'],
    ['1.2', 'cmi.objectives.x.id'],
    ['1.2', 'cmi.objectives.-1.id'],
    ['1.2', 'cmi.objectives.1.5.id'],
    ['1.2', 'cmi.core.0'],
    ['1.2', 'cmi.interactions[0].id'],
    ['1.2', 'CMI.core.lesson_status'],
    ['1.2', ''],
    ['1.2', 'cmi'],
    ['1.2', '__proto__'],
    ['1.2', 'constructor'],
    ['1.2', 'cmi.core.lesson_status '],
    ['1.2', 'cmi.nothing._count'],
    ['2004', 'adl.data.0.store'],
    ['2004', 'adl.nav.request_validity'],
    ['2004', 'cmi.interactions.0.objectives.0.description'],
  ] as const)('%s refuses the unknown element %j', (family, element) => {
    expect(refusal(family, { [element]: '' })).toMatchObject({ code: 'CMI_INVALID', element, reason: 'unknown-element' });
  });

  it('refuses a parsed __proto__ key instead of touching the prototype', () => {
    const input: unknown = JSON.parse('{"__proto__": {"polluted": "yes"}}');
    expect(refusal('1.2', input)).toMatchObject({ element: '__proto__', reason: 'unknown-element' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([null, undefined, 'cmi.core.lesson_status=passed', 42, ['cmi.core.lesson_status']])('refuses %j as a whole', (input) => {
    expect(refusal('2004', input)).toMatchObject({ element: 'cmi', reason: 'not-an-object' });
  });

  it('accepts an empty map', () => {
    expect(validateCmi('1.2', {})).toEqual({});
    expect(validateCmi('2004', {})).toEqual({});
  });

  it('reports the first problem in input order', () => {
    const r = refusal('1.2', {
      'cmi.core.lesson_status': 'passed',
      'cmi.core.score.raw': '120',
      'cmi.core.nope': 'x',
    });
    expect(r).toMatchObject({ element: 'cmi.core.score.raw', reason: 'out-of-range' });
  });
});

// ---------------------------------------------------------------------------------------
// Arrays and size
// ---------------------------------------------------------------------------------------

function interactions(count: number, family: ScormFamily): Record<string, string> {
  const response = family === '1.2' ? 'student_response' : 'learner_response';
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    out[`cmi.interactions.${i}.id`] = `q${i}`;
    out[`cmi.interactions.${i}.${response}`] = 'a';
  }
  return out;
}

describe('validateCmi: array indexes', () => {
  it.each([
    ['1.2', 'cmi.objectives.01.id'],
    ['1.2', 'cmi.interactions.00.id'],
    ['2004', 'cmi.interactions.0.objectives.007.id'],
    ['2004', 'cmi.comments_from_learner.01.comment'],
  ] as const)('%s refuses the index with leading zeros in %s', (family, element) => {
    expect(refusal(family, { [element]: 'x' })).toMatchObject({ element, reason: 'bad-index' });
  });

  it.each([
    ['1.2', 'cmi.objectives', 'cmi.objectives.N.id', CMI_LIMITS.objectives],
    ['2004', 'cmi.objectives', 'cmi.objectives.N.id', CMI_LIMITS.objectives],
    ['1.2', 'cmi.interactions', 'cmi.interactions.N.id', CMI_LIMITS.interactions],
    ['2004', 'cmi.interactions', 'cmi.interactions.N.id', CMI_LIMITS.interactions],
    ['2004', 'cmi.comments_from_learner', 'cmi.comments_from_learner.N.comment', CMI_LIMITS.commentsFromLearner],
    ['1.2', 'cmi.interactions.0.objectives', 'cmi.interactions.0.objectives.N.id', CMI_LIMITS.perInteraction],
    ['2004', 'cmi.interactions.0.objectives', 'cmi.interactions.0.objectives.N.id', CMI_LIMITS.perInteraction],
    ['1.2', 'cmi.interactions.0.correct_responses', 'cmi.interactions.0.correct_responses.N.pattern', CMI_LIMITS.perInteraction],
    ['2004', 'cmi.interactions.0.correct_responses', 'cmi.interactions.0.correct_responses.N.pattern', CMI_LIMITS.perInteraction],
  ] as const)('%s caps %s at %s entries', (family, _array, template, cap) => {
    const full = Object.fromEntries(Array.from({ length: cap }, (_, i) => [template.replace('N', String(i)), 'x']));
    expect(Object.keys(validateCmi(family, full))).toHaveLength(cap);
    const element = template.replace('N', String(cap));
    expect(refusal(family, { ...full, [element]: 'x' })).toMatchObject({ element, reason: 'too-many-entries' });
  });

  it('refuses a huge index without allocating anything', () => {
    const element = 'cmi.interactions.99999999999999999999.id';
    expect(refusal('2004', { [element]: 'x' })).toMatchObject({ element, reason: 'too-many-entries' });
  });

  it.each([
    ['1.2', { 'cmi.objectives.1.id': 'b' }, 'cmi.objectives.0'],
    ['1.2', { 'cmi.objectives.0.id': 'a', 'cmi.objectives.2.id': 'c' }, 'cmi.objectives.1'],
    ['2004', { 'cmi.interactions.0.id': 'q0', 'cmi.interactions.0.objectives.1.id': 'o' }, 'cmi.interactions.0.objectives.0'],
    ['2004', { 'cmi.comments_from_learner.3.comment': 'x' }, 'cmi.comments_from_learner.0'],
  ] as const)('%s refuses a gap in the indexes of %j', (family, input, element) => {
    expect(refusal(family, input)).toMatchObject({ element, reason: 'index-gap' });
  });

  it('accepts indexes in any key order and nested arrays per entry', () => {
    const input = {
      'cmi.interactions.1.id': 'q1',
      'cmi.interactions.0.id': 'q0',
      'cmi.interactions.1.correct_responses.1.pattern': 'b',
      'cmi.interactions.1.correct_responses.0.pattern': 'a',
      'cmi.interactions.0.objectives.0.id': 'o0',
    };
    expect(validateCmi('2004', input)).toEqual(input);
  });

  it('counts indexes of dropped read-only arrays for nothing', () => {
    expect(validateCmi('2004', { 'cmi.comments_from_lms.5.comment': 'x' })).toEqual({});
  });
});

describe('validateCmi: total size', () => {
  it(`refuses a map whose JSON exceeds ${CMI_LIMITS.serializedBytes} bytes`, () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 4; i++) big[`cmi.interactions.${i}.learner_response`] = repeat(64_000);
    expect(validateCmi('2004', big)).toEqual(big);
    big['cmi.suspend_data'] = repeat(64_000);
    expect(refusal('2004', big)).toMatchObject({ element: 'cmi', reason: 'too-large' });
  });

  it('counts UTF-8 bytes, not characters', () => {
    const response = { 'cmi.interactions.0.learner_response': repeat(7000) };
    // 64000 ASCII characters and 7000 more fit easily ...
    expect(() => validateCmi('2004', { 'cmi.suspend_data': repeat(64_000), ...response })).not.toThrow();
    // ... 64000 four-byte characters alone fit (256000 bytes), but not with 7000 more.
    expect(() => validateCmi('2004', { 'cmi.suspend_data': repeat(64_000, EMOJI) })).not.toThrow();
    expect(refusal('2004', { 'cmi.suspend_data': repeat(64_000, EMOJI), ...response })).toMatchObject({
      element: 'cmi',
      reason: 'too-large',
    });
  });

  it(`refuses more than ${CMI_LIMITS.keys} keys before looking at them`, () => {
    const input = Object.fromEntries(Array.from({ length: CMI_LIMITS.keys + 1 }, (_, i) => [`x${i}`, '']));
    expect(refusal('1.2', input)).toMatchObject({ element: 'cmi', reason: 'too-large' });
  });
});

// ---------------------------------------------------------------------------------------
// What scorm-again really sends (dataCommitFormat: 'flattened')
// ---------------------------------------------------------------------------------------

describe('validateCmi: scorm-again commits', () => {
  it('1.2: keeps the writable elements of a flattened terminate commit', () => {
    const commit = {
      'cmi.suspend_data': '',
      'cmi.launch_data': '',
      'cmi.comments': '',
      'cmi.comments_from_lms': '',
      'cmi.core.student_id': 'learner-1',
      'cmi.core.student_name': 'Doe, Jane',
      'cmi.core.lesson_location': '',
      'cmi.core.credit': 'credit',
      'cmi.core.lesson_status': 'incomplete',
      'cmi.core.entry': '',
      'cmi.core.lesson_mode': 'normal',
      'cmi.core.exit': '',
      'cmi.core.session_time': '00:00:00',
      'cmi.core.score.raw': '',
      'cmi.core.score.min': '',
      'cmi.core.score.max': '100',
      'cmi.core.total_time': '00:00:00',
      'cmi.objectives.0.id': 'o1',
      'cmi.objectives.0.status': '',
      'cmi.objectives.0.score.raw': '',
      'cmi.objectives.0.score.min': '',
      'cmi.objectives.0.score.max': '100',
      'cmi.student_data.mastery_score': '',
      'cmi.student_data.max_time_allowed': '',
      'cmi.student_data.time_limit_action': '',
      'cmi.student_preference.audio': '',
      'cmi.student_preference.language': '',
      'cmi.student_preference.speed': '',
      'cmi.student_preference.text': '',
      'cmi.interactions.0.id': 'q1',
      'cmi.interactions.0.time': '',
      'cmi.interactions.0.type': '',
      'cmi.interactions.0.weighting': '',
      'cmi.interactions.0.student_response': '',
      'cmi.interactions.0.result': '',
      'cmi.interactions.0.latency': '',
      'cmi.interactions.0.objectives': {},
      'cmi.interactions.0.correct_responses': {},
    };
    const kept = validateCmi('1.2', commit);
    expect(Object.keys(kept).sort()).toEqual(
      [
        'cmi.suspend_data',
        'cmi.comments',
        'cmi.core.lesson_location',
        'cmi.core.lesson_status',
        'cmi.core.exit',
        'cmi.core.session_time',
        'cmi.core.score.raw',
        'cmi.core.score.min',
        'cmi.core.score.max',
        'cmi.objectives.0.id',
        'cmi.objectives.0.status',
        'cmi.objectives.0.score.raw',
        'cmi.objectives.0.score.min',
        'cmi.objectives.0.score.max',
        'cmi.student_preference.audio',
        'cmi.student_preference.language',
        'cmi.student_preference.speed',
        'cmi.student_preference.text',
        'cmi.interactions.0.id',
        'cmi.interactions.0.time',
        'cmi.interactions.0.type',
        'cmi.interactions.0.weighting',
        'cmi.interactions.0.student_response',
        'cmi.interactions.0.result',
        'cmi.interactions.0.latency',
      ].sort(),
    );
    expect(kept['cmi.core.lesson_status']).toBe('incomplete');
  });

  it('2004: keeps the writable elements of a flattened terminate commit', () => {
    const commit = {
      'cmi.comments_from_learner': {},
      'cmi.comments_from_lms': {},
      'cmi.completion_status': 'incomplete',
      'cmi.completion_threshold': '',
      'cmi.credit': 'credit',
      'cmi.entry': '',
      'cmi.exit': '',
      'cmi.interactions.0.id': 'q1',
      'cmi.interactions.0.type': 'choice',
      'cmi.interactions.0.objectives': {},
      'cmi.interactions.0.timestamp': '',
      'cmi.interactions.0.weighting': '',
      'cmi.interactions.0.learner_response': 'a[,]b',
      'cmi.interactions.0.result': '',
      'cmi.interactions.0.latency': '',
      'cmi.interactions.0.description': '',
      'cmi.interactions.0.correct_responses': {},
      'cmi.launch_data': '',
      'cmi.learner_id': 'learner-1',
      'cmi.learner_name': 'Jane Doe',
      'cmi.learner_preference.audio_level': '1',
      'cmi.learner_preference.language': '',
      'cmi.learner_preference.delivery_speed': '1',
      'cmi.learner_preference.audio_captioning': '0',
      'cmi.location': '',
      'cmi.max_time_allowed': '',
      'cmi.mode': 'normal',
      'cmi.objectives': {},
      'cmi.progress_measure': '',
      'cmi.scaled_passing_score': '',
      'cmi.score.scaled': '',
      'cmi.score.raw': '',
      'cmi.score.min': '',
      'cmi.score.max': '',
      'cmi.session_time': 'PT0H0M0S',
      'cmi.success_status': 'unknown',
      'cmi.suspend_data': '',
      'cmi.time_limit_action': 'continue,no message',
      'cmi.total_time': 'PT0S',
    };
    const kept = validateCmi('2004', commit);
    expect(kept).not.toHaveProperty('cmi.credit');
    expect(kept).not.toHaveProperty('cmi.total_time');
    expect(kept).not.toHaveProperty('cmi.objectives');
    expect(kept).toMatchObject({
      'cmi.completion_status': 'incomplete',
      'cmi.session_time': 'PT0H0M0S',
      'cmi.interactions.0.learner_response': 'a[,]b',
      'cmi.learner_preference.audio_level': '1',
    });
    expect(Object.keys(kept)).toHaveLength(23);
  });

  it('lets large but legal interaction sets through', () => {
    const input = interactions(CMI_LIMITS.interactions, '1.2');
    expect(validateCmi('1.2', input)).toEqual(input);
  });
});

// ---------------------------------------------------------------------------------------
// evaluateSco
// ---------------------------------------------------------------------------------------

const FINISH = { terminated: true, credit: true };
const COMMIT = { terminated: false, credit: true };
const FINISH_NO_CREDIT = { terminated: true, credit: false };

describe('evaluateSco 1.2: lesson_status rules', () => {
  it.each([
    // [stored status, rules, ctx, raw, resulting status, completion, success]
    [undefined, {}, FINISH, undefined, 'completed', 'completed', 'unknown'],
    ['', {}, FINISH, undefined, 'completed', 'completed', 'unknown'],
    ['not attempted', {}, FINISH, undefined, 'completed', 'completed', 'unknown'],
    ['not attempted', {}, FINISH_NO_CREDIT, undefined, 'completed', 'completed', 'unknown'],
    [undefined, {}, COMMIT, undefined, undefined, 'not attempted', 'unknown'],
    ['not attempted', {}, COMMIT, undefined, 'not attempted', 'not attempted', 'unknown'],
    ['incomplete', {}, FINISH, undefined, 'incomplete', 'incomplete', 'unknown'],
    ['incomplete', {}, COMMIT, undefined, 'incomplete', 'incomplete', 'unknown'],
    ['browsed', {}, FINISH, undefined, 'browsed', 'incomplete', 'unknown'],
    ['completed', {}, FINISH, undefined, 'completed', 'completed', 'unknown'],
    ['passed', {}, COMMIT, undefined, 'passed', 'completed', 'passed'],
    ['failed', {}, COMMIT, undefined, 'failed', 'completed', 'failed'],
    // mastery score decides on LMSFinish with credit, overriding what the SCO said
    ['completed', { masteryScore: 80 }, FINISH, '80', 'passed', 'completed', 'passed'],
    ['completed', { masteryScore: 80 }, FINISH, '79.99', 'failed', 'completed', 'failed'],
    ['incomplete', { masteryScore: 80 }, FINISH, '95', 'passed', 'completed', 'passed'],
    ['passed', { masteryScore: 80 }, FINISH, '50', 'failed', 'completed', 'failed'],
    ['failed', { masteryScore: 80 }, FINISH, '100', 'passed', 'completed', 'passed'],
    [undefined, { masteryScore: 0 }, FINISH, '0', 'passed', 'completed', 'passed'],
    ['not attempted', { masteryScore: 60 }, FINISH, '30', 'failed', 'completed', 'failed'],
    // ... but not before LMSFinish, not without credit, not without a raw score
    ['completed', { masteryScore: 80 }, COMMIT, '50', 'completed', 'completed', 'unknown'],
    ['completed', { masteryScore: 80 }, FINISH_NO_CREDIT, '50', 'completed', 'completed', 'unknown'],
    ['incomplete', { masteryScore: 80 }, FINISH, undefined, 'incomplete', 'incomplete', 'unknown'],
    ['incomplete', { masteryScore: 80 }, FINISH, '', 'incomplete', 'incomplete', 'unknown'],
    [undefined, { masteryScore: 80 }, FINISH, '', 'completed', 'completed', 'unknown'],
    [undefined, { masteryScore: 80 }, FINISH_NO_CREDIT, '95', 'completed', 'completed', 'unknown'],
    // a 2004 rule given to a 1.2 SCO is not a mastery score
    ['completed', { scaledPassingScore: 0.8 }, FINISH, '50', 'completed', 'completed', 'unknown'],
  ] as const)('%j with %j %j raw=%j → %j (%s, %s)', (stored, rules, ctx, raw, expected, completion, success) => {
    const cmi: Record<string, string> = {};
    if (stored !== undefined) cmi['cmi.core.lesson_status'] = stored;
    if (raw !== undefined) cmi['cmi.core.score.raw'] = raw;
    const result = evaluateSco('1.2', cmi, rules, ctx);
    expect(result.cmi['cmi.core.lesson_status']).toBe(expected);
    expect(result.state.completion).toBe(completion);
    expect(result.state.success).toBe(success);
  });

  it('is idempotent: evaluating the stored result again changes nothing', () => {
    const first = evaluateSco('1.2', { 'cmi.core.score.raw': '90' }, { masteryScore: 80 }, FINISH);
    expect(evaluateSco('1.2', first.cmi, { masteryScore: 80 }, FINISH)).toEqual(first);
  });

  it('does not modify its input', () => {
    const input = { 'cmi.core.lesson_status': 'not attempted' };
    evaluateSco('1.2', input, {}, FINISH);
    expect(input).toEqual({ 'cmi.core.lesson_status': 'not attempted' });
  });

  it('keeps every other element as it was', () => {
    const input = { 'cmi.suspend_data': 'x', 'cmi.interactions.0.id': 'q1', 'cmi.core.lesson_status': 'incomplete' };
    expect(evaluateSco('1.2', input, {}, FINISH).cmi).toEqual(input);
  });
});

describe('evaluateSco 1.2: scores, location, suspend', () => {
  it.each([
    // raw, min, max → state scores
    ['80', undefined, '100', { scoreRaw: 80, scoreMax: 100, scoreScaled: 0.8 }],
    ['40', '0', '50', { scoreRaw: 40, scoreMin: 0, scoreMax: 50, scoreScaled: 0.8 }],
    ['50', undefined, undefined, { scoreRaw: 50, scoreScaled: 0.5 }],
    ['100', undefined, undefined, { scoreRaw: 100, scoreScaled: 1 }],
    ['0', undefined, '100', { scoreRaw: 0, scoreMax: 100, scoreScaled: 0 }],
    ['90', undefined, '80', { scoreRaw: 90, scoreMax: 80, scoreScaled: 1 }],
    ['10', undefined, '0', { scoreRaw: 10, scoreMax: 0 }],
    ['33.333333333', undefined, '100', { scoreRaw: 33.333333333, scoreMax: 100, scoreScaled: 0.3333333 }],
    [undefined, '0', '100', { scoreMin: 0, scoreMax: 100 }],
    ['', '', '100', { scoreMax: 100 }],
  ] as const)('raw=%j min=%j max=%j → %j', (raw, min, max, expected) => {
    const cmi: Record<string, string> = { 'cmi.core.lesson_status': 'incomplete' };
    if (raw !== undefined) cmi['cmi.core.score.raw'] = raw;
    if (min !== undefined) cmi['cmi.core.score.min'] = min;
    if (max !== undefined) cmi['cmi.core.score.max'] = max;
    const { state } = evaluateSco('1.2', cmi, {}, COMMIT);
    const scores = {
      scoreRaw: state.scoreRaw,
      scoreMin: state.scoreMin,
      scoreMax: state.scoreMax,
      scoreScaled: state.scoreScaled,
    };
    expect(scores).toEqual({ scoreRaw: undefined, scoreMin: undefined, scoreMax: undefined, scoreScaled: undefined, ...expected });
  });

  it.each([
    ['suspend', true],
    ['', false],
    ['logout', false],
    ['time-out', false],
    [undefined, false],
  ] as const)('exit %j → suspended %s', (exit, suspended) => {
    const cmi: Record<string, string> = exit === undefined ? {} : { 'cmi.core.exit': exit };
    expect(evaluateSco('1.2', cmi, {}, COMMIT).state.suspended).toBe(suspended);
  });

  it('reports a non-empty lesson_location as the location', () => {
    expect(evaluateSco('1.2', { 'cmi.core.lesson_location': 'p7' }, {}, COMMIT).state.location).toBe('p7');
    expect(evaluateSco('1.2', { 'cmi.core.lesson_location': '' }, {}, COMMIT).state).not.toHaveProperty('location');
  });

  it('returns the exact state for a typical finish', () => {
    const result = evaluateSco(
      '1.2',
      {
        'cmi.core.lesson_status': 'completed',
        'cmi.core.score.raw': '85',
        'cmi.core.score.max': '100',
        'cmi.core.score.min': '0',
        'cmi.core.lesson_location': 'end',
        'cmi.core.exit': '',
      },
      { masteryScore: 80 },
      FINISH,
    );
    expect(result.state).toEqual({
      completion: 'completed',
      success: 'passed',
      scoreRaw: 85,
      scoreMin: 0,
      scoreMax: 100,
      scoreScaled: 0.85,
      location: 'end',
      suspended: false,
    });
    expect(result.cmi['cmi.core.lesson_status']).toBe('passed');
  });
});

describe('evaluateSco 2004: completion and success', () => {
  it.each([
    // [completion_status, progress_measure, completionThreshold, stored result, state]
    [undefined, undefined, undefined, undefined, 'unknown'],
    ['', undefined, undefined, '', 'unknown'],
    ['unknown', undefined, undefined, 'unknown', 'unknown'],
    ['not attempted', undefined, undefined, 'not attempted', 'not attempted'],
    ['incomplete', undefined, undefined, 'incomplete', 'incomplete'],
    ['completed', undefined, undefined, 'completed', 'completed'],
    ['incomplete', '0.8', 0.8, 'completed', 'completed'],
    ['incomplete', '1', 0.8, 'completed', 'completed'],
    ['completed', '0.79', 0.8, 'incomplete', 'incomplete'],
    [undefined, '0.9', 0.5, 'completed', 'completed'],
    ['unknown', '0', 0, 'completed', 'completed'],
    ['completed', '', 0.8, 'completed', 'completed'],
    ['incomplete', undefined, 0.8, 'incomplete', 'incomplete'],
    [undefined, undefined, 0.8, undefined, 'unknown'],
    ['completed', '0.1', undefined, 'completed', 'completed'],
  ] as const)('status %j, progress %j, threshold %j → %j (%s)', (status, progress, threshold, stored, completion) => {
    const cmi: Record<string, string> = {};
    if (status !== undefined) cmi['cmi.completion_status'] = status;
    if (progress !== undefined) cmi['cmi.progress_measure'] = progress;
    const rules: ScoItemRules = threshold === undefined ? {} : { completionThreshold: threshold };
    for (const ctx of [COMMIT, FINISH, FINISH_NO_CREDIT]) {
      const result = evaluateSco('2004', cmi, rules, ctx);
      expect(result.cmi['cmi.completion_status']).toBe(stored);
      expect(result.state.completion).toBe(completion);
    }
  });

  it.each([
    // [success_status, score.scaled, scaledPassingScore, stored result, state]
    [undefined, undefined, undefined, undefined, 'unknown'],
    ['unknown', undefined, undefined, 'unknown', 'unknown'],
    ['passed', undefined, undefined, 'passed', 'passed'],
    ['failed', undefined, undefined, 'failed', 'failed'],
    ['failed', '0.7', 0.7, 'passed', 'passed'],
    ['unknown', '0.95', 0.7, 'passed', 'passed'],
    ['passed', '0.69', 0.7, 'failed', 'failed'],
    [undefined, '-1', -1, 'passed', 'passed'],
    [undefined, '-0.5', 0, 'failed', 'failed'],
    ['passed', '', 0.7, 'passed', 'passed'],
    ['passed', undefined, 0.7, 'passed', 'passed'],
    [undefined, undefined, 0.7, undefined, 'unknown'],
    ['failed', '1', undefined, 'failed', 'failed'],
  ] as const)('status %j, scaled %j, passing %j → %j (%s)', (status, scaled, passing, stored, success) => {
    const cmi: Record<string, string> = {};
    if (status !== undefined) cmi['cmi.success_status'] = status;
    if (scaled !== undefined) cmi['cmi.score.scaled'] = scaled;
    const rules: ScoItemRules = passing === undefined ? {} : { scaledPassingScore: passing };
    for (const ctx of [COMMIT, FINISH, FINISH_NO_CREDIT]) {
      const result = evaluateSco('2004', cmi, rules, ctx);
      expect(result.cmi['cmi.success_status']).toBe(stored);
      expect(result.state.success).toBe(success);
    }
  });

  it('does not apply 1.2 rules: no default completion on Terminate, no mastery score', () => {
    const result = evaluateSco('2004', { 'cmi.score.raw': '95' }, { masteryScore: 80 }, FINISH);
    expect(result.cmi).toEqual({ 'cmi.score.raw': '95' });
    expect(result.state).toMatchObject({ completion: 'unknown', success: 'unknown' });
  });

  it('does not modify its input', () => {
    const input = { 'cmi.progress_measure': '1', 'cmi.completion_status': 'incomplete' };
    evaluateSco('2004', input, { completionThreshold: 0.5 }, FINISH);
    expect(input).toEqual({ 'cmi.progress_measure': '1', 'cmi.completion_status': 'incomplete' });
  });
});

describe('evaluateSco 2004: scores, location, suspend', () => {
  it.each([
    // scaled, raw, min, max → state scores
    ['0.8', '40', '0', '50', { scoreScaled: 0.8, scoreRaw: 40, scoreMin: 0, scoreMax: 50 }],
    ['0.25', '90', undefined, '100', { scoreScaled: 0.25, scoreRaw: 90, scoreMax: 100 }],
    [undefined, '40', '0', '50', { scoreScaled: 0.8, scoreRaw: 40, scoreMin: 0, scoreMax: 50 }],
    [undefined, '40', undefined, undefined, { scoreRaw: 40 }],
    [undefined, '40', undefined, '0', { scoreRaw: 40, scoreMax: 0 }],
    [undefined, '-20', undefined, '10', { scoreRaw: -20, scoreMax: 10, scoreScaled: -1 }],
    [undefined, '150', undefined, '100', { scoreRaw: 150, scoreMax: 100, scoreScaled: 1 }],
    ['-0.5', undefined, undefined, undefined, { scoreScaled: -0.5 }],
    ['', '', '', '', {}],
  ] as const)('scaled=%j raw=%j min=%j max=%j → %j', (scaled, raw, min, max, expected) => {
    const cmi: Record<string, string> = {};
    if (scaled !== undefined) cmi['cmi.score.scaled'] = scaled;
    if (raw !== undefined) cmi['cmi.score.raw'] = raw;
    if (min !== undefined) cmi['cmi.score.min'] = min;
    if (max !== undefined) cmi['cmi.score.max'] = max;
    const { state } = evaluateSco('2004', cmi, {}, COMMIT);
    const scores = {
      scoreRaw: state.scoreRaw,
      scoreMin: state.scoreMin,
      scoreMax: state.scoreMax,
      scoreScaled: state.scoreScaled,
    };
    expect(scores).toEqual({ scoreRaw: undefined, scoreMin: undefined, scoreMax: undefined, scoreScaled: undefined, ...expected });
  });

  it.each([
    [{ 'cmi.exit': 'suspend' }, true],
    [{ 'adl.nav.request': 'suspendAll' }, true],
    [{ 'cmi.exit': 'normal' }, false],
    [{ 'cmi.exit': '' }, false],
    [{ 'cmi.exit': 'logout', 'adl.nav.request': 'exitAll' }, false],
    [{}, false],
  ])('%j → suspended %s', (cmi, suspended) => {
    expect(evaluateSco('2004', cmi, {}, COMMIT).state.suspended).toBe(suspended);
  });

  it('reports cmi.location', () => {
    expect(evaluateSco('2004', { 'cmi.location': 'slide-4' }, {}, COMMIT).state.location).toBe('slide-4');
  });

  it('returns the exact state for a typical finish', () => {
    const result = evaluateSco(
      '2004',
      {
        'cmi.completion_status': 'incomplete',
        'cmi.progress_measure': '1',
        'cmi.success_status': 'unknown',
        'cmi.score.scaled': '0.9',
        'cmi.score.raw': '90',
        'cmi.score.min': '0',
        'cmi.score.max': '100',
        'cmi.exit': 'normal',
      },
      { completionThreshold: 1, scaledPassingScore: 0.8 },
      FINISH,
    );
    expect(result.state).toEqual({
      completion: 'completed',
      success: 'passed',
      scoreRaw: 90,
      scoreMin: 0,
      scoreMax: 100,
      scoreScaled: 0.9,
      suspended: false,
    });
    expect(result.cmi).toMatchObject({ 'cmi.completion_status': 'completed', 'cmi.success_status': 'passed' });
  });
});

describe('CMI_ELEMENT', () => {
  it('names only elements validateCmi accepts or drops as read-only', () => {
    for (const family of ['1.2', '2004'] as const) {
      for (const element of Object.values(CMI_ELEMENT[family])) {
        expect(() => validateCmi(family, { [element]: '' })).not.toThrow();
      }
    }
  });
});
