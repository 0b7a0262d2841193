import { PassThrough } from 'node:stream';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { importProgressBar, mib } from '../../src/cli/import-progress.js';
import { unreachableOriginReason } from '../../src/dispatch/launch-origin.js';
import Fastify from 'fastify';
import { AppError, isAppError, type ErrorCode } from '../../src/errors/app-error.js';
import { registerErrorHandling } from '../../src/http/plugins/errors.js';
import { PAGE, withSecret, withWayBack } from '../../src/http/plugins/page-policy.js';
import { checkTitle, fitTitle, TITLE_MAX_LENGTH } from '../../src/packages/titles.js';
import { findPreset, LMS_PRESETS, normaliseSite } from '../../src/platforms/lms-presets.js';
import { describeXmlError } from '../../src/scorm/manifest/xml-errors.js';

function xmlError(source: string) {
  const v = XMLValidator.validate(source);
  if (v === true) throw new Error('expected invalid XML');
  return describeXmlError(v.err, source);
}

describe('manifest XML errors in words', () => {
  it('names the elements left open when the file ends, at its last line', () => {
    expect(xmlError('<?xml version="1.0"?>\n<manifest>\n  <organizations>\n    <broken>\n')).toEqual({
      line: 4,
      column: 1,
      text: 'the file ends at line 4 while <manifest> → <organizations> → <broken> are still open (<broken> is never closed: the file may be cut short)',
    });
  });
  it('says which closing tag was expected where another came', () => {
    expect(xmlError('<manifest>\n<a>\n</manifest>').text).toBe('found </manifest> where </a> (opened at line 2) should be closed first');
    expect(xmlError('<manifest>\n<a>\n</manifest>').line).toBe(3);
  });
  it('explains a file that is not XML at all', () => {
    expect(xmlError('PK\u0003\u0004 not xml').text).toMatch(/^unexpected character “P”/);
  });
  it('keeps other validator messages, with the column', () => {
    expect(xmlError('<a b="1" b="2"/>').text).toBe("Attribute 'b' is repeated (column 10)");
  });
});

describe('the CLI import progress bar', () => {
  const run = (events: Parameters<ReturnType<typeof importProgressBar>['update']>[0][]) => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    const bar = importProgressBar(Object.assign(stream, { isTTY: false }), { enabled: true, noTty: true });
    for (const e of events) bar.update(e);
    bar.stop();
    return out;
  };

  it('shows MiB as MiB (not bytes) and ends at 100 % when the import is done', () => {
    const total = 40_474_255;
    const out = run([
      { phase: 'extract', bytesDone: 0, bytesTotal: total, entriesDone: 0, entriesTotal: 12 },
      { phase: 'extract', bytesDone: total / 2, bytesTotal: total, entriesDone: 6, entriesTotal: 12 },
      { phase: 'extract', bytesDone: total, bytesTotal: total, entriesDone: 12, entriesTotal: 12 },
      { phase: 'validate', bytesDone: 0, bytesTotal: 0, entriesDone: 0, entriesTotal: 0 },
      { phase: 'store', bytesDone: 0, bytesTotal: 0, entriesDone: 0, entriesTotal: 0 },
      { phase: 'done', bytesDone: 0, bytesTotal: 0, entriesDone: 0, entriesTotal: 0 },
    ]);
    expect(out).not.toContain(String(total));
    expect(out).toContain('0% · 0.0/38.6 MiB · 0/12 files · extracting');
    const last = out.trim().split(/\r|\n/).filter(Boolean).at(-1)!;
    expect(last).toContain('100% · 38.6/38.6 MiB · 12/12 files · done');
  });

  it('prints nothing when disabled (no terminal, or --json)', () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    const bar = importProgressBar(stream, { enabled: false });
    bar.update({ phase: 'extract', bytesDone: 1, bytesTotal: 2, entriesDone: 1, entriesTotal: 1 });
    bar.stop();
    expect(out).toBe('');
    expect(mib(150 * 1024 * 1024)).toBe('150');
  });
});

describe('titles', () => {
  it('accepts up to the limit, refuses beyond with the count, trims', () => {
    expect(checkTitle('  Golf  ')).toBe('Golf');
    expect(checkTitle('é'.repeat(TITLE_MAX_LENGTH))).toHaveLength(TITLE_MAX_LENGTH);
    let err: unknown;
    try {
      checkTitle('x'.repeat(TITLE_MAX_LENGTH + 1));
    } catch (e) {
      err = e;
    }
    expect(isAppError(err) && err.code === 'VALIDATION_FAILED' && err.message).toBe(
      `The title must be at most ${TITLE_MAX_LENGTH} characters (it has ${TITLE_MAX_LENGTH + 1}).`,
    );
    expect(() => checkTitle('   ')).toThrow(/must not be empty/);
    expect(fitTitle('x'.repeat(600))).toBe(`${'x'.repeat(TITLE_MAX_LENGTH - 1)}…`);
    expect(fitTitle('Short')).toBe('Short');
  });
});

