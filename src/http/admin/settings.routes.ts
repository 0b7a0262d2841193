import { SettingsPage } from '../../web/admin/settings-page.js';
import type { AdminPageModule } from './console.js';

/** Settings → LTI configuration: the URLs to give an LMS, per platform its ids, and per-LMS guides. */
export const settingsPages: AdminPageModule = (c) => {
  c.get('/settings', async (_request, reply, ctx) =>
    c.render(reply, ctx, {
      title: 'LTI configuration',
      nav: 'settings',
      body: SettingsPage({ baseUrl: c.deps.config.baseUrl, platforms: await c.deps.services.platforms.list() }),
    }),
  );
};
