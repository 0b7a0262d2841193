import type { Kysely } from 'kysely';
import type { Database, Dispatch, DispatchDestination, DispatchEvent } from '../store/tables.js';
import { listAttemptsOfLink, listRegistrations, type DispatchAttemptRow } from './dispatch.repository.js';

/* What the provider sees of a dispatch: its learners' progress, and the JSON views of dispatches, destinations, refusals and report rows for the API and the CLI. */

export interface ReportRow {
  readonly registrationId: string;
  readonly learnerId: string;
  readonly learnerName: string | null;
  readonly hashed: boolean;
  readonly attempt: number | null;
  readonly completion: string;
  readonly success: string;
  readonly status: string;
  readonly scorePercent: number | null;
  readonly timeMs: number;
  readonly launches: number;
  readonly firstLaunchAt: number;
  readonly lastLaunchAt: number;
}

/** Per registration: the learner (or hash), the latest attempt's status and score, first and last launch. */
export async function dispatchReport(db: Kysely<Database>, d: Pick<Dispatch, 'id' | 'resource_link_ref'>): Promise<ReportRow[]> {
  const regs = await listRegistrations(db, d.id);
  const attempts = await listAttemptsOfLink(db, d.resource_link_ref);
  const latest = new Map<string, DispatchAttemptRow>();
  for (const a of attempts) if ((latest.get(a.user_id)?.number ?? 0) < a.number) latest.set(a.user_id, a);
  return regs.map((r) => {
    const a = latest.get(r.user_id);
    const completion = a?.completion ?? 'not attempted';
    const success = a?.success ?? 'unknown';
    const scaled = a?.score_scaled ?? null;
    return {
      registrationId: r.id,
      learnerId: r.learner_id,
      learnerName: r.learner_name,
      hashed: r.hashed === 1,
      attempt: a?.number ?? null,
      completion,
      success,
      status: success !== 'unknown' ? success : completion,
      scorePercent: scaled === null ? null : Math.round(scaled * 10000) / 100,
      timeMs: a?.total_time_ms ?? 0,
      launches: r.launch_count,
      firstLaunchAt: r.first_launch_at,
      lastLaunchAt: r.last_launch_at,
    };
  });
}

/** The JSON of a dispatch for the API and the CLI (never the secret or its seed). */
export function dispatchJson(d: Dispatch) {
  return {
    id: d.id,
    destinationId: d.destination_id,
    packageId: d.package_id,
    title: d.title,
    scormVersion: d.scorm_version,
    hashLearnerIds: d.hash_learner_ids === 1,
    licence: {
      enabled: d.enabled === 1,
      allowNewRegistrations: d.allow_new_registrations === 1,
      registrationCap: d.registration_cap,
      expiresAt: d.expires_at === null ? null : new Date(d.expires_at).toISOString(),
      launchCap: d.launch_cap,
    },
    counts: { registrations: d.registration_count, launches: d.launch_count, refused: d.refused_count },
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

export function destinationJson(d: DispatchDestination) {
  return {
    id: d.id,
    name: d.name,
    notes: d.notes,
    enabled: d.enabled === 1,
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

export function eventJson(e: DispatchEvent) {
  return { at: new Date(e.at).toISOString(), code: e.code, learnerId: e.learner_id };
}

export function reportJson(r: ReportRow) {
  return {
    ...r,
    firstLaunchAt: new Date(r.firstLaunchAt).toISOString(),
    lastLaunchAt: new Date(r.lastLaunchAt).toISOString(),
  };
}
