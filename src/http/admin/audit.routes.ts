import { AuditPage } from '../../web/admin/audit-page.js';
import type { AdminPageModule } from './console.js';
import { queryOf } from './console.js';

export const AUDIT_PAGE_SIZE = 50;

/** Audit log: newest first, paged with a cursor (`before=<ms>~<id>`) that stays stable as entries are added. */
export const auditPages: AdminPageModule = (c) => {
  c.get('/audit', async (request, reply, ctx) => {
    const q = queryOf(request);
    const action = typeof q.action === 'string' ? q.action.trim().slice(0, 64) : '';
    let before: { at: number; id: string } | undefined;
    if (typeof q.before === 'string') {
      const m = /^(\d{1,16})~([A-Za-z0-9_-]{1,64})$/.exec(q.before);
      if (m) before = { at: Number(m[1]), id: m[2]! };
    }
    const rows = await c.deps.services.audit.list({ limit: AUDIT_PAGE_SIZE + 1, ...(action ? { action } : {}), ...(before ? { before } : {}) });
    const entries = rows.slice(0, AUDIT_PAGE_SIZE);
    const last = entries.at(-1);
    const olderHref =
      rows.length > AUDIT_PAGE_SIZE && last
        ? `/admin/audit?${new URLSearchParams({ ...(action ? { action } : {}), before: `${Date.parse(last.at)}~${last.id}` }).toString()}`
        : undefined;
    const actions = await c.deps.services.audit.actions();
    return c.render(reply, ctx, { title: 'Audit log', nav: 'audit', body: AuditPage({ entries, action, actions, olderHref, firstPage: !before }) });
  });
};
