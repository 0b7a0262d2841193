/**
 * SCORM runtime commits through the real HTTP endpoint: each virtual learner has an
 * attempt (made by a real launch), loads the SCO once, then commits a realistic
 * scorm-again payload (flattened SCORM 1.2 CMI, ~30 elements) in a closed loop. Each commit
 * takes its attempt's row lock, stores the SCO under a conditional update and rolls up.
 */
import { benchCourse, closedLoop, handshake, startBenchServer, type LoadResult } from './common.js';

function payload(seq: number, i: number): string {
  return JSON.stringify({
    'cmi.suspend_data': `viewed=1,2,3,4,5,6,7,8,9,10|last=${i % 15}|${'x'.repeat(200)}`,
    'cmi.launch_data': '',
    'cmi.comments': '',
    'cmi.comments_from_lms': '',
    'cmi.core.student_id': 'bench',
    'cmi.core.student_name': 'Bench, Learner',
    'cmi.core.lesson_location': String(i % 15),
    'cmi.core.credit': 'credit',
    'cmi.core.lesson_status': 'incomplete',
    'cmi.core.entry': 'ab-initio',
    'cmi.core.lesson_mode': 'normal',
    'cmi.core.exit': '',
    'cmi.core.session_time': '00:00:10',
    'cmi.core.score.raw': String(i % 100),
    'cmi.core.score.min': '0',
    'cmi.core.score.max': '100',
    'cmi.objectives': {},
    'cmi.student_data.mastery_score': '',
    'cmi.student_data.max_time_allowed': '',
    'cmi.student_data.time_limit_action': '',
    'cmi.student_preference.audio': '',
    'cmi.student_preference.language': '',
    'cmi.student_preference.speed': '',
    'cmi.student_preference.text': '',
    'cmi.interactions.0.id': 'q1',
    'cmi.interactions.0.type': 'choice',
    'cmi.interactions.0.student_response': 'a',
    'cmi.interactions.0.result': 'correct',
    commitSequence: seq,
  });
}

export async function runRuntimeBench(options: { concurrency: number; durationMs: number; warmupMs: number; pgUrl?: string }): Promise<LoadResult> {
  let packageId = '';
  const s = await startBenchServer(
    options.concurrency,
    async (services) => {
      packageId = (await services.packages.importPackage(await benchCourse())).package.id;
    },
    {},
    options.pgUrl ? { pgUrl: options.pgUrl } : {},
  );
  try {
    const host = `localhost:${s.port}`;
    const sessions = await Promise.all(
      Array.from({ length: options.concurrency }, async (_, w) => {
        const page = await handshake(s, `learner-${w}`, { link: 'rl-bench', package: packageId });
        const api = /"api":"([^"]+)"/.exec(page)?.[1];
        if (!api) throw new Error('the launch did not open the player');
        const load = await s.tool.request({ method: 'POST', path: `${api}/sco/item_1`, headers: { host } });
        const { session } = (await load.body.json()) as { session: number };
        return { url: `${api}/sco/item_1/commit?session=${session}` };
      }),
    );
    return await closedLoop(
      s.child.pid,
      options,
      async (w, i) => {
        const res = await s.tool.request({
          method: 'POST',
          path: sessions[w]!.url,
          headers: { host, 'content-type': 'application/json' },
          body: payload(i + 1, i),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`commit answered ${res.statusCode}: ${text.slice(0, 200)}`);
      },
      s.databasePids,
    );
  } finally {
    await s.close();
  }
}
