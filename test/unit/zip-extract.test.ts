import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/errors/app-error.js';
import { DEFAULT_EXTRACT_LIMITS, extractPackage } from '../../src/packages/package-archive.js';
import type { ExtractLimits, ExtractProgress } from '../../src/util/safe-zip/types.js';
import { courseFiles } from '../helpers/courses.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { buildLargeZipOutOfProcess, buildZip, METHOD_DEFLATE, MINIMAL_MANIFEST, rawZip, tempDir, writeRawZip, type RawEntry } from '../helpers/zip-builder.js';

const MiB = 1024 * 1024;
const MANIFEST: RawEntry = { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST };

let work: string;
let dest: string;
beforeEach(async () => {
  work = await tempDir('courseport-zip-test-');
  dest = join(work, 'dest');
  await mkdir(dest);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const zipPath = (name = 'package.zip'): string => join(work, name);

/** Runs the extraction, expecting an AppError with `code`; returns it. */
async function refusal(zip: string, code: ErrorCode, limits?: ExtractLimits): Promise<AppError> {
  let caught: unknown;
  try {
    await extractPackage(zip, dest, limits);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'extraction should have been refused').toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code, err.message).toBe(code);
  expect(err.message.length).toBeGreaterThan(10);
  return err;
}

async function destIsEmpty(): Promise<boolean> {
  return (await readdir(dest)).length === 0;
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await walk(join(dir, d.name), rel)));
    else out.push(rel);
  }
  return out;
}

// First in the file, and the archive is built in another process, so that the RSS of this
// process is not already inflated: streaming measures ~20 MiB of growth (GC slack), while a
// deliberately buffered entry measured 90+ MiB, so the 60 MiB bound does catch buffering.
describe('memory', () => {
  it('keeps memory flat while extracting an 80 MiB entry', async () => {
    const zip = await buildLargeZipOutOfProcess(zipPath(), 80 * MiB);

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const result = await extractPackage(zip, dest, undefined, sample);
    sample();

    expect(result.totalBytes).toBe(80 * MiB + MINIMAL_MANIFEST.length);
    expect((await stat(join(dest, 'video.mp4'))).size).toBe(80 * MiB);
    const growthMiB = (peak - baseline) / MiB;
    console.info(`zip-extract: RSS growth while extracting an 80 MiB entry: ${growthMiB.toFixed(1)} MiB`);
    expect(growthMiB).toBeLessThan(60);
  });
});

describe('extractPackage on a real package', () => {
  it('extracts a test course, lists its files and returns the manifest text', async () => {
    const zip = zipPath();
    await copyFile(COURSE_12, zip);

    const result = await extractPackage(zip, dest);

    const onDisk = (await walk(dest)).sort();
    expect(result.files).toEqual(onDisk);
    expect(result.files).toContain('imsmanifest.xml');
    expect(result.files).toEqual(courseFiles('bike-care-12').map((f) => f.name));
    for (const f of courseFiles('bike-care-12')) expect(await readFile(join(dest, f.name)), f.name).toEqual(await readFile(f.path));
    expect([...result.files].sort()).toEqual(result.files);
    expect(result.manifestXml).toBe(await readFile(join(dest, 'imsmanifest.xml'), 'utf8'));
    expect(result.manifestXml).toContain('<manifest');
    let bytes = 0;
    for (const f of onDisk) bytes += (await stat(join(dest, f))).size;
    expect(result.totalBytes).toBe(bytes);
    for (const d of result.directories) expect((await stat(join(dest, d))).isDirectory()).toBe(true);
  });
});

describe('not a ZIP', () => {
  it.each([
    ['random bytes', () => randomBytes(4096)],
    ['a text file', () => Buffer.from('<html><body>Hello, this is not a zip</body></html>\n'.repeat(20))],
    ['an empty file', () => Buffer.alloc(0)],
  ])('refuses %s', async (_label, content) => {
    const zip = zipPath();
    await writeFile(zip, content());
    const err = await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(err.message).toMatch(/not a ZIP/);
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses a truncated real package', async () => {
    const zip = zipPath();
    await copyFile(COURSE_12, zip);
    await truncate(zip, Math.floor((await stat(zip)).size / 2));
    await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses a corrupt central directory', async () => {
    const bytes = rawZip([MANIFEST, { name: 'a.html', data: 'a' }]);
    // The second central-directory header: break its signature.
    const second = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes[second + 2] = 0x09;
    const zip = zipPath();
    await writeFile(zip, bytes);
    const err = await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(err.message).toMatch(/damaged/);
  });

  it('refuses entry data that is not valid Deflate, naming the entry', async () => {
    const zip = await writeRawZip(zipPath(), [
      MANIFEST,
      { name: 'bad.html', data: 'x'.repeat(100), method: METHOD_DEFLATE, compressedData: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) },
    ]);
    const err = await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(err.details?.entry).toBe('bad.html');
  });

  it('refuses an entry whose checksum does not match', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'a.html', data: 'hello', crc32: 12345 }]);
    const err = await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(err.message).toMatch(/CRC-32/);
  });
});

