import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';
import type { ProgressRow, ProgressSort } from './progress.js';
import { findLinkTitles } from './progress.repository.js';

/**
 * A duration for people: seconds while they matter (14 s, 3 min 20 s), minutes and hours after
 * (whole minutes hid short sessions: 14 seconds of play showed as "0 min").
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  const seconds = Math.round(ms / 1000);
  if (seconds < 1) return '< 1 s';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  if (minutes < 60) return `${Math.round(seconds / 60)} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

export interface ProgressSummary {
  readonly learners: number;
  readonly started: number;
  readonly completed: number;
  readonly passed: number;
  readonly notStarted: number;
}

/** Counts for the line above the table: who has started, completed, passed, not started. */
export function progressSummary(rows: readonly ProgressRow[]): ProgressSummary {
  const started = rows.filter((r) => r.attempt !== null && r.completion !== 'not attempted').length;
  return {
    learners: rows.length,
    started,
    completed: rows.filter((r) => r.completion === 'completed').length,
    passed: rows.filter((r) => r.success === 'passed').length,
    notStarted: rows.length - started,
  };
}

export function summaryLine(s: ProgressSummary): string {
  if (s.learners === 0) return 'No learners yet.';
  return `${s.learners} ${s.learners === 1 ? 'learner' : 'learners'}: ${s.started} started, ${s.completed} completed, ${s.passed} passed, ${s.notStarted} not started.`;
}

/** How each column sorts (for aria-sort): names A→Z, everything else highest or latest first. */
export function sortDirection(sort: ProgressSort): 'ascending' | 'descending' {
  return sort === 'name' ? 'ascending' : 'descending';
}

/** The query that keeps a sort across a page reload or a roster update ('' for the default sort). */
export function sortQuery(sort: ProgressSort): string {
  return sort === 'name' ? '' : `?sort=${sort}`;
}

function slug(text: string | null): string {
  return (text ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '')
    .toLowerCase();
}

/** `progress-<course>-<activity>.csv`, ASCII only (a header value), `progress.csv` when nothing is named. */
export function progressCsvFileName(titles: { courseTitle: string | null; linkTitle: string | null }): string {
  const parts = [slug(titles.courseTitle), slug(titles.linkTitle)].filter(Boolean);
  return `progress${parts.length ? `-${parts.join('-')}` : ''}.csv`;
}

/** The Content-Disposition of a link's progress export, named after its course and activity. */
export async function progressCsvDisposition(db: Kysely<Database>, resourceLinkId: string): Promise<string> {
  return `attachment; filename="${progressCsvFileName(await findLinkTitles(db, resourceLinkId))}"`;
}
