import type { FastifyReply } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { JwksCheck } from '../../lti/platform-keys.js';
import type { PlatformKeyHealth } from '../../platforms/platform-key-status.service.js';
import { PLATFORM_STATUSES, type PlatformInput, type PlatformWithDeployments } from '../../platforms/platform.service.js';
import type { Platform } from '../../store/tables.js';
import { findPreset, normaliseSite } from '../../platforms/lms-presets.js';
import { SANDBOX_CLIENT_ID } from '../../sandbox/sandbox-platform.js';
import {
  EMPTY_PLATFORM_FORM,
  NewPlatformPage,
  type FieldProblems,
  type PresetChoice,
  PlatformDetailPage,
  PlatformListPage,
  type PlatformDetailProps,
  type PlatformFormValues,
  type PlatformRow,
} from '../../web/admin/platforms-page.js';
import type { AdminContext, AdminPageModule } from './console.js';
import { Type } from 'typebox';
import { readInput } from '../input.js';
import { formOf, idOf } from './console.js';

const DeploymentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), dep: Type.String({ minLength: 1, maxLength: 64 }) });

const FIELDS = [
  'name',
  'issuer',
  'clientId',
  'authUrl',
  'tokenUrl',
  'jwksUrl',
  'publicKey',
  'tokenAudience',
  'gradePolicy',
  'allowMissingKid',
  'deployments',
] as const;

/** The form as typed (kept on the page when it is refused). */
function formValues(body: unknown): PlatformFormValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const f of FIELDS) out[f] = typeof b[f] === 'string' ? (b[f] as string).slice(0, f === 'publicKey' || f === 'deployments' ? 16384 : 2048) : '';
  return out as unknown as PlatformFormValues;
}

/** The same input the CLI and the API give PlatformService (its validation decides). */
function toInput(v: PlatformFormValues): PlatformInput {
  const opt = (s: string) => (s.trim() ? s.trim() : undefined);
  return {
    name: opt(v.name),
    issuer: v.issuer,
    clientId: v.clientId,
    authUrl: v.authUrl,
    tokenUrl: v.tokenUrl,
    jwksUrl: opt(v.jwksUrl),
    publicKey: opt(v.publicKey),
    tokenAudience: opt(v.tokenAudience),
    gradePolicy: v.gradePolicy as Platform['grade_policy'],
    allowMissingKid: v.allowMissingKid === 'on',
    deployments: v.deployments
      .split(/\r?\n/)
      .map((d) => d.trim())
      .filter(Boolean),
  };
}

function valuesOf(p: Platform): PlatformFormValues {
  return {
    name: p.name,
    issuer: p.issuer,
    clientId: p.client_id,
    authUrl: p.auth_url,
    tokenUrl: p.token_url,
    jwksUrl: p.jwks_url ?? '',
    publicKey: p.public_jwk ?? '',
    tokenAudience: p.token_audience ?? '',
    gradePolicy: p.grade_policy,
    allowMissingKid: p.allow_missing_kid === 1 ? 'on' : '',
    deployments: '',
  };
}

/** Errors a form shows in place (the user keeps the input, the fields at fault are marked); anything else goes to the error page. */
function formProblems(err: unknown): { problems: string[]; fieldProblems: FieldProblems; code: string; status: number } | undefined {
  if (!(err instanceof AppError)) return undefined;
  if (err.code === 'VALIDATION_FAILED') {
    return {
      problems: (err.details?.problems as string[] | undefined) ?? [err.message],
      fieldProblems: (err.details?.fields as FieldProblems | undefined) ?? {},
      code: err.code,
      status: err.status,
    };
  }
  if (err.code === 'PLATFORM_EXISTS')
    return { problems: [err.message], fieldProblems: { issuer: [err.message], clientId: [err.message] }, code: err.code, status: err.status };
  if (err.code === 'DEPLOYMENT_EXISTS') return { problems: [err.message], fieldProblems: { deployments: [err.message] }, code: err.code, status: err.status };
  return undefined;
}

/** The form filled from a preset chosen on the page (a GET: `?lms=moodle&site=…&clientId=…`). */
function presetOf(query: unknown): { values: PlatformFormValues; choice: PresetChoice } | undefined {
  const q = (query ?? {}) as Record<string, unknown>;
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  const preset = findPreset(q.lms);
  if (!preset) return undefined;
  const choice = { lms: preset.id, site: str(q.site, 2048), clientId: str(q.clientId, 255).trim() };
  let site = '';
  if (preset.needsSite) {
    const s = normaliseSite(choice.site);
    if ('problem' in s) return { values: EMPTY_PLATFORM_FORM, choice: { ...choice, problem: s.problem } };
    site = s.site;
  }
  const v = preset.values({ site, clientId: choice.clientId });
  return { values: { ...EMPTY_PLATFORM_FORM, ...v }, choice: { ...choice, site: site || choice.site, applied: preset } };
}