describe('unsafe entries are refused before anything is written', () => {
  it.each(['../evil', '/abs', 'C:\\x', 'C:/x', 'c:x', 'a\\..\\b', 'a/../../b', 'a/b/..', 'a\u0000b', 'a\u001bb', 'a//b', '.', './', '\\\\server\\share\\x'])(
    '%j',
    async (name) => {
      const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'index.html', data: 'ok' }, { name, data: 'evil' }]);
      const err = await refusal(zip, 'PACKAGE_UNSAFE_ENTRY');
      expect(err.details?.entry).toBe(name);
      expect(await destIsEmpty()).toBe(true);
    },
  );

  it('refuses a symlink entry', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'passwd', data: '/etc/passwd', unixMode: 0o120777 }]);
    const err = await refusal(zip, 'PACKAGE_UNSAFE_ENTRY');
    expect(err.details?.entry).toBe('passwd');
    expect(err.message).toMatch(/symbolic link/);
    expect(await destIsEmpty()).toBe(true);
  });

  it.each([
    [['index.html', 'index.html'], /twice/],
    [['Index.html', 'index.html'], /letter case/],
    [['img/Logo.PNG', 'IMG/logo.png'], /letter case/],
    [['caf\u00e9.html', 'cafe\u0301.html'], /twice/], // NFC vs NFD: one name on macOS
    [['a', 'a/b.html'], /both for a file and a folder/],
    [['a/b.html', 'A'], /both for a file and a folder/],
  ])('refuses colliding names %j', async (names, message) => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, ...names.map((name) => ({ name, data: name }))]);
    const err = await refusal(zip, 'PACKAGE_UNSAFE_ENTRY');
    expect(err.details?.entry).toBe(names[1]);
    expect(err.message).toMatch(message);
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses entries whose data overlap (non-recursive zip bomb)', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'a.html', data: 'aaaa' }, { name: 'b.html', data: 'aaaa', pointAtLocalHeaderOf: 1 }]);
    const err = await refusal(zip, 'PACKAGE_UNSAFE_ENTRY');
    expect(err.message).toMatch(/overlaps/);
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses encrypted entries and unsupported compression methods', async () => {
    const encrypted = await writeRawZip(zipPath('enc.zip'), [MANIFEST, { name: 'a.html', data: 'x'.repeat(12), declaredUncompressedSize: 0, flags: 0x1 }]);
    expect((await refusal(encrypted, 'PACKAGE_UNSUPPORTED')).message).toMatch(/encrypted/);
    const bzip2 = await writeRawZip(zipPath('bz.zip'), [MANIFEST, { name: 'a.html', data: 'abc', method: 12, compressedData: Buffer.from('BZh9') }]);
    expect((await refusal(bzip2, 'PACKAGE_UNSUPPORTED')).details?.compressionMethod).toBe(12);
    expect(await destIsEmpty()).toBe(true);
  });
});

