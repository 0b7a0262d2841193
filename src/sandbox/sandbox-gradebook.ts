import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';
import { listScores, type SandboxScore } from './sandbox.repository.js';

/** The gradebook cell of each learner: their latest score (by the score's own timestamp). */
export async function latestScores(db: Kysely<Database>, lineItemId: string): Promise<Map<string, SandboxScore>> {
  const latest = new Map<string, SandboxScore>();
  for (const s of await listScores(db, lineItemId)) {
    const prev = latest.get(s.userId);
    if (!prev || Date.parse(s.timestamp) >= Date.parse(prev.timestamp)) latest.set(s.userId, s);
  }
  return latest;
}
