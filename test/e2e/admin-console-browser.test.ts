import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCatalogue } from '../../src/packages/package.repository.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/admin.js';
import { launchChromium } from '../helpers/browser.js';
import { buildCourse } from '../helpers/courses.js';
import { COURSE_12 } from '../helpers/fixtures.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const WAIT_MS = 10_000;

interface ProgressEvent {
  loaded: number;
  total: number;
  barValue: number;
  barMax: number;
  barHidden: boolean;
}

describe('the admin console in Chromium', () => {
  let tool: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const progress: ProgressEvent[] = [];

  beforeAll(async () => {
    tool = await startLiveServer('sqlite');
    browser = await launchChromium();
    context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tool.baseUrl });
    // Records every XHR upload progress event with the state of the page's progress bar right after it.
    await context.exposeFunction('cpProgress', (e: ProgressEvent) => void progress.push(e));
    // (Browser code as text: the test project's TypeScript has no DOM types.)
    await context.addInitScript({
      content: `(() => {
        const open = XMLHttpRequest.prototype.open;
        XMLHttpRequest.prototype.open = function (...args) {
          this.upload.addEventListener('progress', (e) => {
            setTimeout(() => {
              const bar = document.getElementById('upload-progress');
              window.cpProgress({ loaded: e.loaded, total: e.total, barValue: bar ? bar.value : -1, barMax: bar ? bar.max : -1, barHidden: bar ? bar.hidden : true });
            }, 0);
          });
          return open.apply(this, args);
        };
      })();`,
    });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await tool?.close();
  });

  const sessions = async () => tool.store.db.selectFrom('admin_sessions').selectAll().execute();

  it('asks for the first administrator on an empty database, then shows the console', { timeout: 30_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/setup');
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password', { exact: false }).first().fill(ADMIN_PASSWORD);
    await page.getByLabel('Confirm password').fill('a different password');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect.poll(() => page.locator('#form-problems').textContent()).toContain('the two passwords differ');
    expect(await page.getByLabel('Email').inputValue()).toBe(ADMIN_EMAIL);

    await page.locator('#password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Confirm password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.waitForURL(`${tool.baseUrl}/admin/settings`);
    expect(await page.locator('.notice').textContent()).toContain(`Administrator ${ADMIN_EMAIL} created`);
    for (const label of ['Settings', 'Platforms', 'Packages', 'Grades', 'Keys', 'Audit log']) {
      expect(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).count()).toBe(1);
    }
    expect(await tool.app.services.admins.count()).toBe(1);

    // Copy buttons appear with scripts and put the URL on the clipboard.
    const copy = page.locator('button[data-copy="url-jwks"]');
    await copy.click();
    await expect.poll(() => copy.getAttribute('data-copied')).toBe('true');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${tool.baseUrl}/.well-known/jwks.json`);
  });

  it('logs out (the session is gone) and back in', { timeout: 30_000 }, async () => {
    expect(await sessions()).toHaveLength(1);
    // Plain http here: the session cookie cannot be Secure, but is HttpOnly, Lax and limited to /admin.
    const cookie = (await context.cookies(`${tool.baseUrl}/admin/settings`)).find((c) => c.name === 'cp_admin_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/admin', secure: false });
    await page.getByRole('button', { name: 'Logout' }).click();
    await page.waitForURL(/\/admin\/login/);
    expect(await page.locator('.notice').textContent()).toContain('signed out');
    expect(await sessions()).toEqual([]);
    await page.goto(`${tool.baseUrl}/admin/keys`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill('wrong password, surely');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('[data-error-code]').textContent()).toBe('ADMIN_LOGIN_FAILED');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${tool.baseUrl}/admin/keys`);
    expect(await sessions()).toHaveLength(1);
  });

  it('refuses a form whose anti-forgery token is missing or wrong, and changes nothing', { timeout: 30_000 }, async () => {
    const keysBefore = await tool.app.services.toolKeys.list();
    await page.goto(`${tool.baseUrl}/admin/keys`);
    await page.evaluate(
      `document.querySelector('form[action="/admin/keys/rotate-now"] input[name=_csrf]').value = 'forged-token-forged-token-forged-token-000'`,
    );
    await page.locator('#rotate-now').click();
    await expect.poll(() => page.locator('[data-error-code]').textContent()).toBe('ADMIN_CSRF_INVALID');
    expect(await page.locator('h1').textContent()).toBe('Form expired or forged');

    await page.goto(`${tool.baseUrl}/admin/keys`);
    await page.evaluate(`document.querySelector('form[action="/admin/keys/rotate-now"] input[name=_csrf]').remove()`);
    await page.locator('#rotate-now').click();
    await expect.poll(() => page.locator('[data-error-code]').textContent()).toBe('ADMIN_CSRF_INVALID');
    expect(await tool.app.services.toolKeys.list()).toEqual(keysBefore);
    expect(await tool.app.services.audit.list({ action: 'key.rotate' })).toEqual([]);
  });

  it('registers a platform through the form: problems shown with the input kept, then saved', { timeout: 30_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin/platforms`);
    await page.locator('#add-platform').click();
    await page.locator('#pf-name').fill('Brightspace Test');
    await page.locator('#pf-issuer').fill('https://d2l.example.edu');
    await page.locator('#pf-clientId').fill('b2c-client-1');
    await page.locator('#pf-authUrl').fill('https://d2l.example.edu/d2l/lti/authenticate');
    await page.locator('#pf-tokenUrl').fill('not-a-url');
    await page.locator('#pf-jwksUrl').fill('https://d2l.example.edu/d2l/.well-known/jwks');
    await page.locator('#pf-deployments').fill('dep-guid-1');
    await page.locator('#platform-save').click();
    await expect.poll(() => page.locator('#form-problems').textContent()).toContain('token URL is not a URL: not-a-url');
    expect(await page.locator('#pf-clientId').inputValue()).toBe('b2c-client-1');
    expect(await page.locator('#pf-deployments').inputValue()).toBe('dep-guid-1');

    await page.locator('#pf-tokenUrl').fill('https://auth.brightspace.com/core/connect/token');
    await page.locator('#pf-tokenAudience').fill('https://api.brightspace.com/auth/token');
    await page.locator('#platform-save').click();
    await page.waitForURL(/\/admin\/platforms\/plt_/);
    expect(await page.locator('h1').textContent()).toBe('Brightspace Test');
    expect(await page.locator('#deployments [data-deployment="dep-guid-1"]').count()).toBe(1);

    await page.goto(`${tool.baseUrl}/admin/platforms`);
    expect(await page.locator('#platforms').textContent()).toContain('b2c-client-1');
    const stored = await tool.store.db.selectFrom('platforms').selectAll().where('client_id', '=', 'b2c-client-1').executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ issuer: 'https://d2l.example.edu', token_audience: 'https://api.brightspace.com/auth/token', status: 'active' });
  });

  it('shows a refused upload under the form with its error code', { timeout: 30_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin/packages`);
    await page
      .locator('#upload-file')
      .setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('this is not a zip archive at all') });
    await page.locator('#upload-submit').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toContain('[PACKAGE_NOT_ZIP]');
    expect(new URL(page.url()).pathname).toBe('/admin/packages');
    expect(await tool.app.services.packages.list()).toEqual([]);
    progress.length = 0;
  });

  it('uploads a package with a progress bar, lists it, and archives it', { timeout: 45_000 }, async () => {
    // A course of a realistic size (a lecture video beside its pages), so the upload takes several progress events.
    const dir = mkdtempSync(join(tmpdir(), 'courseport-upload-'));
    const zip = await buildCourse('bike-care-12', join(dir, 'bike-care-with-video.zip'), {
      extra: [{ name: 'media/lecture.mp4', data: randomBytes(400_000), compress: false }],
    });
    const size = statSync(zip).size;
    expect(size).toBeGreaterThan(350_000);
    try {
      await page.goto(`${tool.baseUrl}/admin/packages`);
      await page.getByLabel('Title').fill('Bicycle Care in the browser');
      await page.locator('#upload-file').setInputFiles(zip);
      await page.locator('#upload-submit').click();
      await page.waitForURL(/\/admin\/packages\/pkg_/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await page.locator('.notice').textContent()).toContain('Bicycle Care in the browser');

    // The upload went through XHR and its progress drove the bar to the full size of the file.
    await expect.poll(() => progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last.loaded).toBe(last.total);
    expect(last.total).toBeGreaterThan(size);
    expect(last.barHidden).toBe(false);
    expect(last.barValue).toBe(last.barMax);

    const id = /\/admin\/packages\/(pkg_[\w-]+)/.exec(page.url())![1]!;
    expect(await page.locator('#versions [data-version="1"]').textContent()).toContain('bike-care-with-video.zip');
    await page.goto(`${tool.baseUrl}/admin/packages`);
    expect(await page.locator(`#packages [data-id="${id}"]`).textContent()).toContain('Bicycle Care in the browser');
    expect((await listCatalogue(tool.store.db)).map((p) => p.id)).toEqual([id]);

    await page.locator(`#packages [data-id="${id}"] button[data-action="archive"]`).click();
    await page.waitForURL(`${tool.baseUrl}/admin/packages`);
    expect(await page.locator('.notice').textContent()).toContain('archived');
    expect(await page.locator(`#packages [data-id="${id}"]`).count()).toBe(0);
    expect(await listCatalogue(tool.store.db)).toEqual([]);
    expect((await tool.app.services.packages.get(id)).package.status).toBe('archived');
  });

  it('keeps package scripts (same origin) from reading console pages of a signed-in administrator', { timeout: 30_000 }, async () => {
    await page.goto(`${tool.baseUrl}/admin/settings`);
    expect(await page.locator('input[name="_csrf"]').count()).toBeGreaterThan(0);
    // A package file open in another tab of the same browser, as a malicious SCO would be.
    const imported = await tool.app.services.packages.importPackage(COURSE_12);
    const sco = await context.newPage();
    try {
      await sco.goto(`${tool.baseUrl}/content/${tool.app.services.contentTokens.issue(imported.version.id, Date.now())}/launch.html`);
      const read = await sco.evaluate(`(async () => {
        const r = await fetch('/admin/settings', { credentials: 'include' });
        const text = await r.text();
        return { status: r.status, leaked: text.includes('name="_csrf"') };
      })()`);
      expect(read).toEqual({ status: 403, leaked: false });
      const opened = await sco.evaluate(`(async () => {
        const w = window.open('/admin/settings');
        // Until the window has loaded the console page (then it could leak) or is severed from us.
        const deadline = Date.now() + 10000;
        for (;;) {
          try {
            if (!w || w.closed) return 'severed';
            if (w.document.readyState === 'complete' && w.location.pathname === '/admin/settings') return w.document.body.innerHTML.includes('name="_csrf"') ? 'leaked' : 'severed';
          } catch (e) { return 'severed'; }
          if (Date.now() > deadline) return 'undecided';
          await new Promise((r) => requestAnimationFrame(r));
        }
      })()`);
      expect(opened).toBe('severed');
    } finally {
      await sco.close();
    }
    // The administrator's own tab still works.
    await page.reload();
    expect(await page.locator('input[name="_csrf"]').count()).toBeGreaterThan(0);
  });

  it('works without scripts: sign in, upload a package with the plain form, rotate a key', { timeout: 45_000 }, async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    try {
      const p = await plain.newPage();
      p.setDefaultTimeout(WAIT_MS);
      await p.goto(`${tool.baseUrl}/admin/packages`);
      await p.locator('#email').fill(ADMIN_EMAIL);
      await p.locator('#password').fill(ADMIN_PASSWORD);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.waitForURL(`${tool.baseUrl}/admin/packages`);
      await p.locator('#upload-title').fill('Bicycle Care without scripts');
      await p.locator('#upload-file').setInputFiles(COURSE_12);
      await p.locator('#upload-submit').click();
      await p.waitForURL(/\/admin\/packages\/pkg_/);
      expect(await p.locator('.notice').textContent()).toContain('Bicycle Care without scripts');
      await p.goto(`${tool.baseUrl}/admin/keys`);
      await p.locator('#rotate').click();
      await p.waitForURL(`${tool.baseUrl}/admin/keys`);
      expect(await p.locator('.notice').textContent()).toContain('is published as next');
      await p.goto(`${tool.baseUrl}/admin/settings`);
      expect(await p.locator('button[data-copy="url-jwks"]').isVisible()).toBe(false);
    } finally {
      await plain.close();
    }
  });
});
