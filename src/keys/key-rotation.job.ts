import type { FastifyBaseLogger } from 'fastify';
import type { ToolKeyService } from './tool-keys.service.js';

type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * The tool key schedule in the background worker (docs/keys.md): every `everyMs` each process
 * asks ToolKeyService.runSchedule whether a step is due. The decision is made under the
 * rotation lock in the database, so processes sharing one PostgreSQL act once, and the state
 * lives in `tool_keys` (created/activated/retired timestamps), so a restart loses nothing.
 */
export class KeyRotationJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly keys: ToolKeyService,
    private readonly log: Log,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce().then(
        () => undefined,
        (err: unknown) => this.log.error({ err }, 'tool key schedule check failed; retrying at the next check'),
      );
      void this.running.finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.everyMs);
        this.timer.unref();
      });
    };
    // First check right after start: a process that was down through a due step catches up.
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async runOnce(): Promise<void> {
    const r = await this.keys.runSchedule();
    if (!r) return;
    if (r.action === 'published-next') {
      this.log.info(
        { kid: r.kid, promotableAt: r.promotableAt ? new Date(r.promotableAt).toISOString() : undefined },
        'tool key schedule: published the next key',
      );
    } else if (r.action === 'promoted') {
      this.log.info({ kid: r.kid }, 'tool key schedule: the next key is now current; the previous one is retired');
    }
  }
}
