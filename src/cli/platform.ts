import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { deploymentJson, platformJson, type PlatformInput, type PlatformWithDeployments } from '../platforms/platform.service.js';
import { output, table, withContext } from './context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function describe(p: PlatformWithDeployments): string[] {
  const pl = p.platform;
  return [
    `id            ${pl.id}`,
    `name          ${pl.name}`,
    `status        ${pl.status}`,
    `issuer        ${pl.issuer}`,
    `client id     ${pl.client_id}`,
    `auth URL      ${pl.auth_url}`,
    `token URL     ${pl.token_url}`,
    `JWKS URL      ${pl.jwks_url ?? '(static public key)'}`,
    `missing kid   ${pl.allow_missing_kid === 1 ? 'accepted (--allow-missing-kid)' : 'refused'}`,
    `deployments   ${p.deployments.map((d) => d.deployment_id).join(', ') || '(none: add one with courseport deployment add)'}`,
  ];
}

export function registerPlatformCommands(program: Command): void {
  const platform = program.command('platform').description('register and manage LMS platforms');

  platform
    .command('add')
    .description('register an LMS (one issuer may have several client ids)')
    .requiredOption('--issuer <url>', "the platform's issuer (iss)")
    .requiredOption('--client-id <id>', 'the client id the platform gave this tool')
    .requiredOption('--auth-url <url>', "the platform's OIDC authentication endpoint")
    .requiredOption('--token-url <url>', "the platform's OAuth2 token endpoint")
    .option('--jwks-url <url>', "the platform's public key set URL")
    .option('--public-key-file <file>', 'a static public key (JWK JSON or PEM) instead of a JWKS URL')
    .option('--token-audience <aud>', 'audience for client assertions when not the token URL')
    .option('--deployment <id>', 'a deployment id (repeatable)', collect, [] as string[])
    .option('--name <name>', 'a display name')
    .option('--grade-policy <policy>', 'when the LMS holds a grade Courseport did not send: overwrite, raise or preserve', 'overwrite')
    .option('--allow-missing-kid', 'accept launch id_tokens without a kid (only for an LMS known to omit it)')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        gradePolicy?: string;
        allowMissingKid?: boolean;
        issuer: string;
        clientId: string;
        authUrl: string;
        tokenUrl: string;
        jwksUrl?: string;
        publicKeyFile?: string;
        tokenAudience?: string;
        deployment: string[];
        name?: string;
        json?: boolean;
      }) => {
        await withContext(async ({ services }) => {
          const created = await services.platforms.register({
            issuer: o.issuer,
            clientId: o.clientId,
            authUrl: o.authUrl,
            tokenUrl: o.tokenUrl,
            jwksUrl: o.jwksUrl,
            publicKey: o.publicKeyFile ? readFileSync(o.publicKeyFile, 'utf8') : undefined,
            tokenAudience: o.tokenAudience,
            deployments: o.deployment,
            name: o.name,
            gradePolicy: o.gradePolicy as PlatformInput['gradePolicy'],
            allowMissingKid: o.allowMissingKid === true,
          });
          await services.audit.record({
            actor: 'cli',
            action: 'platform.register',
            target: created.platform.id,
            details: { issuer: created.platform.issuer, clientId: created.platform.client_id, allowMissingKid: created.platform.allow_missing_kid === 1 },
          });
          output(o, platformJson(created), () => [created.platform.id]);
        });
      },
    );

  platform
    .command('list')
    .description('list registered platforms')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.platforms.list();
        output(o, all.map(platformJson), () =>
          all.length === 0
            ? ['No platforms registered. Add one with: courseport platform add --issuer … --client-id … --auth-url … --token-url … --jwks-url …']
            : table([
                ['ID', 'NAME', 'STATUS', 'ISSUER', 'CLIENT ID', 'DEPLOYMENTS'],
                ...all.map((p) => [p.platform.id, p.platform.name, p.platform.status, p.platform.issuer, p.platform.client_id, String(p.deployments.length)]),
              ]),
        );
      });
    });

  platform
    .command('show <id>')
    .description('show one platform and its deployments')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const p = await services.platforms.get(id);
        output(o, platformJson(p), () => describe(p));
      });
    });

  // The health of the platform's JWKS endpoint, as the serving processes recorded it.
  platform
    .command('keys <id>')
    .description("show what the platform's JWKS endpoint last answered (and whether launches use a stale key set)")
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async ({ services }) => {
        const p = await services.platforms.get(id);
        const h = await services.platformKeyStatus.get(id);
        output(o, { platformId: id, jwksUrl: p.platform.jwks_url, ...h }, () => [
          `JWKS URL      ${p.platform.jwks_url ?? '(static public key: nothing is fetched)'}`,
          `state         ${h.state}`,
          `fetched at    ${h.fetchedAt ?? '-'}`,
          `kids          ${h.kids.join(', ') || '-'}`,
          ...(h.error ? [`last error    ${h.error} (${h.errorAt ?? '-'})`] : []),
          ...(h.warning ? [`WARNING       ${h.warning}`] : []),
        ]);
      });
    });

  for (const [name, status, verb] of [
    ['disable', 'disabled', 'refuse launches from'],
    ['enable', 'active', 'accept launches from'],
  ] as const) {
    platform
      .command(`${name} <id>`)
      .description(`${verb} a platform`)
      .option('--json', 'print JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        await withContext(async ({ services }) => {
          const p = await services.platforms.setStatus(id, status);
          await services.audit.record({ actor: 'cli', action: status === 'active' ? 'platform.enable' : 'platform.disable', target: id });
          output(o, platformJson(p), () => [`${p.platform.name} (${p.platform.id}) is now ${p.platform.status}`]);
        });
      });
  }

  const deployment = program.command('deployment').description('manage deployments of a platform');
  deployment
    .command('add <deploymentId>')
    .description('register a deployment id for a platform')
    .requiredOption('--platform <id>', 'the platform id')
    .option('--name <name>', 'a display name')
    .option('--json', 'print JSON')
    .action(async (deploymentId: string, o: { platform: string; name?: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const d = await services.platforms.addDeployment(o.platform, deploymentId, o.name);
        await services.audit.record({ actor: 'cli', action: 'deployment.add', target: o.platform, details: { deploymentId: d.deployment_id } });
        output(o, deploymentJson(d), () => [d.id]);
      });
    });
  deployment
    .command('list')
    .description('list the deployments of a platform')
    .requiredOption('--platform <id>', 'the platform id')
    .option('--json', 'print JSON')
    .action(async (o: { platform: string; json?: boolean }) => {
      await withContext(async ({ services }) => {
        const all = await services.platforms.listDeployments(o.platform);
        output(o, all.map(deploymentJson), () => table([['ID', 'DEPLOYMENT ID', 'NAME'], ...all.map((d) => [d.id, d.deployment_id, d.name ?? ''])]));
      });
    });
}
