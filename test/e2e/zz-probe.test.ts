import { it } from 'vitest';
import { createHarness } from '../helpers/harness.js';
it('probe', async () => {
  const out: string[] = [];
  for (const d of ['sqlite', 'postgres'] as const) for (let i = 0; i < 4; i++) {
    const t0 = Date.now();
    const h = await createHarness(d);
    const t1 = Date.now();
    await h.close();
    out.push(`${d} ${t1 - t0} ${Date.now() - t1}`);
  }
  process.stderr.write(`TIMES ${out.join(' | ')}\n`);
});
