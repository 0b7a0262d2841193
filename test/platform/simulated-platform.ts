import { ROLE } from '../../src/lti/roles.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from '../../src/lti/claims.js';
import type { PlatformInput } from '../../src/platforms/platform.service.js';

export interface PlatformKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface MintOptions {
  /** Claims to add or replace; a value of `undefined` removes the claim. */
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly key?: PlatformKey;
  /** Seconds since the epoch used for iat/exp (defaults to the platform clock). */
  readonly nowSec?: number;
  readonly lifetimeSec?: number;
}

/**
 * A simulated LMS (the Platform): real RSA keys, a real JWKS endpoint over HTTP on
 * loopback, an OIDC authorization endpoint that answers with an auto-submitting
 * form_post, and id_token minting. Tests drive it to produce valid and hostile launches.
 */
export class SimulatedPlatform {
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentId: string;
  jwksHits = 0;
  /** When false the JWKS endpoint answers 503. */
  jwksUp = true;
  /** Keys published at the JWKS endpoint. */
  published: PlatformKey[];
  /** The key that signs new id_tokens. */
  signingKey: PlatformKey;
  nowSec: () => number = () => Math.floor(Date.now() / 1000);
  /** The AGS endpoint claim the auth endpoint adds to resource link launches, when set. */
  agsClaim: Record<string, unknown> | undefined;
  /** The NRPS claim the auth endpoint adds to launches, when set. */
  nrpsClaim: Record<string, unknown> | undefined;

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    key: PlatformKey,
    options: { clientId: string; deploymentId: string; issuer?: string },
  ) {
    this.issuer = options.issuer ?? origin;
    this.clientId = options.clientId;
    this.deploymentId = options.deploymentId;
    this.published = [key];
    this.signingKey = key;
  }

  /** The tool this LMS launches (for its course page), set by tests that drive a browser. */
  tool: { loginUrl: string; targetLinkUri: string; jwksUrl?: string; registerUrl?: string } | undefined;
  /** Deep linking responses received at /deep-link-return, verified against the tool's JWKS. */
  readonly deepLinkResponses: { header: Record<string, unknown>; payload: JWTPayload }[] = [];
  readonly deepLinkErrors: string[] = [];

  // ---- LTI Dynamic Registration, platform side ----
  /** The product this LMS announces: 'moodle' or 'canvas' dialects of dynamic registration. */
  product = 'moodle';
  /** Registration tokens handed out by startRegistration(); each may register once. */
  readonly registrationTokens = new Set<string>();
  /** Canvas checks the registration token on its configuration endpoint too. */
  requireTokenForConfiguration = false;
  /** Replace or remove (undefined) fields of the OpenID configuration (hostile configurations). */
  openidOverrides: Record<string, unknown> = {};
  /** Answer the next registration with this status and body instead (fault injection). */
  failRegistration: { status: number; body: string } | undefined;
  /** The client registrations received and accepted, with the client id handed out. */
  readonly registrations: { body: Record<string, unknown>; clientId: string }[] = [];
  /** Registration attempts refused, with the reason. */
  readonly registrationRefusals: string[] = [];
  /** Requests to the configuration endpoint; a raw body to answer instead of the JSON configuration. */
  configurationHits = 0;
  rawConfiguration: string | undefined;
  /** The deployment handed out with a registration (undefined: none, as Canvas). */
  registrationDeploymentId: string | undefined = undefined;

  get openidConfigurationUrl(): string {
    return `${this.origin}/.well-known/openid-configuration`;
  }
  get registrationEndpoint(): string {
    return `${this.origin}/register`;
  }

  /** What the LMS sends the tool's registration URL: the configuration URL and a fresh one-time token. */
  startRegistration(): { openid_configuration: string; registration_token: string } {
    const token = `rt-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    this.registrationTokens.add(token);
    return { openid_configuration: this.openidConfigurationUrl, registration_token: token };
  }

  /** The platform's OpenID configuration (LTI Dynamic Registration §3.5.1), in this LMS's dialect. */
  openidConfiguration(): Record<string, unknown> {
    const canvas = this.product === 'canvas';
    const config: Record<string, unknown> = {
      issuer: this.issuer,
      authorization_endpoint: this.authUrl,
      token_endpoint: this.tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      jwks_uri: this.jwksUrl,
      registration_endpoint: this.registrationEndpoint,
      scopes_supported: [
        'openid',
        'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
        'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
        'https://purl.imsglobal.org/spec/lti-ags/scope/score',
        'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
        ...(canvas ? ['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly', 'https://canvas.instructure.com/lti/public_jwk/scope/update'] : []),
      ],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email'],
      'https://purl.imsglobal.org/spec/lti-platform-configuration': canvas
        ? {
            product_family_code: 'canvas',
            version: 'OpenSource',
            messages_supported: [
              { type: 'LtiResourceLinkRequest', placements: ['course_navigation', 'link_selection'] },
              { type: 'LtiDeepLinkingRequest', placements: ['link_selection', 'assignment_selection', 'editor_button'] },
            ],
            'https://canvas.instructure.com/lti/account_name': 'Simulated Canvas',
          }
        : {
            product_family_code: 'moodle',
            version: '4.3',
            // Moodle lists bare message type names.
            messages_supported: ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'],
            placements: ['AddContentMenu'],
          },
    };
    for (const [k, v] of Object.entries(this.openidOverrides)) {
      if (v === undefined) delete config[k];
      else config[k] = v;
    }
    return config;
  }

  private bearer(req: IncomingMessage): string | undefined {
    return /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
  }

  /** The platform side of the client registration (§3.6), with Moodle's checks of the request. */
  private async handleRegistration(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, error: string) => {
      this.registrationRefusals.push(error);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error, error_description: `Registration refused: ${error}` }));
    };
    const token = this.bearer(req);
    if (!token || !this.registrationTokens.has(token)) return refuse(401, 'invalid_registration_token');
    this.registrationTokens.delete(token);
    if (this.failRegistration) {
      const f = this.failRegistration;
      this.failRegistration = undefined;
      this.registrationRefusals.push('injected failure');
      return void res.writeHead(f.status, { 'content-type': 'application/json' }).end(f.body);
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(400, 'invalid_content_type');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return refuse(400, 'invalid_json');
    }
    const arr = (k: string) => (Array.isArray(body[k]) ? (body[k] as unknown[]) : []);
    const toolConfig = body['https://purl.imsglobal.org/spec/lti-tool-configuration'] as Record<string, unknown> | undefined;
    const problems = [
      body.application_type !== 'web' && 'application_type',
      !(arr('grant_types').includes('implicit') && arr('grant_types').includes('client_credentials')) && 'grant_types',
      !arr('response_types').includes('id_token') && 'response_types',
      body.token_endpoint_auth_method !== 'private_key_jwt' && 'token_endpoint_auth_method',
      typeof body.initiate_login_uri !== 'string' && 'initiate_login_uri',
      arr('redirect_uris').length === 0 && 'redirect_uris',
      typeof body.jwks_uri !== 'string' && 'jwks_uri',
      typeof body.client_name !== 'string' && 'client_name',
      typeof body.scope !== 'string' && 'scope',
      !toolConfig && 'lti-tool-configuration',
      // Moodle: the domain must be the host[:port] of target_link_uri.
      toolConfig && (typeof toolConfig.target_link_uri !== 'string' || new URL(toolConfig.target_link_uri).host !== toolConfig.domain) && 'domain',
    ].filter((p): p is string => typeof p === 'string');
    if (problems.length) return refuse(400, `invalid_client_metadata: ${problems.join(',')}`);
    const clientId = this.clientId;
    this.registrations.push({ body, clientId });
    const answer: Record<string, unknown> = {
      client_id: clientId,
      ...body,
      'https://purl.imsglobal.org/spec/lti-tool-configuration': {
        ...toolConfig,
        ...(this.registrationDeploymentId ? { deployment_id: this.registrationDeploymentId } : {}),
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  static async start(options: { clientId?: string; deploymentId?: string; issuer?: string; hostname?: string } = {}): Promise<SimulatedPlatform> {
    const key = await SimulatedPlatform.generateKey();
    let platform: SimulatedPlatform | undefined;
    const server = createServer((req, res) => {
      if (!platform) {
        res.writeHead(503).end();
        return;
      }
      platform.handle(req, res).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Browsers treat localhost:A and localhost:B as one site; tests that need that pass hostname 'localhost'.
    const origin = `http://${options.hostname ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
    platform = new SimulatedPlatform(server, origin, key, {
      clientId: options.clientId ?? 'courseport-client-1',
      deploymentId: options.deploymentId ?? 'deployment-1',
      ...(options.issuer ? { issuer: options.issuer } : {}),
    });
    return platform;
  }

  static async generateKey(alg = 'RS256'): Promise<PlatformKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
    return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }

  get jwksUrl(): string {
    return `${this.origin}/jwks`;
  }
  get authUrl(): string {
    return `${this.origin}/auth`;
  }
  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  /** What an administrator would type into Courseport to register this LMS. */
  registration(): PlatformInput {
    return {
      issuer: this.issuer,
      clientId: this.clientId,
      authUrl: this.authUrl,
      tokenUrl: this.tokenUrl,
      jwksUrl: this.jwksUrl,
      deployments: [this.deploymentId],
      name: 'Simulated LMS',
    };
  }

  /** Publishes a new key and signs with it from now on; the old key stays published unless dropped. */
  async rotateKey(options: { dropOld?: boolean } = {}): Promise<PlatformKey> {
    const key = await SimulatedPlatform.generateKey();
    this.published = options.dropOld ? [key] : [...this.published, key];
    this.signingKey = key;
    return key;
  }

  /** The claims of a typical resource link launch by a learner. */
  resourceLinkClaims(nonce: string, targetLinkUri: string, sub = 'learner-1'): Record<string, unknown> {
    return {
      iss: this.issuer,
      aud: this.clientId,
      sub,
      nonce,
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      email: 'ada@example.edu',
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.RESOURCE_LINK,
      [CLAIM.VERSION]: LTI_VERSION,
      [CLAIM.DEPLOYMENT_ID]: this.deploymentId,
      [CLAIM.TARGET_LINK_URI]: targetLinkUri,
      [CLAIM.RESOURCE_LINK]: { id: 'rl-1', title: 'Golf Explained' },
      [CLAIM.ROLES]: [ROLE.CONTEXT_LEARNER],
      [CLAIM.CONTEXT]: {
        id: 'course-42',
        label: 'GOLF101',
        title: 'Introduction to Golf',
        type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
      },
      [CLAIM.TOOL_PLATFORM]: { guid: 'simulated-lms', name: 'Simulated LMS', product_family_code: 'simulated' },
    };
  }

  /** Claims that turn a launch into an LtiDeepLinkingRequest returning to this LMS. */
  deepLinkingClaims(options: { multiple?: boolean; acceptTypes?: string[]; acceptLineItem?: boolean; data?: unknown } = {}): Record<string, unknown> {
    return {
      [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING,
      [CLAIM.RESOURCE_LINK]: undefined,
      [CLAIM.DEEP_LINKING_SETTINGS]: {
        deep_link_return_url: `${this.origin}/deep-link-return`,
        accept_types: options.acceptTypes ?? ['ltiResourceLink', 'link'],
        accept_presentation_document_targets: ['iframe', 'window'],
        accept_multiple: options.multiple ?? true,
        ...(options.acceptLineItem === false ? { accept_lineitem: false } : {}),
        data: options.data ?? 'csrf-opaque-7f3a',
      },
    };
  }

  async mint(base: Record<string, unknown>, options: MintOptions = {}): Promise<string> {
    const now = options.nowSec ?? this.nowSec();
    const payload: Record<string, unknown> = { iat: now, exp: now + (options.lifetimeSec ?? 300), ...base };
    for (const [k, v] of Object.entries(options.claims ?? {})) {
      if (v === undefined) delete payload[k];
      else payload[k] = v;
    }
    const key = options.key ?? this.signingKey;
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...options.header } as { alg: string })
      .sign(key.privateKey);
  }

  /**
   * The platform side of LTI platform storage (1EdTech "Client Side postMessages" and "postMessage
   * Storage"), run by the course page: answers only the tool's origin, to that origin, with the
   * request's message_id; values live in the page's sessionStorage, per tool origin. `forge`:
   * 'value' answers lti.get_data with a wrong value; 'origin' lets a frame on another origin answer.
   * Every message seen is pushed to `window.ltiStorageLog` for tests.
   */
  private storageScript(forge: string | null): string {
    const toolOrigin = new URL(this.tool?.loginUrl ?? this.origin).origin;
    const otherHost = new URL(this.origin).hostname === '127.0.0.1' ? 'localhost' : '127.0.0.1';
    const forgerOrigin = `http://${otherHost}:${new URL(this.origin).port}`;
    const forger =
      forge === 'origin'
        ? `<iframe id="forger" title="forger" src="${escapeAttr(`${forgerOrigin}/forger?platform=${encodeURIComponent(this.origin)}`)}" style="width:1px;height:1px"></iframe>`
        : '';
    return `${forger}<script>
(function () {
  var TOOL = ${JSON.stringify(toolOrigin)}, FORGE = ${JSON.stringify(forge ?? '')}, FORGER = ${JSON.stringify(forgerOrigin)};
  var log = (window.ltiStorageLog = []);
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || typeof d !== 'object') return;
    if (d.forged) { log.push({ subject: 'forged', origin: e.origin }); return; }
    if (typeof d.subject !== 'string' || d.subject.indexOf('lti.') !== 0) return;
    log.push({ subject: d.subject, origin: e.origin, key: d.key });
    function reply(fields) {
      var m = { subject: d.subject + '.response', message_id: d.message_id };
      for (var k in fields) m[k] = fields[k];
      e.source.postMessage(m, e.origin);
    }
    if (e.origin !== TOOL) { reply({ error: { code: 'wrong_origin', message: 'Unknown tool origin' } }); return; }
    var storeKey = 'lti-storage ' + e.origin + ' ' + d.key;
    if (d.subject === 'lti.capabilities') {
      reply({ supported_messages: [{ subject: 'lti.capabilities' }, { subject: 'lti.put_data' }, { subject: 'lti.get_data' }] });
    } else if (d.subject === 'lti.put_data') {
      if (typeof d.key !== 'string' || typeof d.value !== 'string') { reply({ error: { code: 'bad_request', message: 'key and value must be strings' } }); return; }
      sessionStorage.setItem(storeKey, d.value);
      reply({ key: d.key, value: d.value });
    } else if (d.subject === 'lti.get_data') {
      var value = sessionStorage.getItem(storeKey);
      if (FORGE === 'value') reply({ key: d.key, value: 'forged-' + Math.random().toString(36).slice(2) });
      else if (FORGE === 'origin') document.getElementById('forger').contentWindow.postMessage({ relay: d, value: value }, FORGER);
      else if (value === null) reply({ error: { code: 'bad_request', message: 'No value for this key' } });
      else reply({ key: d.key, value: value });
    } else {
      reply({ error: { code: 'unsupported_subject', message: 'Unsupported subject' } });
    }
  });
})();
</script>`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname === '/.well-known/openid-configuration') {
      this.configurationHits++;
      if (this.rawConfiguration !== undefined) return void res.writeHead(200, { 'content-type': 'application/json' }).end(this.rawConfiguration);
      if (this.requireTokenForConfiguration && !this.registrationTokens.has(this.bearer(req) ?? '')) {
        return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_token' }));
      }
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.openidConfiguration()));
    }
    if (url.pathname === '/register' && req.method === 'POST') return this.handleRegistration(req, res);
    if (url.pathname === '/tool-registration' && this.tool?.registerUrl) {
      // The LMS's "register a tool by URL" page: the tool's registration page in an iframe (or a
      // window with ?window=1); the page records the org.imsglobal.lti.close message and removes the frame.
      const reg = new URL(this.tool.registerUrl);
      for (const [k, v] of Object.entries(this.startRegistration())) reg.searchParams.set(k, v);
      const popup = url.searchParams.get('window') === '1';
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Register tool</title><h1>Add an LTI tool</h1>
${popup ? '<button id="open">Open registration</button>' : `<iframe name="registration" title="registration" src="${escapeAttr(reg.toString())}" style="width:900px;height:700px"></iframe>`}
<p id="closed" hidden>Registration finished</p>
<script>
window.ltiCloseMessages = [];
var popup = null;
${popup ? `document.getElementById('open').onclick = function () { popup = window.open(${JSON.stringify(reg.toString())}, 'registration'); };` : ''}
window.addEventListener('message', function (e) {
  if (!e.data || e.data.subject !== 'org.imsglobal.lti.close') return;
  window.ltiCloseMessages.push({ origin: e.origin, subject: e.data.subject });
  var f = document.querySelector('iframe[name="registration"]');
  if (f) f.remove();
  if (popup) popup.close();
  document.getElementById('closed').hidden = false;
});
</script>`);
      return;
    }
    if (url.pathname === '/jwks') {
      this.jwksHits++;
      if (!this.jwksUp) {
        res.writeHead(503).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.published.map((k) => k.publicJwk) }));
      return;
    }
    if (url.pathname === '/course' && this.tool) {
      // A course page that embeds the tool in an iframe, as LMSs do. With ?storage=1 the page is
      // also the platform side of LTI platform storage (lti.capabilities / put_data / get_data).
      const storage = url.searchParams.get('storage') === '1' ? this.storageScript(url.searchParams.get('forge')) : '';
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><title>Course</title><h1>Introduction to Golf</h1><iframe name="tool" title="tool" src="/start-launch${escapeAttr(url.search)}" style="width:1000px;height:700px"></iframe>${storage}`,
        );
      return;
    }
    if (url.pathname === '/forger') {
      // A frame on another origin inside the course page that answers the tool's lti.get_data in the
      // platform's place (relayed the request, and even the right value, by a hostile course page).
      const platformOrigin = url.searchParams.get('platform') ?? '';
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><title>forger</title><script>
window.addEventListener('message', function (e) {
  if (e.origin !== ${JSON.stringify(platformOrigin)} || !e.data || !e.data.relay) return;
  var d = e.data.relay;
  window.parent.frames['tool'].postMessage({ subject: d.subject + '.response', message_id: d.message_id, key: d.key, value: e.data.value }, '*');
  window.parent.postMessage({ forged: true }, ${JSON.stringify(platformOrigin)});
});
</script>`,
      );
      return;
    }
    if (url.pathname === '/start-launch' && this.tool) {
      // Third-party initiated login: the LMS posts iss, login_hint and target_link_uri to the tool.
      const fields = {
        iss: this.issuer,
        login_hint: url.searchParams.get('user') ?? 'learner-1',
        target_link_uri: this.tool.targetLinkUri,
        // The hint names the link (and the package it plays) so the auth endpoint can mint the launch.
        lti_message_hint: Buffer.from(
          JSON.stringify({
            link: url.searchParams.get('link') ?? 'rl-1',
            package: url.searchParams.get('package') ?? undefined,
            deepLink: url.searchParams.get('deeplink') === '1',
            multiple: url.searchParams.get('multiple') !== '0',
            role: url.searchParams.get('role') ?? undefined,
          }),
        ).toString('base64url'),
        client_id: this.clientId,
        lti_deployment_id: this.deploymentId,
        // LTI platform storage: this course page keeps values for the tool (see storageScript).
        ...(url.searchParams.get('storage') === '1' ? { lti_storage_target: '_parent' } : {}),
      };
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><form method="post" action="${escapeAttr(this.tool.loginUrl)}">${Object.entries(fields)
          .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeAttr(v)}">`)
          .join('')}</form><script>document.forms[0].submit()</script>`,
      );
      return;
    }
    if (url.pathname === '/deep-link-return' && req.method === 'POST') {
      // The platform side of Deep Linking 2.0: verify the tool's signed response with the tool's JWKS.
      const body = new URLSearchParams(await readBody(req));
      const jwt = body.get('JWT') ?? '';
      try {
        if (!this.tool?.jwksUrl) throw new Error('no tool JWKS URL configured');
        const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(this.tool.jwksUrl)), {
          issuer: this.clientId,
          audience: this.issuer,
          algorithms: ['RS256'],
        });
        this.deepLinkResponses.push({ header: protectedHeader as Record<string, unknown>, payload });
        const items = (payload[CLAIM.DEEP_LINKING_CONTENT_ITEMS] as { title?: string }[] | undefined) ?? [];
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<!doctype html><h1 id="dl-result">Received ${items.length} item(s)</h1><ul>${items.map((i) => `<li>${escapeAttr(i.title ?? '')}</li>`).join('')}</ul>`,
          );
      } catch (err) {
        this.deepLinkErrors.push((err as Error).message);
        res.writeHead(400, { 'content-type': 'text/html' }).end(`<!doctype html><h1 id="dl-result">Invalid Link</h1>`);
      }
      return;
    }
    if (url.pathname === '/auth') {
      // The OIDC authorization endpoint: checks the request shape and answers a form_post.
      const q = url.searchParams;
      const problems = [
        q.get('scope') !== 'openid' && 'scope',
        q.get('response_type') !== 'id_token' && 'response_type',
        q.get('response_mode') !== 'form_post' && 'response_mode',
        q.get('prompt') !== 'none' && 'prompt',
        q.get('client_id') !== this.clientId && 'client_id',
        !q.get('redirect_uri') && 'redirect_uri',
        !q.get('nonce') && 'nonce',
        !q.get('state') && 'state',
      ].filter(Boolean);
      if (problems.length) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid_request: ${problems.join(',')}`);
        return;
      }
      const redirectUri = q.get('redirect_uri')!;
      const target = new URL('/lti/launch', redirectUri).toString();
      const claims = this.resourceLinkClaims(q.get('nonce')!, target, q.get('login_hint') ?? 'learner-1');
      const hint = decodeHint(q.get('lti_message_hint'));
      if (hint.link) claims[CLAIM.RESOURCE_LINK] = { id: hint.link, title: 'Golf Explained' };
      if (hint.package) claims[CLAIM.CUSTOM] = { package_id: hint.package };
      if (this.agsClaim) claims[CLAIM.AGS_ENDPOINT] = this.agsClaim;
      if (this.nrpsClaim) claims[CLAIM.NRPS] = this.nrpsClaim;
      if (hint.role === 'instructor') claims[CLAIM.ROLES] = [ROLE.CONTEXT_INSTRUCTOR];
      if (hint.deepLink) Object.assign(claims, this.deepLinkingClaims({ multiple: hint.multiple !== false }));
      const idToken = await this.mint(claims);
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><form method="post" action="${escapeAttr(redirectUri)}"><input type="hidden" name="id_token" value="${escapeAttr(idToken)}"><input type="hidden" name="state" value="${escapeAttr(q.get('state')!)}"></form><script>document.forms[0].submit()</script>`,
        );
      return;
    }
    res.writeHead(404).end();
  }
}

interface LaunchHint {
  link?: string;
  package?: string;
  deepLink?: boolean;
  multiple?: boolean;
  role?: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function decodeHint(hint: string | null): LaunchHint {
  if (!hint) return {};
  try {
    return JSON.parse(Buffer.from(hint, 'base64url').toString('utf8')) as LaunchHint;
  } catch {
    return {};
  }
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