describe('limits', () => {
  const limits = (overrides: Partial<ExtractLimits>): ExtractLimits => ({ ...DEFAULT_EXTRACT_LIMITS, ...overrides });

  it('documents sensible defaults', () => {
    expect(DEFAULT_EXTRACT_LIMITS).toEqual({ maxEntries: 20_000, maxTotalBytes: 2 * 1024 ** 3, maxCompressionRatio: 200 });
  });

  it('refuses more entries than allowed', async () => {
    const files = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}.html`, data: `${i}` }));
    const zip = await buildZip(zipPath(), [{ name: 'imsmanifest.xml', data: MINIMAL_MANIFEST }, ...files]);
    const err = await refusal(zip, 'PACKAGE_TOO_MANY_ENTRIES', limits({ maxEntries: 10 }));
    expect(err.details).toMatchObject({ entries: 11, limit: 10 });
    expect(await destIsEmpty()).toBe(true);
    // exactly at the limit is fine
    await rm(join(work, 'package.zip'));
    const ok = await buildZip(zipPath(), [{ name: 'imsmanifest.xml', data: MINIMAL_MANIFEST }, ...files.slice(1)]);
    expect((await extractPackage(ok, dest, limits({ maxEntries: 10 }))).files).toHaveLength(10);
  });

  it('refuses more folders than allowed', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'a/b/c/d/e/f/g/h/i/j/k/x.html', data: 'x' }]);
    await refusal(zip, 'PACKAGE_TOO_MANY_ENTRIES', limits({ maxEntries: 10 }));
  });

  it('refuses a package whose declared size is over the limit', async () => {
    const zip = await buildZip(zipPath(), [
      { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: 'video.bin', data: randomBytes(2 * MiB) },
    ]);
    const err = await refusal(zip, 'PACKAGE_TOO_LARGE', limits({ maxTotalBytes: MiB }));
    expect(err.details).toMatchObject({ entry: 'video.bin', limit: MiB });
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses a header declaring ~4 GiB with the default limits', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'huge.bin', data: 'x', method: METHOD_DEFLATE, declaredUncompressedSize: 0xfffffff0 }]);
    await refusal(zip, 'PACKAGE_TOO_LARGE');
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses a zip bomb (50 MiB of zeros) before writing anything', async () => {
    const zip = await buildZip(zipPath(), [
      { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: 'zeros.bin', data: Buffer.alloc(50 * MiB) },
    ]);
    expect((await stat(zip)).size).toBeLessThan(MiB);
    const err = await refusal(zip, 'PACKAGE_COMPRESSION_RATIO', limits({ maxCompressionRatio: 100 }));
    expect(err.details?.entry).toBe('zeros.bin');
    expect(err.details?.ratio).toBeGreaterThan(100);
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses an archive whose overall ratio is too high even when every entry is small', async () => {
    const zeros = Buffer.alloc(900 * 1024);
    const zip = await buildZip(zipPath(), [
      { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST },
      ...Array.from({ length: 5 }, (_, i) => ({ name: `z${i}.bin`, data: zeros })),
    ]);
    const err = await refusal(zip, 'PACKAGE_COMPRESSION_RATIO');
    expect(err.details?.entry).toBeUndefined();
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses an entry that unpacks to more than its header declares, while streaming', async () => {
    const actual = Buffer.alloc(10 * MiB, 0x61);
    const zip = await writeRawZip(zipPath(), [
      MANIFEST,
      { name: 'liar.bin', data: actual.subarray(0, 1000), method: METHOD_DEFLATE, compressedData: deflateRawSync(actual) },
    ]);
    const err = await refusal(zip, 'PACKAGE_TOO_LARGE');
    expect(err.details).toMatchObject({ entry: 'liar.bin', declaredBytes: 1000 });
    // Refused during streaming: nothing beyond the declared size reached the disk.
    const written = await stat(join(dest, 'liar.bin')).catch(() => undefined);
    expect(written?.size ?? 0).toBeLessThanOrEqual(1000);
  });

  it('refuses an entry that holds less than its header declares', async () => {
    const data = Buffer.from('short content');
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'short.html', data, method: METHOD_DEFLATE, declaredUncompressedSize: 5000 }]);
    const err = await refusal(zip, 'PACKAGE_NOT_ZIP');
    expect(err.details?.entry).toBe('short.html');
  });

  it('refuses a manifest over 4 MiB', async () => {
    const zip = await buildZip(zipPath(), [{ name: 'imsmanifest.xml', data: `<manifest>${' '.repeat(5 * MiB)}</manifest>` }]);
    await refusal(zip, 'PACKAGE_INVALID_MANIFEST');
    expect(await destIsEmpty()).toBe(true);
  });
});

describe('manifest location', () => {
  it('refuses a package without imsmanifest.xml', async () => {
    const zip = await buildZip(zipPath(), [{ name: 'index.html', data: 'hi' }]);
    const err = await refusal(zip, 'PACKAGE_NO_MANIFEST');
    expect(err.details?.foundAt).toBeUndefined();
    expect(await destIsEmpty()).toBe(true);
  });

  it('refuses an empty archive', async () => {
    const zip = await buildZip(zipPath(), []);
    expect((await refusal(zip, 'PACKAGE_NO_MANIFEST')).message).toMatch(/empty/);
  });

  it('names the folder when the ZIP was made from the course folder', async () => {
    const zip = await buildZip(zipPath(), [
      { name: 'My Course/', directory: true },
      { name: 'My Course/imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: 'My Course/index.html', data: 'hi' },
      { name: '__MACOSX/My Course/._imsmanifest.xml', data: 'junk' },
    ]);
    const err = await refusal(zip, 'PACKAGE_NO_MANIFEST');
    expect(err.details?.foundAt).toBe('My Course');
    expect(err.message).toMatch(/inside the folder "My Course\/"/);
    expect(err.message).toMatch(/made from the course folder/);
    expect(err.hint).toMatch(/select everything inside it/);
    expect(await destIsEmpty()).toBe(true);
  });

  it('says so when the root manifest has the wrong letter case', async () => {
    const zip = await buildZip(zipPath(), [{ name: 'IMSManifest.xml', data: MINIMAL_MANIFEST }]);
    const err = await refusal(zip, 'PACKAGE_NO_MANIFEST');
    expect(err.details?.foundName).toBe('IMSManifest.xml');
  });

  it("accepts './imsmanifest.xml' as the root manifest", async () => {
    const zip = await writeRawZip(zipPath(), [
      { name: './imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: './a/./b.html', data: 'b' },
    ]);
    const result = await extractPackage(zip, dest);
    expect(result.files).toEqual(['a/b.html', 'imsmanifest.xml']);
    expect(result.manifestXml).toBe(MINIMAL_MANIFEST);
  });

  it('decodes the manifest per its XML declaration', async () => {
    const xml = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\n<manifest><title>Caf'),
      Buffer.from([0xe9]),
      Buffer.from('</title></manifest>'),
    ]);
    const zip = await writeRawZip(zipPath(), [{ name: 'imsmanifest.xml', data: xml }]);
    expect((await extractPackage(zip, dest)).manifestXml).toContain('<title>Café</title>');
  });
});

describe('extraction details', () => {
  it('skips macOS junk and creates empty folders', async () => {
    const zip = await buildZip(zipPath(), [
      { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: 'index.html', data: 'hi' },
      { name: '.DS_Store', data: 'junk' },
      { name: 'css/.DS_Store', data: 'junk' },
      { name: 'css/site.css', data: 'body{}' },
      { name: 'media/', directory: true },
      { name: '__MACOSX/', directory: true },
      { name: '__MACOSX/._index.html', data: 'junk' },
    ]);
    const result = await extractPackage(zip, dest);
    expect(result.files).toEqual(['css/site.css', 'imsmanifest.xml', 'index.html']);
    expect(result.directories).toEqual(['css', 'media']);
    expect(result.totalBytes).toBe(MINIMAL_MANIFEST.length + 2 + 6);
    expect((await readdir(dest)).sort()).toEqual(['css', 'imsmanifest.xml', 'index.html', 'media']);
    expect(await readdir(join(dest, 'css'))).toEqual(['site.css']);
  });

  it('accepts folders that differ only in letter case (they merge on case-insensitive storage)', async () => {
    const zip = await writeRawZip(zipPath(), [MANIFEST, { name: 'Img/a.png', data: 'a' }, { name: 'img/b.png', data: 'b' }]);
    const result = await extractPackage(zip, dest);
    expect(result.files).toEqual(['Img/a.png', 'img/b.png', 'imsmanifest.xml']);
  });

  it('reports progress monotonically, ending at the totals', async () => {
    const big = randomBytes(20 * MiB);
    const zip = await buildZip(zipPath(), [
      { name: 'imsmanifest.xml', data: MINIMAL_MANIFEST },
      { name: 'a/', directory: true },
      { name: 'a/one.html', data: 'one' },
      { name: 'big.bin', data: big, compress: false },
      { name: 'two.html', data: 'two' },
    ]);
    const seen: ExtractProgress[] = [];
    const result = await extractPackage(zip, dest, undefined, (p) => seen.push(p));

    expect(seen.length).toBeGreaterThanOrEqual(5 + 2); // after each entry, and mid-way through big.bin
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.entriesDone).toBeGreaterThanOrEqual(seen[i - 1]!.entriesDone);
      expect(seen[i]!.bytesDone).toBeGreaterThanOrEqual(seen[i - 1]!.bytesDone);
      expect(seen[i]!.bytesDone - seen[i - 1]!.bytesDone).toBeLessThanOrEqual(8 * MiB + 256 * 1024);
    }
    const last = seen.at(-1)!;
    expect(last).toEqual({ entriesDone: 5, entriesTotal: 5, bytesDone: result.totalBytes, bytesTotal: result.totalBytes });
    expect(result.totalBytes).toBe(big.length + MINIMAL_MANIFEST.length + 6);
    expect((await readFile(join(dest, 'big.bin'))).equals(big)).toBe(true);
  });

  it('passes an error thrown by the progress callback through unchanged', async () => {
    const zip = await buildZip(zipPath(), [{ name: 'imsmanifest.xml', data: MINIMAL_MANIFEST }]);
    const boom = new Error('progress bar broke');
    await expect(
      extractPackage(zip, dest, undefined, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('refuses a destination that is not empty (a caller bug)', async () => {
    const zip = await buildZip(zipPath(), [{ name: 'imsmanifest.xml', data: MINIMAL_MANIFEST }]);
    await writeFile(join(dest, 'left-over'), 'x');
    await refusal(zip, 'INTERNAL');
  });
});
