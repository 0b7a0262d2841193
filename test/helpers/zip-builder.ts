import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32, deflateRawSync } from 'node:zlib';
import yazl from 'yazl';

const execFileAsync = promisify(execFile);

/**
 * Builds ZIP archives for tests. Ordinary archives go through yazl; hostile ones (names,
 * symlinks, lying sizes, overlapping entries, encryption flags) that yazl rightly refuses
 * are written byte by byte by `rawZip`.
 */

export async function tempDir(prefix = 'courseport-zip-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export type ZipSource =
  | { readonly name: string; readonly data: Buffer | string; readonly compress?: boolean }
  | { readonly name: string; readonly stream: Readable; readonly compress?: boolean; readonly compressionLevel?: number }
  | { readonly name: string; readonly directory: true };

/** A well-formed archive written with yazl. */
export async function buildZip(path: string, sources: readonly ZipSource[]): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const source of sources) {
    if ('directory' in source) {
      zip.addEmptyDirectory(source.name);
    } else if ('stream' in source) {
      zip.addReadStream(source.stream, source.name, {
        compress: source.compress ?? true,
        ...(source.compressionLevel === undefined ? {} : { compressionLevel: source.compressionLevel }),
      });
    } else {
      zip.addBuffer(Buffer.from(source.data), source.name, { compress: source.compress ?? true });
    }
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
  return path;
}

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
const FLAG_UTF8 = 0x800;
const VERSION = 20;
const HOST_UNIX = 3;
const DOS_DATE_1980_01_01 = 0x21;

export interface RawEntry {
  /** A string is written as UTF-8 (flag bit 11 set when not ASCII); a Buffer as is. */
  readonly name: string | Buffer;
  /** The uncompressed content (default empty). */
  readonly data?: Buffer | string;
  /** 0 stored (default), 8 deflate, anything else to test unsupported methods. */
  readonly method?: number;
  /** The bytes stored in the archive; default `data` (stored) or `deflateRaw(data)`. */
  readonly compressedData?: Buffer;
  /** Header fields, default to the truth. */
  readonly declaredUncompressedSize?: number;
  readonly declaredCompressedSize?: number;
  readonly crc32?: number;
  /** General-purpose flags added to the UTF-8 flag (e.g. 0x1 = encrypted). */
  readonly flags?: number;
  /** Unix mode (e.g. 0o120777 for a symlink) written to the high 16 bits of the external attributes. */
  readonly unixMode?: number;
  /** In the central directory, point at the local header of entry #n instead of this one's (overlap). */
  readonly pointAtLocalHeaderOf?: number;
}

/** Builds a ZIP from its raw structures: local headers and data, central directory, EOCD. */
export function rawZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  const fields = entries.map((entry) => {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const isAscii = typeof entry.name !== 'string' || /^[\x20-\x7e]*$/.test(entry.name);
    const data = Buffer.from(entry.data ?? '');
    const method = entry.method ?? METHOD_STORED;
    const stored = entry.compressedData ?? (method === METHOD_DEFLATE ? deflateRawSync(data) : data);
    return {
      name,
      stored,
      method,
      flags: (entry.flags ?? 0) | (isAscii ? 0 : FLAG_UTF8),
      crc: entry.crc32 ?? crc32(data),
      compressedSize: entry.declaredCompressedSize ?? stored.length,
      uncompressedSize: entry.declaredUncompressedSize ?? data.length,
      external: entry.unixMode === undefined ? 0 : (entry.unixMode << 16) >>> 0,
      versionMadeBy: entry.unixMode === undefined ? VERSION : (HOST_UNIX << 8) | VERSION,
    };
  });

  for (const f of fields) {
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(VERSION, 4);
    header.writeUInt16LE(f.flags, 6);
    header.writeUInt16LE(f.method, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    header.writeUInt32LE(f.crc >>> 0, 14);
    header.writeUInt32LE(f.compressedSize, 18);
    header.writeUInt32LE(f.uncompressedSize, 22);
    header.writeUInt16LE(f.name.length, 26);
    header.writeUInt16LE(0, 28);
    offsets.push(offset);
    locals.push(header, f.name, f.stored);
    offset += header.length + f.name.length + f.stored.length;
  }

  const centralStart = offset;
  const central: Buffer[] = [];
  fields.forEach((f, i) => {
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(f.versionMadeBy, 4);
    header.writeUInt16LE(VERSION, 6);
    header.writeUInt16LE(f.flags, 8);
    header.writeUInt16LE(f.method, 10);
    header.writeUInt16LE(0, 12);
    header.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    header.writeUInt32LE(f.crc >>> 0, 16);
    header.writeUInt32LE(f.compressedSize, 20);
    header.writeUInt32LE(f.uncompressedSize, 24);
    header.writeUInt16LE(f.name.length, 28);
    header.writeUInt16LE(0, 30); // extra field length
    header.writeUInt16LE(0, 32); // comment length
    header.writeUInt16LE(0, 34); // disk number
    header.writeUInt16LE(0, 36); // internal attributes
    header.writeUInt32LE(f.external, 38);
    header.writeUInt32LE(offsets[entries[i]!.pointAtLocalHeaderOf ?? i]!, 42);
    central.push(header, f.name);
    offset += header.length + f.name.length;
  });

  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0, 4);
  eocd.writeUInt16LE(0, 6);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(offset - centralStart, 12);
  eocd.writeUInt32LE(centralStart, 16);
  eocd.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, ...central, eocd]);
}

export async function writeRawZip(path: string, entries: readonly RawEntry[]): Promise<string> {
  await writeFile(path, rawZip(entries));
  return path;
}

/** A minimal manifest, enough for extraction (which does not parse it). */
export const MINIMAL_MANIFEST = '<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="test" version="1.0"><organizations/><resources/></manifest>\n';

/**
 * Writes `imsmanifest.xml` plus one `bytes`-long random entry (stored, like most media), built in a
 * child process so that building it does not inflate the RSS of the test process that then
 * measures the memory of extracting it.
 */
export async function buildLargeZipOutOfProcess(path: string, bytes: number, entryName = 'video.mp4'): Promise<string> {
  const script = `
    import yazl from 'yazl';
    import { createWriteStream } from 'node:fs';
    import { randomBytes } from 'node:crypto';
    import { Readable } from 'node:stream';
    import { pipeline } from 'node:stream/promises';
    const [path, size, entryName, manifest] = process.argv.slice(1);
    const total = Number(size);
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(manifest), 'imsmanifest.xml');
    async function* chunks() { for (let done = 0; done < total; done += 262144) yield randomBytes(Math.min(262144, total - done)); }
    zip.addReadStream(Readable.from(chunks()), entryName, { compress: false });
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(path));
  `;
  await execFileAsync(process.execPath, ['--input-type=module', '-e', script, path, String(bytes), entryName, MINIMAL_MANIFEST], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  return path;
}