describe('LMS presets', () => {
  it('normalises the LMS address typed in any usual way', () => {
    expect(normaliseSite('moodle.example.edu')).toEqual({ site: 'https://moodle.example.edu' });
    expect(normaliseSite('https://moodle.example.edu/')).toEqual({ site: 'https://moodle.example.edu' });
    expect(normaliseSite('https://example.edu/moodle/my/')).toEqual({ site: 'https://example.edu/moodle' });
    expect(normaliseSite('https://school.brightspace.com/d2l/home')).toEqual({ site: 'https://school.brightspace.com' });
    expect(normaliseSite('')).toEqual({ problem: 'Enter the LMS address, e.g. https://moodle.example.edu' });
    expect(normaliseSite('ftp://x.example')).toEqual({ problem: 'The LMS address must be an http(s) URL' });
  });
  it('covers Moodle, Canvas, Blackboard and Brightspace with https URLs', () => {
    expect(LMS_PRESETS.map((p) => p.id)).toEqual(['moodle', 'canvas', 'blackboard', 'brightspace']);
    for (const p of LMS_PRESETS) {
      const v = p.values({ site: 'https://lms.example.edu', clientId: 'client-1' });
      for (const u of [v.issuer, v.authUrl, v.tokenUrl, v.jwksUrl]) expect(new URL(u).protocol, `${p.id} ${u}`).toBe('https:');
      expect(v.clientId).toBe('client-1');
    }
    expect(findPreset('nope')).toBeUndefined();
  });
});

describe('the way back from error pages in the LMS frame', () => {
  it('leads to the picker or the progress view when they still work, and always to the LMS', async () => {
    // Routes declaring the same page policies as the real picker, progress, launch and console routes.
    const app = Fastify();
    registerErrorHandling(app);
    const fail = (code: ErrorCode) => async () => {
      throw new AppError(code, 'refused');
    };
    const picker = { page: withWayBack(withSecret(PAGE.lms, 'token'), 'picker') };
    const progress = { page: withWayBack(withSecret(PAGE.lms, 'token'), 'progress') };
    app.get('/lti/deep-link/:token', { config: picker }, fail('DEEP_LINKING_INVALID_SELECTION'));
    app.post('/lti/deep-link/:token', { config: picker }, fail('DEEP_LINKING_ALREADY_ANSWERED'));
    app.post('/progress/:token/sync', { config: progress }, fail('INTERNAL'));
    app.get('/progress/:token', { config: progress }, fail('PROGRESS_FORBIDDEN'));
    app.post('/lti/launch', { config: { page: PAGE.lms } }, fail('BAD_REQUEST'));
    app.get('/admin/x', { config: { page: PAGE.console } }, fail('NOT_FOUND'));
    const page = async (method: 'GET' | 'POST', url: string) => (await app.inject({ method, url })).body;
    expect(await page('GET', '/lti/deep-link/tok123')).toContain('href="/lti/deep-link/tok123"');
    expect(await page('POST', '/lti/deep-link/tok123')).not.toContain('href="/lti/deep-link/');
    expect(await page('POST', '/progress/tok/sync')).toContain('href="/progress/tok"');
    expect(await page('GET', '/progress/tok')).not.toContain('href="/progress/');
    for (const [method, url] of [
      ['GET', '/progress/tok'],
      ['POST', '/lti/launch'],
      ['POST', '/lti/deep-link/tok123'],
    ] as const)
      expect(await page(method, url), url).toMatch(/use the LMS/);
    expect(await page('GET', '/admin/x')).not.toMatch(/use the LMS/);
    await app.close();
  });
});

describe('where dispatch packages play from', () => {
  it('warns about loopback and private addresses, not public ones', () => {
    expect(unreachableOriginReason('http://localhost:3000')).toMatch(/loopback/);
    expect(unreachableOriginReason('http://app.localhost:3000')).toMatch(/loopback/);
    expect(unreachableOriginReason('http://127.0.0.1:3000')).toMatch(/loopback/);
    expect(unreachableOriginReason('http://[::1]:3000')).toMatch(/loopback/);
    expect(unreachableOriginReason('http://192.168.1.20:3000')).toMatch(/private/);
    expect(unreachableOriginReason('https://courses.example.com')).toBeUndefined();
    expect(unreachableOriginReason('https://203.0.113.9')).toBeUndefined();
  });
});
