/**
 * SCORM durations: the 1.2 CMITimespan (`HHHH:MM:SS.SS`) and the 2004 timeinterval
 * (ISO 8601 `P[yY][mM][dD][T[hH][mM][s[.s]S]]`), as whole milliseconds.
 *
 * Parsers throw a plain `Error` on malformed input; callers decide what that means
 * (validation maps it to `CMI_INVALID`). Durations are never compared as strings.
 */

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/** SCORM 2004 leaves calendar units to the LMS; we take a year as 365 days. */
const MS_PER_YEAR = 365 * MS_PER_DAY;
/** ... and a month as 30 days. */
const MS_PER_MONTH = 30 * MS_PER_DAY;

/** The largest value a 1.2 CMITimespan can hold: 9999:59:59.99. */
export const SCORM12_TIMESPAN_MAX_MS = 9999 * MS_PER_HOUR + 59 * MS_PER_MINUTE + 59 * MS_PER_SECOND + 990;

/** SCORM 1.2 CMITimespan (RTE 3.4.2, A.3): hours 2-4 digits, minutes and seconds 00-59, 0-2 fraction digits. */
const SCORM12_TIMESPAN = /^(\d{2,4}):([0-5]\d):([0-5]\d)(?:\.(\d{1,2}))?$/;

/**
 * SCORM 2004 timeinterval (RTE 4.1.5): integers for every unit, a fraction (1-2 digits)
 * for seconds only. Weeks, signs and fractions elsewhere are refused. Each amount is
 * limited to 9 digits so the sum stays an exact integer number of milliseconds.
 */
const ISO_DURATION = /^P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:\.(\d{1,2}))?S)?)?$/;

/** "5" → 500, "05" → 50: a one- or two-digit fraction of a second in milliseconds. */
function fractionMs(fraction: string | undefined): number {
  if (fraction === undefined) return 0;
  return Number(fraction.padEnd(3, '0'));
}

/** Parses a SCORM 1.2 CMITimespan (`0000:00:00.00` … `9999:59:59.99`) into milliseconds. */
export function parseScorm12Timespan(value: string): number {
  const m = SCORM12_TIMESPAN.exec(value);
  if (m === null) {
    throw new Error(`not a SCORM 1.2 timespan (HHHH:MM:SS.SS): ${JSON.stringify(value.slice(0, 40))}`);
  }
  const [, h, min, s, frac] = m;
  return Number(h) * MS_PER_HOUR + Number(min) * MS_PER_MINUTE + Number(s) * MS_PER_SECOND + fractionMs(frac);
}

/** Parses a SCORM 2004 timeinterval (ISO 8601 duration, e.g. `PT1H30M`, `P1DT0.5S`) into milliseconds. */
export function parseIso8601Duration(value: string): number {
  const m = ISO_DURATION.exec(value);
  const fail = (): never => {
    throw new Error(`not a SCORM 2004 timeinterval (ISO 8601 duration): ${JSON.stringify(value.slice(0, 40))}`);
  };
  if (m === null) return fail();
  const [, y, mo, d, h, min, s, frac] = m;
  // "P" and "PT" are not durations: at least one amount, and one after a "T".
  if (y === undefined && mo === undefined && d === undefined && h === undefined && min === undefined && s === undefined) {
    return fail();
  }
  if (value.includes('T') && h === undefined && min === undefined && s === undefined) return fail();
  const ms =
    Number(y ?? 0) * MS_PER_YEAR +
    Number(mo ?? 0) * MS_PER_MONTH +
    Number(d ?? 0) * MS_PER_DAY +
    Number(h ?? 0) * MS_PER_HOUR +
    Number(min ?? 0) * MS_PER_MINUTE +
    Number(s ?? 0) * MS_PER_SECOND +
    fractionMs(frac);
  return Number.isSafeInteger(ms) ? ms : fail();
}

/** Whole centiseconds (the precision both SCORM formats carry), refusing what is not a duration. */
function toCentiseconds(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`not a duration in milliseconds: ${ms}`);
  return Math.round(ms / 10);
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Formats milliseconds as a SCORM 1.2 CMITimespan `HHHH:MM:SS.SS` (for `cmi.core.total_time`),
 * rounded to centiseconds. Values beyond 9999:59:59.99 cannot be written in 1.2 and are capped there.
 */
export function formatScorm12Timespan(ms: number): string {
  const cs = Math.min(toCentiseconds(ms), SCORM12_TIMESPAN_MAX_MS / 10);
  const hours = Math.floor(cs / 360_000);
  const minutes = Math.floor((cs % 360_000) / 6000);
  const seconds = Math.floor((cs % 6000) / 100);
  return `${pad(hours, 4)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(cs % 100, 2)}`;
}

/**
 * Formats milliseconds as a SCORM 2004 timeinterval (for `cmi.total_time`), rounded to
 * centiseconds, in hours, minutes and seconds only (no calendar units): `PT1H30M`,
 * `PT0.5S`, `PT0S` for zero.
 */
export function formatIso8601Duration(ms: number): string {
  const cs = toCentiseconds(ms);
  const hours = Math.floor(cs / 360_000);
  const minutes = Math.floor((cs % 360_000) / 6000);
  const seconds = Math.floor((cs % 6000) / 100);
  const fraction = cs % 100;
  let out = 'PT';
  if (hours > 0) out += `${hours}H`;
  if (minutes > 0) out += `${minutes}M`;
  if (seconds > 0 || fraction > 0) {
    out += fraction > 0 ? `${seconds}.${pad(fraction, 2).replace(/0$/, '')}S` : `${seconds}S`;
  }
  return out === 'PT' ? 'PT0S' : out;
}
