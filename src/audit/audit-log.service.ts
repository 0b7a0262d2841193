import type { Kysely } from 'kysely';
import { distinctAuditActions } from '../store/audit-log.repository.js';
import type { AuditEntryRow, Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { randomToken } from '../util/ids.js';
import { insertAuditEntry, listAuditEntries } from './audit.repository.js';

/**
 * Who did something: the console (`admin:<email>`), the API (`api-token:<name>`), the CLI
 * (`cli`), the background worker (`system`) or an LMS (`platform:<id>`, dynamic registration).
 */
export type Actor = `admin:${string}` | `api-token:${string}` | 'cli' | 'system' | `platform:${string}`;

export interface AuditEvent {
  readonly actor: Actor;
  /** Dotted verb, e.g. `platform.register`, `key.rotate`, `admin.login`. */
  readonly action: string;
  readonly target?: string | undefined;
  /** What changed. Never put secrets (passwords, tokens, private keys) here. */
  readonly details?: Record<string, unknown> | undefined;
  readonly ip?: string | undefined;
}

export interface AuditEntry extends Omit<AuditEvent, 'details' | 'actor'> {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly details: Record<string, unknown> | null;
}

export interface AuditQuery {
  readonly limit?: number;
  /** Entries strictly older than this entry (paging). */
  readonly before?: { at: number; id: string };
  readonly action?: string;
}

/** Append-only record of administrative actions. Entries are written in the caller's transaction when given one. */
export class AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  private seq = 0;

  /** Ids sort in the order entries were written by this process, even within one millisecond. */
  private nextId(): string {
    this.seq = (this.seq + 1) % 0x1000000;
    return `aud_${Math.max(0, Math.floor(this.clock.now())).toString(16).padStart(12, '0')}${this.seq.toString(16).padStart(6, '0')}${randomToken(6)}`;
  }

  async record(event: AuditEvent, trx: Kysely<Database> = this.db): Promise<void> {
    await insertAuditEntry(trx, {
      id: this.nextId(),
      at: this.clock.now(),
      actor: event.actor.slice(0, 255),
      action: event.action,
      target: event.target?.slice(0, 255) ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
      ip: event.ip ?? null,
    });
  }

  /** The actions recorded so far, A→Z. */
  actions(): Promise<string[]> {
    return distinctAuditActions(this.db);
  }

  /** Newest first. */
  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const rows = await listAuditEntries(this.db, { action: query.action, before: query.before, limit: Math.min(Math.max(query.limit ?? 100, 1), 1000) });
    return rows.map(auditEntryJson);
  }
}

export function auditEntryJson(row: AuditEntryRow): AuditEntry {
  return {
    id: row.id,
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target ?? undefined,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
    ip: row.ip ?? undefined,
  };
}
