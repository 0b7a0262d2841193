import { describe, expect, it } from 'vitest';
import type { ScoState } from '../../src/scorm/cmi/evaluate.js';
import { addSessionTime, rollupAttempt, type RollupSco } from '../../src/scorm/rollup.js';

/** A launched SCO's state. */
function sco(state: Partial<ScoState>, scored = false): RollupSco {
  return { state: { completion: 'incomplete', success: 'unknown', suspended: false, ...state }, scored };
}
const notLaunched = (scored = false): RollupSco => ({ state: undefined, scored });

const completed = (more: Partial<ScoState> = {}, scored = false) => sco({ completion: 'completed', ...more }, scored);

describe('rollupAttempt: completion', () => {
  it.each<[string, RollupSco[], string]>([
    ['no SCOs', [], 'not attempted'],
    ['one SCO never launched', [notLaunched()], 'not attempted'],
    ['no SCO launched', [notLaunched(), notLaunched(true)], 'not attempted'],
    ['one SCO launched, reporting not attempted', [sco({ completion: 'not attempted' })], 'incomplete'],
    ['one SCO launched, status unknown', [sco({ completion: 'unknown' })], 'incomplete'],
    ['one SCO incomplete', [sco({ completion: 'incomplete' })], 'incomplete'],
    ['one SCO completed', [completed()], 'completed'],
    ['all SCOs completed', [completed(), completed(), completed()], 'completed'],
    ['one of three not launched', [completed(), notLaunched(), completed()], 'incomplete'],
    ['one of three incomplete', [completed(), sco({}), completed()], 'incomplete'],
    ['one of two unknown', [completed(), sco({ completion: 'unknown' })], 'incomplete'],
    ['completed with failure still completed', [completed({ success: 'failed' }, true)], 'completed'],
  ])('%s → %s', (_label, scos, completion) => {
    expect(rollupAttempt(scos).completion).toBe(completion);
  });
});

describe('rollupAttempt: success', () => {
  it.each<[string, RollupSco[], string]>([
    ['no SCOs', [], 'unknown'],
    ['the scored SCO passed', [completed({ success: 'passed' }, true)], 'passed'],
    ['the scored SCO failed', [completed({ success: 'failed' }, true)], 'failed'],
    ['the scored SCO unknown', [completed({}, true)], 'unknown'],
    ['the scored SCO never launched', [notLaunched(true)], 'unknown'],
    ['all scored SCOs passed, unscored ones ignored', [completed({ success: 'passed' }, true), completed(), completed({ success: 'passed' }, true)], 'passed'],
    ['one of two scored SCOs not yet passed', [completed({ success: 'passed' }, true), sco({}, true)], 'unknown'],
    ['one of two scored SCOs not launched', [completed({ success: 'passed' }, true), notLaunched(true)], 'unknown'],
    ['any failure fails, even among passes', [completed({ success: 'passed' }, true), completed({ success: 'failed' }, true)], 'failed'],
    ['an unscored SCO that failed fails the attempt', [completed({ success: 'passed' }, true), completed({ success: 'failed' })], 'failed'],
    ['no scored SCO, one passed', [completed({ success: 'passed' })], 'unknown'],
    ['no scored SCO, all passed', [completed({ success: 'passed' }), completed({ success: 'passed' })], 'unknown'],
  ])('%s → %s', (_label, scos, success) => {
    expect(rollupAttempt(scos).success).toBe(success);
  });
});