const STATUS_ACTIONS: Record<string, string> = { active: 'platform.enable', disabled: 'platform.disable', pending: 'platform.pending' };

/** Platforms: list, add, edit, enable/disable/activate, deployments, JWKS status — all through PlatformService. */
export const platformPages: AdminPageModule = (c) => {
  const { platforms, platformKeys, platformKeyStatus, sandbox } = c.deps.services;
  /** The sandbox LMS served by this Courseport: its registration is Courseport's own, never edited here. */
  const isBuiltIn = (p: Platform) => c.deps.config.sandbox && p.issuer === sandbox.issuer && p.client_id === SANDBOX_CLIENT_ID;
  const refuseBuiltIn = async (id: string) => {
    const { platform } = await platforms.get(id);
    if (isBuiltIn(platform)) {
      throw new AppError(
        'PLATFORM_BUILT_IN',
        'The sandbox LMS registration is built into Courseport and cannot be changed from the console. Nothing was changed.',
        {
          hint: 'Its URLs, key and deployment are Courseport’s own. To turn the sandbox off, start Courseport with COURSEPORT_SANDBOX=false.',
        },
      );
    }
  };
  const row = (p: PlatformWithDeployments, health?: PlatformKeyHealth): PlatformRow => ({
    ...p,
    builtIn: isBuiltIn(p.platform),
    keys: platformKeys.status({ id: p.platform.id, jwksUrl: p.platform.jwks_url, publicJwk: p.platform.public_jwk }),
    // What every process recorded about the JWKS endpoint (stale key set warnings).
    ...(health && p.platform.jwks_url ? { health } : {}),
  });
  const listRows = async () => {
    const health = await platformKeyStatus.all();
    return (await platforms.list()).map((p) => row(p, health.get(p.platform.id)));
  };

  const detail = async (reply: FastifyReply, ctx: AdminContext, id: string, extra: Partial<PlatformDetailProps> = {}, status = 200) => {
    const p = await platforms.get(id);
    return c.render(reply, ctx, {
      title: p.platform.name,
      nav: 'platforms',
      status,
      body: PlatformDetailPage({ row: row(p, await platformKeyStatus.get(p.platform.id)), values: valuesOf(p.platform), csrfToken: ctx.csrfToken, ...extra }),
    });
  };

  c.get('/platforms', async (_request, reply, ctx) =>
    c.render(reply, ctx, { title: 'Platforms', nav: 'platforms', body: PlatformListPage({ rows: await listRows(), csrfToken: ctx.csrfToken }) }),
  );

  c.get('/platforms/new', async (request, reply, ctx) => {
    const preset = presetOf(request.query);
    return c.render(reply, ctx, {
      title: 'Add a platform',
      nav: 'platforms',
      body: NewPlatformPage({ values: preset?.values ?? EMPTY_PLATFORM_FORM, csrfToken: ctx.csrfToken, preset: preset?.choice }),
    });
  });

  c.post('/platforms/new', async (request, reply, ctx) => {
    const values = formValues(request.body);
    let created: PlatformWithDeployments;
    try {
      created = await platforms.register(toInput(values));
    } catch (err) {
      const shown = formProblems(err);
      if (!shown) throw err;
      request.log.warn({ code: shown.code, problems: shown.problems }, 'platform registration refused');
      return c.render(reply, ctx, {
        title: 'Add a platform',
        nav: 'platforms',
        status: shown.status,
        body: NewPlatformPage({ values, csrfToken: ctx.csrfToken, ...shown }),
      });
    }
    await c.audit(request, ctx, 'platform.register', created.platform.id, {
      issuer: created.platform.issuer,
      clientId: created.platform.client_id,
      deployments: created.deployments.map((d) => d.deployment_id),
      allowMissingKid: created.platform.allow_missing_kid === 1,
    });
    return c.redirect(reply, `/admin/platforms/${encodeURIComponent(created.platform.id)}`, `Platform ${created.platform.name} registered.`);
  });

  c.get('/platforms/:id', async (request, reply, ctx) => detail(reply, ctx, idOf(request)));

  c.post('/platforms/:id', async (request, reply, ctx) => {
    const id = idOf(request);
    await refuseBuiltIn(id);
    const values = formValues(request.body);
    let updated: PlatformWithDeployments;
    try {
      updated = await platforms.update(id, toInput(values));
    } catch (err) {
      const shown = formProblems(err);
      if (!shown) throw err;
      request.log.warn({ code: shown.code, problems: shown.problems, platform: id }, 'platform update refused');
      const current = await platforms.get(id);
      return c.render(reply, ctx, {
        title: current.platform.name,
        nav: 'platforms',
        status: shown.status,
        body: PlatformDetailPage({ row: row(current), values, csrfToken: ctx.csrfToken, ...shown }),
      });
    }
    platformKeys.forget(id);
    await c.audit(request, ctx, 'platform.update', id, {
      issuer: updated.platform.issuer,
      clientId: updated.platform.client_id,
      jwksUrl: updated.platform.jwks_url,
      allowMissingKid: updated.platform.allow_missing_kid === 1,
    });
    return c.redirect(reply, `/admin/platforms/${encodeURIComponent(id)}`, 'Registration saved.');
  });

  c.post('/platforms/:id/status', async (request, reply, ctx) => {
    const id = idOf(request);
    const status = formOf(request).status;
    if (typeof status !== 'string' || !PLATFORM_STATUSES.includes(status as Platform['status'])) {
      throw new AppError('VALIDATION_FAILED', `status must be one of ${PLATFORM_STATUSES.join(', ')}`);
    }
    await refuseBuiltIn(id);
    const before = await platforms.get(id);
    const after = await platforms.setStatus(id, status as Platform['status']);
    if (status !== 'active') platformKeys.forget(id);
    const action = before.platform.status === 'pending' && status === 'active' ? 'platform.activate' : STATUS_ACTIONS[status]!;
    await c.audit(request, ctx, action, id, { from: before.platform.status, to: status });
    request.log.info({ platform: id, from: before.platform.status, to: status }, 'platform status changed from the console');
    return c.redirect(
      reply,
      formOf(request).back === 'list' ? '/admin/platforms' : `/admin/platforms/${encodeURIComponent(id)}`,
      `${after.platform.name} is now ${status}.`,
    );
  });

  c.post('/platforms/:id/deployments', async (request, reply, ctx) => {
    const id = idOf(request);
    await refuseBuiltIn(id);
    const body = formOf(request);
    const deploymentId = typeof body.deploymentId === 'string' ? body.deploymentId.slice(0, 1024) : '';
    const name = typeof body.name === 'string' ? body.name.slice(0, 255) : undefined;
    try {
      const d = await platforms.addDeployment(id, deploymentId, name);
      await c.audit(request, ctx, 'deployment.add', id, { deploymentId: d.deployment_id });
      return c.redirect(reply, `/admin/platforms/${encodeURIComponent(id)}`, `Deployment ${d.deployment_id} added.`);
    } catch (err) {
      const shown = formProblems(err);
      if (!shown) throw err;
      request.log.warn({ code: shown.code, problems: shown.problems, platform: id }, 'deployment refused');
      return detail(reply, ctx, id, { deploymentProblems: shown.problems, deploymentCode: shown.code, deploymentInput: deploymentId }, shown.status);
    }
  });

  c.post('/platforms/:id/deployments/:dep/status', async (request, reply, ctx) => {
    const id = idOf(request);
    const dep = readInput(DeploymentParams, request.params).dep;
    const status = formOf(request).status;
    if (status !== 'active' && status !== 'disabled') throw new AppError('VALIDATION_FAILED', 'status must be active or disabled');
    await refuseBuiltIn(id);
    const d = await platforms.setDeploymentStatus(id, dep, status);
    await c.audit(request, ctx, status === 'active' ? 'deployment.enable' : 'deployment.disable', id, { deploymentId: d.deployment_id });
    return c.redirect(reply, `/admin/platforms/${encodeURIComponent(id)}`, `Deployment ${d.deployment_id} is now ${status}.`);
  });

  c.post('/platforms/:id/jwks-check', async (request, reply, ctx) => {
    const id = idOf(request);
    const { platform } = await platforms.get(id);
    const check: JwksCheck = await platformKeys.check({ id, jwksUrl: platform.jwks_url, publicJwk: platform.public_jwk });
    request.log.info({ platform: id, ok: check.ok, kids: check.kids.length }, 'platform JWKS checked from the console');
    await c.audit(request, ctx, 'platform.jwks-check', id, { ok: check.ok, kids: check.kids.length });
    return detail(reply, ctx, id, { check });
  });
};
