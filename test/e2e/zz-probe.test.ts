import { it } from 'vitest';
import { createHarness } from '../helpers/harness.js';
it('probe', async () => {
  for (const d of ['sqlite', 'postgres'] as const) {
  const h = await createHarness(d);
  const { token } = await h.app.services.adminTokens.create('t');
  const auth = { authorization: `Bearer ${token}` };
  const body = { issuer: 'https://lms.example', clientId: 'c1', authUrl: 'https://lms.example/auth', tokenUrl: 'https://lms.example/token', jwksUrl: 'https://lms.example/jwks' };
  const rs = await Promise.all([1, 2, 3, 4].map(() => h.app.inject({ method: 'POST', url: '/api/v1/platforms', headers: auth, payload: body })));
  console.log(d, 'concurrent', rs.map((r) => `${r.statusCode} ${r.body.slice(0, 60)}`));
  const pid = JSON.parse(rs.find((r) => r.statusCode === 201)!.body).id as string;
  const ds = await Promise.all([1, 2, 3].map(() => h.app.inject({ method: 'POST', url: `/api/v1/platforms/${pid}/deployments`, headers: auth, payload: { deploymentId: 'x' } })));
  console.log(d, 'concurrent dep', ds.map((r) => `${r.statusCode} ${r.body.slice(0, 60)}`));
  const extra = await h.app.inject({ method: 'POST', url: '/api/v1/platforms', headers: auth, payload: { ...body, clientId: 'c9', deployment: ['d1'] } });
  console.log(d, 'extra', extra.statusCode, extra.body.slice(0, 400));
  const extra2 = await h.app.inject({ method: 'POST', url: `/api/v1/platforms/${pid}/deployments`, headers: auth, payload: { deploymentId: 'y', bogus: 1 } });
  console.log(d, 'extra2', extra2.statusCode, extra2.body.slice(0, 400));
  const num = await h.app.inject({ method: 'POST', url: '/api/v1/platforms', headers: auth, payload: { ...body, clientId: 12345 } });
  console.log(d, 'num', num.statusCode, num.body.slice(0, 400));
  await h.close();
  }
});
