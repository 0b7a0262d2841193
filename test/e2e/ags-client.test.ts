import type { TokenPlatform } from '../../src/lti/service-access.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgsClient, ServiceCallError } from '../../src/lti/ags.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { SimulatedServices } from '../platform/simulated-services.js';
import { servicesFor } from '../helpers/services.js';

describe('AGS 2.0 client against the simulated LMS', () => {
  let h: Harness;
  let lms: SimulatedServices;
  let platform: TokenPlatform;
  let ags: AgsClient;

  beforeAll(async () => {
    h = await createHarness('sqlite');
    lms = await SimulatedServices.start(servicesFor(h));
    platform = { id: h.platformId, clientId: h.platform.clientId, tokenUrl: lms.tokenUrl, tokenAudience: null };
    ags = new AgsClient(h.app.services.fetch, h.app.services.serviceTokens, () => h.clock.now());
  });
  afterAll(async () => {
    await lms.close();
    await h.close();
  });

  it('uses the line item the launch names, without calling the LMS', async () => {
    const calls = lms.issued.length;
    expect(
      await ags.ensureLineItem(
        platform,
        { lineitem: 'https://lms.example/li/1', lineitems: lms.lineItemsUrl },
        { scoreMaximum: 100, label: 'x', resourceLinkId: 'rl' },
      ),
    ).toBe('https://lms.example/li/1');
    expect(lms.issued.length).toBe(calls);
  });

  it('finds the resource link line item across pages, or creates one', async () => {
    for (let i = 0; i < 5; i++) lms.addLineItem({ scoreMaximum: 10, label: `Other ${i}`, resourceLinkId: `rl-other-${i}` });
    const target = lms.addLineItem({ scoreMaximum: 100, label: 'Golf', resourceLinkId: 'rl-golf', resourceId: 'pkg_1' });
    lms.pageSize = 1;
    const all = await ags.findLineItems(platform, lms.lineItemsUrl, {});
    expect(all).toHaveLength(6);
    expect(await ags.ensureLineItem(platform, { lineitems: lms.lineItemsUrl }, { scoreMaximum: 100, label: 'Golf', resourceLinkId: 'rl-golf' })).toBe(
      target.id,
    );
    const created = await ags.ensureLineItem(
      platform,
      { lineitems: lms.lineItemsUrl },
      { scoreMaximum: 100, label: 'New course', resourceLinkId: 'rl-new', resourceId: 'pkg_2', tag: 'courseport' },
    );
    expect(lms.lineItems.get(created)).toMatchObject({ label: 'New course', resourceLinkId: 'rl-new', resourceId: 'pkg_2', tag: 'courseport' });
    expect(lms.refusals).toEqual([]);
  });

  it('posts scores with the score media type to <line item path>/scores, keeping the query, and reads results', async () => {
    const item = lms.addLineItem({ scoreMaximum: 100, label: 'Scored', resourceLinkId: 'rl-score' });
    await ags.postScore(platform, item.id, {
      userId: 'learner-1',
      scoreGiven: 85,
      scoreMaximum: 100,
      timestamp: new Date(h.clock.now()).toISOString(),
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded',
    });
    expect(lms.scores.get(item.id)).toEqual([expect.objectContaining({ userId: 'learner-1', scoreGiven: 85, activityProgress: 'Completed' })]);
    expect(await ags.result(platform, item.id, 'learner-1')).toMatchObject({ userId: 'learner-1', resultScore: 85 });
    expect(await ags.result(platform, item.id, 'nobody')).toBeUndefined();
  });

  it('reports failures with the status and Retry-After, and tells permanent from transient', async () => {
    const item = lms.addLineItem({ scoreMaximum: 100, label: 'Faulty', resourceLinkId: 'rl-fault' });
    const score = {
      userId: 'u',
      scoreGiven: 1,
      scoreMaximum: 100,
      timestamp: new Date(h.clock.now()).toISOString(),
      activityProgress: 'Completed' as const,
      gradingProgress: 'FullyGraded' as const,
    };
    lms.failScores = { status: 429, retryAfter: 7, count: 1 };
    const limited = (await ags.postScore(platform, item.id, score).catch((e: unknown) => e)) as ServiceCallError;
    expect(limited).toBeInstanceOf(ServiceCallError);
    expect(limited.code).toBe('SERVICE_CALL_FAILED');
    expect(limited.httpStatus).toBe(429);
    expect(limited.retryAfterMs).toBe(7000);
    expect(limited.permanent).toBe(false);
    lms.failScores = { status: 500, count: 1 };
    expect(((await ags.postScore(platform, item.id, score).catch((e: unknown) => e)) as ServiceCallError).permanent).toBe(false);
    const missing = (await ags
      .postScore(platform, `${lms.origin}/courses/42/lineitems/999/lineitem?type_id=3`, score)
      .catch((e: unknown) => e)) as ServiceCallError;
    expect(missing.httpStatus).toBe(404);
    expect(missing.permanent).toBe(true);
    await ags.postScore(platform, item.id, score);
    expect(lms.scores.get(item.id)).toHaveLength(1);
  });
});
