import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/app.js';

export const ADMIN_EMAIL = 'admin@example.edu';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** A tiny cookie jar for inject requests: remembers what the console sets and clears. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  take(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const line of ([] as string[]).concat(response.headers['set-cookie'] ?? [])) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The anti-forgery token of the first console form on a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no _csrf field in page: ${html.slice(0, 300)}`);
  return m[1]!;
}

export function form(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  return { payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

/** A console client over inject: GET and POST with the jar's cookies. */
export class ConsoleClient {
  readonly jar = new CookieJar();
  constructor(readonly app: App) {}

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.jar.take(await this.app.inject({ method: 'GET', url, headers: { cookie: this.jar.header() } }));
  }

  async post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const f = form(fields);
    return this.jar.take(await this.app.inject({ method: 'POST', url, payload: f.payload, headers: { ...f.headers, cookie: this.jar.header(), ...headers } }));
  }

  /** The session's token, read from a console page. */
  async csrf(page = '/admin/settings'): Promise<string> {
    const r = await this.get(page);
    if (r.statusCode !== 200) throw new Error(`${page} answered ${r.statusCode}: ${r.body.slice(0, 300)}`);
    return csrfOf(r.body);
  }

  /** First-administrator form on an empty database; leaves the client signed in. */
  async setup(email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<LightMyRequestResponse> {
    const page = await this.get('/admin/setup');
    return this.post('/admin/setup', { _csrf: csrfOf(page.body), email, password, confirm: password });
  }

  async login(email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<LightMyRequestResponse> {
    const page = await this.get('/admin/login');
    return this.post('/admin/login', { _csrf: csrfOf(page.body), email, password });
  }
}
