import { readFile, stat } from 'node:fs/promises';
import mime from 'mime-types';

/** A small package file held in memory, with what its response headers need. */
export interface CachedFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: string;
}

export interface FileCacheOptions {
  /** Files larger than this are always streamed from disk. */
  readonly maxFileBytes: number;
  /** Total bytes held; the least recently used files go first. */
  readonly maxTotalBytes: number;
}

/**
 * Package versions never change once imported, so their small files (HTML, scripts,
 * styles, images) can be served from memory without a stat or an open per request.
 * Missing files, directories and large files are not cached: the caller streams them.
 */
export class PackageFileCache {
  private readonly files = new Map<string, CachedFile>();
  private total = 0;

  constructor(private readonly options: FileCacheOptions = { maxFileBytes: 256 * 1024, maxTotalBytes: 64 * 1024 * 1024 }) {}

  /** The cached file, loading it when it is small enough; undefined means "stream it". */
  async get(absolutePath: string): Promise<CachedFile | undefined> {
    const hit = this.files.get(absolutePath);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.files.delete(absolutePath);
      this.files.set(absolutePath, hit);
      return hit;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absolutePath);
    } catch {
      return undefined;
    }
    if (!info.isFile() || info.size > this.options.maxFileBytes) return undefined;
    const body = await readFile(absolutePath);
    const file: CachedFile = {
      body,
      contentType: mime.contentType(mime.lookup(absolutePath) || 'application/octet-stream') || 'application/octet-stream',
      // The same weak validator @fastify/send derives from size and mtime.
      etag: `W/"${info.size.toString(16)}-${info.mtime.getTime().toString(16)}"`,
      lastModified: info.mtime.toUTCString(),
    };
    this.files.set(absolutePath, file);
    this.total += body.length;
    while (this.total > this.options.maxTotalBytes) {
      const [oldest, value] = this.files.entries().next().value as [string, CachedFile];
      this.files.delete(oldest);
      this.total -= value.body.length;
    }
    return file;
  }
}
