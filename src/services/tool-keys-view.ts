import type { ToolKey } from '../store/tables.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public view of a tool key (never its private half). */
export function toolKeyJson(k: ToolKey): Record<string, unknown> {
  return { kid: k.kid, state: k.state, alg: k.alg, createdAt: iso(k.created_at), activatedAt: iso(k.activated_at), retiredAt: iso(k.retired_at) };
}
