import type { KeySchedule } from './tool-keys.service.js';
import type { ToolKey } from '../store/tables.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public view of a tool key (never its private half). */
export function toolKeyJson(k: ToolKey): Record<string, unknown> {
  return { kid: k.kid, state: k.state, alg: k.alg, createdAt: iso(k.created_at), activatedAt: iso(k.activated_at), retiredAt: iso(k.retired_at) };
}

/** The rotation schedule with ISO dates (API, CLI --json, keys page). */
export function keyScheduleJson(s: KeySchedule): Record<string, unknown> {
  return {
    automatic: s.automatic,
    policy: {
      rotateEveryDays: s.policy.rotateEveryMs / 86_400_000,
      publishBeforeUseDays: s.policy.publishBeforeUseMs / 86_400_000,
      retiredOverlapHours: s.policy.retiredOverlapMs / 3_600_000,
    },
    current: s.current ? { kid: s.current.kid, activatedAt: iso(s.current.activatedAt) } : null,
    next: s.next ? { kid: s.next.kid, publishedAt: iso(s.next.publishedAt), promotableAt: iso(s.next.promotableAt) } : null,
    upcoming: s.upcoming ? { action: s.upcoming.action, at: iso(s.upcoming.at) } : null,
    retiredPublished: s.retiredPublished.map((r) => ({ kid: r.kid, retiredAt: iso(r.retiredAt), unpublishAt: iso(r.unpublishAt) })),
  };
}
