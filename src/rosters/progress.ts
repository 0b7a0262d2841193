import { rosterKind } from '../lti/roles.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';
import {
  findLinkContextId,
  listLearnerMembers,
  listLinkAttempts,
  listLinkGradeStates,
  listLinkLaunchRoles,
  listLinkMemberSubs,
  listStaffSubs,
} from './roster.repository.js';

export interface ProgressRow {
  readonly sub: string;
  readonly name: string | null;
  readonly email: string | null;
  /** Active | Inactive (from the LMS roster), or "Launched" for someone only seen at launch. */
  readonly status: string;
  readonly attempt: number | null;
  readonly completion: string;
  readonly success: string;
  readonly scorePercent: number | null;
  readonly timeMs: number;
  readonly lastAccess: number | null;
  /** The newest score's delivery state: sent, pending, sending, skipped, dead; null when none. */
  readonly grade: string | null;
  readonly gradeError: string | null;
}

export type ProgressSort = 'name' | 'completion' | 'score' | 'time' | 'last';
export const PROGRESS_SORTS: readonly ProgressSort[] = ['name', 'completion', 'score', 'time', 'last'];

const COMPLETION_ORDER: Record<string, number> = { 'not attempted': 0, incomplete: 1, completed: 2 };

/**
 * One row per learner of the link's course: everyone the LMS roster lists as a learner
 * (including those who never launched) and everyone who launched this link.
 */
export async function progressRows(db: Kysely<Database>, resourceLinkId: string, sort: ProgressSort): Promise<ProgressRow[]> {
  const contextId = await findLinkContextId(db, resourceLinkId);
  const members = contextId ? await listLearnerMembers(db, contextId) : [];
  const attempts = await listLinkAttempts(db, resourceLinkId);
  const grades = await listLinkGradeStates(db, resourceLinkId);
  // Who launched this link as what: the attempt keeps it; launch rows (they expire after a few
  // hours) tell it for attempts made before that was recorded. Staff previewing are not learners.
  const launches = await listLinkLaunchRoles(db, resourceLinkId);
  const launchedAs = new Map<string, string>();
  for (const l of launches) if (!launchedAs.has(l.sub)) launchedAs.set(l.sub, rosterKind(JSON.parse(l.roles) as string[]));
  const staff = new Set(contextId ? await listStaffSubs(db, contextId) : []);
  const latestAttempt = new Map<string, (typeof attempts)[number]>();
  for (const a of attempts) if (!latestAttempt.has(a.sub)) latestAttempt.set(a.sub, a);
  const latestGrade = new Map<string, (typeof grades)[number]>();
  for (const g of grades) if (!latestGrade.has(g.user_id)) latestGrade.set(g.user_id, g);

  // With a link-scoped roster (NRPS rlid), only the learners who can access this link.
  const linkScope = new Set(await listLinkMemberSubs(db, resourceLinkId));
  const subs = new Map<string, { name: string | null; email: string | null; status: string }>();
  for (const m of members) if (linkScope.size === 0 || linkScope.has(m.user_sub)) subs.set(m.user_sub, { name: m.name, email: m.email, status: m.status });
  for (const a of attempts) {
    if (subs.has(a.sub) || staff.has(a.sub) || (a.role_kind ?? launchedAs.get(a.sub) ?? 'learner') !== 'learner') continue;
    subs.set(a.sub, { name: a.name, email: a.email, status: 'Launched' });
  }

  const rows: ProgressRow[] = [...subs.entries()].map(([sub, who]) => {
    const a = latestAttempt.get(sub);
    const g = a ? latestGrade.get(a.userId) : undefined;
    return {
      sub,
      name: who.name ?? a?.name ?? null,
      email: who.email ?? a?.email ?? null,
      status: who.status,
      attempt: a?.number ?? null,
      completion: a?.completion ?? 'not attempted',
      success: a?.success ?? 'unknown',
      scorePercent: a?.score_scaled == null ? null : Math.round(a.score_scaled * 1000) / 10,
      timeMs: a?.total_time_ms ?? 0,
      lastAccess: a?.last_access_at ?? null,
      grade: g?.state ?? null,
      gradeError: g?.last_error ?? null,
    };
  });
  const byName = (a: ProgressRow, b: ProgressRow) => (a.name ?? a.sub).localeCompare(b.name ?? b.sub);
  const order: Record<ProgressSort, (a: ProgressRow, b: ProgressRow) => number> = {
    name: byName,
    completion: (a, b) => (COMPLETION_ORDER[b.completion] ?? 0) - (COMPLETION_ORDER[a.completion] ?? 0) || byName(a, b),
    score: (a, b) => (b.scorePercent ?? -1) - (a.scorePercent ?? -1) || byName(a, b),
    time: (a, b) => b.timeMs - a.timeMs || byName(a, b),
    last: (a, b) => (b.lastAccess ?? 0) - (a.lastAccess ?? 0) || byName(a, b),
  };
  return rows.sort(order[sort]);
}

/** One CSV (RFC 4180) cell; a value a spreadsheet would run as a formula is defused with a leading quote. */
export function csvCell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV (RFC 4180) with cells that spreadsheets would run as formulas defused. */
export function progressCsv(rows: readonly ProgressRow[]): string {
  const cell = csvCell;
  const header = [
    'learner id',
    'name',
    'email',
    'status',
    'attempt',
    'completion',
    'success',
    'score %',
    'time (minutes)',
    'last access',
    'grade delivery',
    'grade error',
  ];
  const lines = rows.map((r) =>
    [
      r.sub,
      r.name,
      r.email,
      r.status,
      r.attempt,
      r.completion,
      r.success,
      r.scorePercent,
      Math.round(r.timeMs / 600) / 100,
      r.lastAccess ? new Date(r.lastAccess).toISOString() : null,
      r.grade,
      r.gradeError,
    ]
      .map(cell)
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
