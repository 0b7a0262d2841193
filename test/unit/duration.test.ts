import { describe, expect, it } from 'vitest';
import { SCORM12_TIMESPAN_MAX_MS, formatIso8601Duration, formatScorm12Timespan, parseIso8601Duration, parseScorm12Timespan } from '../../src/scorm/duration.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

describe('parseScorm12Timespan', () => {
  it.each([
    ['0000:00:00.0', 0],
    ['00:00:00', 0],
    ['000:00:00', 0],
    ['00:00:01', S],
    ['00:00:00.5', 500],
    ['00:00:00.05', 50],
    ['00:00:00.50', 500],
    ['00:00:00.99', 990],
    ['01:30:00', 90 * MIN],
    ['0001:30:00.00', 90 * MIN],
    ['12:34:56.78', 12 * H + 34 * MIN + 56 * S + 780],
    ['100:00:00', 100 * H],
    ['9999:59:59.99', SCORM12_TIMESPAN_MAX_MS],
  ])('%s → %d ms', (value, ms) => {
    expect(parseScorm12Timespan(value)).toBe(ms);
  });

  it.each([
    ['10000:00:00', 'five hour digits'],
    ['0:00:00', 'one hour digit'],
    ['00:60:00', 'minutes above 59'],
    ['00:00:60', 'seconds above 59'],
    ['00:0:00', 'one minute digit'],
    ['00:00:0', 'one second digit'],
    ['00:00:00.123', 'three fraction digits'],
    ['00:00:00.', 'a dot without a fraction'],
    ['00:00', 'no seconds'],
    ['-01:00:00', 'a sign'],
    ['', 'empty'],
    [' 00:00:00', 'leading space'],
    ['00:00:00 ', 'trailing space'],
    ['PT1H', 'an ISO duration'],
    ['aa:bb:cc', 'letters'],
    ['００:00:00', 'non-ASCII digits'],
  ])('refuses %j (%s)', (value) => {
    expect(() => parseScorm12Timespan(value)).toThrow(Error);
  });
});

describe('parseIso8601Duration', () => {
  it.each([
    ['PT1H30M', 90 * MIN],
    ['P1DT0.5S', D + 500],
    ['PT0.01S', 10],
    ['PT0S', 0],
    ['PT0H0M0S', 0],
    ['P0D', 0],
    ['PT1S', S],
    ['PT1.5S', 1500],
    ['PT1.05S', 1050],
    ['PT90S', 90 * S],
    ['PT36H', 36 * H],
    ['PT1M', MIN],
    ['PT1H', H],
    ['P1D', D],
    ['P1Y', 365 * D],
    ['P1M', 30 * D],
    ['P1Y2M3DT4H5M6.78S', 365 * D + 60 * D + 3 * D + 4 * H + 5 * MIN + 6 * S + 780],
    ['P2M', 60 * D],
    ['PT2M', 2 * MIN],
    ['P1MT1M', 30 * D + MIN],
  ])('%s → %d ms', (value, ms) => {
    expect(parseIso8601Duration(value)).toBe(ms);
  });

  it.each([
    ['P', 'no amount'],
    ['PT', 'no amount after T'],
    ['P1DT', 'T without a time amount'],
    ['', 'empty'],
    ['-PT1H', 'negative'],
    ['PT-1H', 'negative amount'],
    ['T1H', 'no P'],
    ['pt1h', 'lower case'],
    ['PT1.5H', 'fraction on hours'],
    ['P1.5D', 'fraction on days'],
    ['PT0.123S', 'three fraction digits'],
    ['PT.5S', 'fraction without integer part'],
    ['PT1,5S', 'comma fraction'],
    ['P1W', 'weeks'],
    ['P1H', 'hours before T'],
    ['PT1D', 'days after T'],
    ['PT1M1H', 'units out of order'],
    ['PT1H1H', 'a unit twice'],
    ['PT1H ', 'trailing space'],
    ['00:00:10', 'a 1.2 timespan'],
    ['PT1234567890S', 'too many digits'],
  ])('refuses %j (%s)', (value) => {
    expect(() => parseIso8601Duration(value)).toThrow(Error);
  });
});

describe('formatScorm12Timespan', () => {
  it.each([
    [0, '0000:00:00.00'],
    [500, '0000:00:00.50'],
    [10, '0000:00:00.01'],
    [4, '0000:00:00.00'],
    [5, '0000:00:00.01'],
    [90 * MIN, '0001:30:00.00'],
    [12 * H + 34 * MIN + 56 * S + 780, '0012:34:56.78'],
    [SCORM12_TIMESPAN_MAX_MS, '9999:59:59.99'],
    [10_000 * H, '9999:59:59.99'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatScorm12Timespan(ms)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d', (ms) => {
    expect(() => formatScorm12Timespan(ms)).toThrow(Error);
  });

  it('round-trips through the parser', () => {
    for (const ms of [0, 10, 990, 61_230, 90 * MIN, 5000 * H + 1230]) {
      expect(parseScorm12Timespan(formatScorm12Timespan(ms))).toBe(ms);
    }
  });
});

describe('formatIso8601Duration', () => {
  it.each([
    [0, 'PT0S'],
    [4, 'PT0S'],
    [10, 'PT0.01S'],
    [500, 'PT0.5S'],
    [1050, 'PT1.05S'],
    [S, 'PT1S'],
    [MIN, 'PT1M'],
    [90 * MIN, 'PT1H30M'],
    [H + 500, 'PT1H0.5S'],
    [D + 500, 'PT24H0.5S'],
    [36 * H + MIN + 2 * S + 30, 'PT36H1M2.03S'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatIso8601Duration(ms)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d', (ms) => {
    expect(() => formatIso8601Duration(ms)).toThrow(Error);
  });

  it('round-trips through the parser', () => {
    for (const ms of [0, 10, 990, 61_230, 90 * MIN, D + 500, 5000 * H + 1230]) {
      expect(parseIso8601Duration(formatIso8601Duration(ms))).toBe(ms);
    }
  });
});
