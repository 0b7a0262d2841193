import { AppError } from '../errors/app-error.js';
import type { ServiceAccess, TokenPlatform } from './service-access.js';
import type { SafeFetch } from '../util/safe-fetch.js';

/** Assignment and Grade Services 2.0: scopes and media types. */
export const AGS_SCOPE = {
  LINEITEM: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  LINEITEM_READONLY: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  RESULT_READONLY: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  SCORE: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;

export const AGS_MEDIA = {
  LINEITEM: 'application/vnd.ims.lis.v2.lineitem+json',
  LINEITEM_CONTAINER: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  SCORE: 'application/vnd.ims.lis.v1.score+json',
  RESULT_CONTAINER: 'application/vnd.ims.lis.v2.resultcontainer+json',
} as const;

export type ActivityProgress = 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
export type GradingProgress = 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';

export interface LineItem {
  readonly id: string;
  readonly scoreMaximum: number;
  readonly label: string;
  readonly resourceId?: string;
  readonly resourceLinkId?: string;
  readonly tag?: string;
}

export interface Score {
  readonly userId: string;
  readonly scoreGiven?: number;
  readonly scoreMaximum?: number;
  readonly comment?: string;
  /** ISO 8601 with milliseconds. */
  readonly timestamp: string;
  readonly activityProgress: ActivityProgress;
  readonly gradingProgress: GradingProgress;
}

export interface Result {
  readonly id?: string;
  readonly userId: string;
  readonly resultScore?: number;
  readonly resultMaximum?: number;
  readonly comment?: string;
}

/** A service call that failed: the status and, for 429/503, how long the LMS asked us to wait. */
export class ServiceCallError extends AppError {
  constructor(
    message: string,
    readonly httpStatus: number | null,
    readonly retryAfterMs: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super('SERVICE_CALL_FAILED', message, { ...options, details: { status: httpStatus } });
    this.name = 'ServiceCallError';
  }

  /** 4xx other than 408/409/429 will not get better by retrying. */
  get permanent(): boolean {
    return this.httpStatus !== null && this.httpStatus >= 400 && this.httpStatus < 500 && ![408, 409, 429].includes(this.httpStatus);
  }
}

/**
 * The URL of a line item's sub-resource (`/scores`, `/results`): the suffix goes on the
 * path and any query is kept — Moodle's line item URLs carry `?type_id=…`.
 */
export function lineItemServiceUrl(lineItemUrl: string, suffix: 'scores' | 'results'): URL {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${suffix}`;
  return url;
}

/** The target of `Link: <…>; rel="…"` (RFC 8288), as AGS and NRPS use it for paging and differences. */
export function linkWithRel(header: string | null, rel: string, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    const rels = /\brel\s*=\s*"?([^";]*)"?/i.exec(m?.[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    if (m && rels.includes(rel)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}

export const nextLink = (header: string | null, base: string): string | undefined => linkWithRel(header, 'next', base);

/** `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as whole milliseconds from `now`; undefined when absent or malformed. */
export function retryAfter(header: string | null, now: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date names a weekday and a month: anything else (a negative or decimal number) is not one.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const MAX_PAGES = 100;

/** The tool side of AGS 2.0: line items, scores and results, with cached service tokens. */
export class AgsClient {
  constructor(
    private readonly fetch: SafeFetch,
    private readonly tokens: ServiceAccess,
    private readonly now: () => number = Date.now,
  ) {}

  private async call(
    platform: TokenPlatform,
    scopes: readonly string[],
    url: string | URL,
    init: { method: string; accept?: string; contentType?: string; body?: string; signal?: AbortSignal },
  ): Promise<Response> {
    let res: Response;
    try {
      res = await this.tokens.withToken(platform, scopes, (accessToken) => {
        // Checked again right before the request leaves: a token fetch may have used up the time.
        if (init.signal?.aborted)
          throw new ServiceCallError(`${init.method} ${new URL(url).origin} not sent: the time allowed for it ran out`, null, undefined);
        return this.fetch(url, {
          method: init.method,
          headers: {
            authorization: `Bearer ${accessToken}`,
            ...(init.accept ? { accept: init.accept } : {}),
            ...(init.contentType ? { 'content-type': init.contentType } : {}),
          },
          ...(init.body !== undefined ? { body: init.body } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        });
      });
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new ServiceCallError(`${init.method} ${new URL(url).origin} failed: ${(err as Error).message}`, null, undefined, { cause: err });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new ServiceCallError(
        `${init.method} ${new URL(url).pathname} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
        res.status,
        retryAfter(res.headers.get('retry-after'), this.now()),
      );
    }
    return res;
  }

  /** Every line item of the container matching the filter, across all pages. */
  async findLineItems(
    platform: TokenPlatform,
    containerUrl: string,
    filter: { resourceLinkId?: string; resourceId?: string; tag?: string },
  ): Promise<LineItem[]> {
    const first = new URL(containerUrl);
    if (filter.resourceLinkId) first.searchParams.set('resource_link_id', filter.resourceLinkId);
    if (filter.resourceId) first.searchParams.set('resource_id', filter.resourceId);
    if (filter.tag) first.searchParams.set('tag', filter.tag);
    const items: LineItem[] = [];
    let url: string | undefined = first.toString();
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await this.call(platform, [AGS_SCOPE.LINEITEM], url, { method: 'GET', accept: AGS_MEDIA.LINEITEM_CONTAINER });
      const body = (await res.json()) as unknown;
      if (Array.isArray(body)) items.push(...(body as LineItem[]));
      url = nextLink(res.headers.get('link'), url);
    }
    return items;
  }

  async createLineItem(platform: TokenPlatform, containerUrl: string, item: Omit<LineItem, 'id'>): Promise<LineItem> {
    const res = await this.call(platform, [AGS_SCOPE.LINEITEM], containerUrl, {
      method: 'POST',
      accept: AGS_MEDIA.LINEITEM,
      contentType: AGS_MEDIA.LINEITEM,
      body: JSON.stringify(item),
    });
    return (await res.json()) as LineItem;
  }

  /**
   * The line item for a resource link: the one the launch named (deep linking created it),
   * else the container's item for this resource link, else a new one.
   */
  async ensureLineItem(
    platform: TokenPlatform,
    ags: { lineitem?: string; lineitems?: string },
    wanted: Omit<LineItem, 'id'> & { resourceLinkId: string },
  ): Promise<string> {
    if (ags.lineitem) return ags.lineitem;
    if (!ags.lineitems) throw new ServiceCallError('The launch offers neither a line item nor a line item container.', null, undefined);
    const found = await this.findLineItems(platform, ags.lineitems, { resourceLinkId: wanted.resourceLinkId });
    const match = found.find((i) => i.resourceLinkId === wanted.resourceLinkId) ?? found[0];
    if (match) return match.id;
    return (await this.createLineItem(platform, ags.lineitems, wanted)).id;
  }

  /** `signal` ends the request (or keeps it from leaving) when the caller may no longer send it. */
  async postScore(platform: TokenPlatform, lineItemUrl: string, score: Score, options: { signal?: AbortSignal } = {}): Promise<void> {
    const res = await this.call(platform, [AGS_SCOPE.SCORE], lineItemServiceUrl(lineItemUrl, 'scores'), {
      method: 'POST',
      contentType: AGS_MEDIA.SCORE,
      body: JSON.stringify(score),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await res.body?.cancel();
  }

  /** The learner's current result in the LMS gradebook (for manual-grade policies). */
  async result(platform: TokenPlatform, lineItemUrl: string, userId: string): Promise<Result | undefined> {
    const url = lineItemServiceUrl(lineItemUrl, 'results');
    url.searchParams.set('user_id', userId);
    const res = await this.call(platform, [AGS_SCOPE.RESULT_READONLY], url, { method: 'GET', accept: AGS_MEDIA.RESULT_CONTAINER });
    const body = (await res.json()) as unknown;
    return Array.isArray(body) ? (body as Result[]).find((r) => r.userId === userId) : undefined;
  }
}