describe('rollupAttempt: score', () => {
  const full = { scoreRaw: 42, scoreMin: 0, scoreMax: 50, scoreScaled: 0.84 };

  it.each<[string, RollupSco[], Record<string, number>]>([
    ['no SCOs', [], {}],
    ['the single scored SCO: all its score fields', [completed(full, true), completed({ scoreScaled: 0.1 })], full],
    ['the single scored SCO without a score', [completed({}, true), completed({ scoreScaled: 0.1 })], {}],
    ['the single scored SCO never launched', [notLaunched(true), completed({ scoreScaled: 0.1 })], {}],
    ['the only SCO, not marked scored', [completed(full)], full],
    ['the only SCO, raw only', [completed({ scoreRaw: 7 })], { scoreRaw: 7 }],
    [
      'two scored SCOs: the mean of scaled scores',
      [completed({ scoreScaled: 0.8, scoreRaw: 80 }, true), completed({ scoreScaled: 0.6, scoreRaw: 6 }, true)],
      { scoreScaled: 0.7 },
    ],
    [
      'scored SCOs without a scaled score do not count',
      [completed({ scoreScaled: 0.8 }, true), completed({ scoreRaw: 10 }, true), notLaunched(true)],
      { scoreScaled: 0.8 },
    ],
    [
      'unscored SCOs do not count when some are scored',
      [completed({ scoreScaled: 0.8 }, true), completed({ scoreScaled: 0.2 }, true), completed({ scoreScaled: 0 })],
      { scoreScaled: 0.5 },
    ],
    [
      'no scored SCO: the mean over all that reported one',
      [completed({ scoreScaled: 1 }), completed({}), completed({ scoreScaled: 0.5 })],
      { scoreScaled: 0.75 },
    ],
    ['several SCOs, none reported', [completed(), completed()], {}],
    [
      'the mean is rounded to 7 decimals',
      [completed({ scoreScaled: 1 }, true), completed({ scoreScaled: 0 }, true), completed({ scoreScaled: 0 }, true)],
      { scoreScaled: 0.3333333 },
    ],
    ['negative scaled scores average too', [completed({ scoreScaled: -1 }, true), completed({ scoreScaled: 0.5 }, true)], { scoreScaled: -0.25 }],
  ])('%s', (_label, scos, expected) => {
    const { completion: _c, success: _s, ...score } = rollupAttempt(scos);
    expect(score).toEqual(expected);
  });
});

describe('rollupAttempt: whole results', () => {
  it('a single-SCO course passed with a score', () => {
    expect(rollupAttempt([completed({ success: 'passed', scoreRaw: 85, scoreMax: 100, scoreScaled: 0.85 }, true)])).toEqual({
      completion: 'completed',
      success: 'passed',
      scoreRaw: 85,
      scoreMax: 100,
      scoreScaled: 0.85,
    });
  });

  it('a course nobody opened', () => {
    expect(rollupAttempt([notLaunched(true), notLaunched()])).toEqual({ completion: 'not attempted', success: 'unknown' });
  });
});

describe('addSessionTime', () => {
  it.each<[number, string | undefined, '1.2' | '2004', number]>([
    [0, '00:01:30', '1.2', 90_000],
    [1000, '0000:00:00.5', '1.2', 1500],
    [5000, '00:00:00', '1.2', 5000],
    [0, 'PT1H30M', '2004', 5_400_000],
    [250, 'PT0.01S', '2004', 260],
    [0, 'P1DT0.5S', '2004', 86_400_500],
    [7, undefined, '1.2', 7],
    [7, '', '1.2', 7],
    [7, undefined, '2004', 7],
    [7, '', '2004', 7],
  ])('%d + %j (%s) → %d', (total, session, family, expected) => {
    expect(addSessionTime(total, session, family)).toBe(expected);
  });

  it('adds durations, never compares strings: 9 minutes plus 10 minutes', () => {
    expect(addSessionTime(addSessionTime(0, '00:09:00', '1.2'), '00:10:00', '1.2')).toBe(19 * 60_000);
    expect(addSessionTime(addSessionTime(0, 'PT9M', '2004'), 'PT10M', '2004')).toBe(19 * 60_000);
  });

  it.each<[string, '1.2' | '2004']>([
    ['PT1M', '1.2'],
    ['00:01:00', '2004'],
    ['PT', '2004'],
    ['10000:00:00', '1.2'],
  ])('throws on %j for %s (validateCmi refuses these first)', (value, family) => {
    expect(() => addSessionTime(0, value, family)).toThrow(Error);
  });
});
