import { familyOf, type Learner, type RuntimeService } from '../attempts/runtime.service.js';
import { scoEntries } from '../attempts/player-view.js';
import { findAttemptLearner, findAttemptUser, listScoRuntime } from '../attempts/attempt.repository.js';
import type { DispatchService } from '../dispatch/dispatch.service.js';
import { AppError } from '../errors/app-error.js';
import { PREVIEW_PLATFORM_ID } from '../platforms/platform.repository.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import type { SignedTokens } from '../util/signed-tokens.js';

export interface PlayerSco {
  readonly id: string;
  readonly title: string;
  readonly launchUrl: string;
  readonly depth: number;
  readonly completion: string;
  readonly success: string;
}

export interface PlayerConfig {
  readonly family: '1.2' | '2004';
  /** Base of the runtime API: /play/<play token>. */
  readonly api: string;
  /** Base of the package files: /content/<content token>/. */
  readonly contentBase: string;
  /** How often the page trades its tokens for fresh ones (POST <api>/renew), so a long session keeps committing. */
  readonly renewEveryMs: number;
  readonly start: string;
  readonly scos: readonly PlayerSco[];
  /** Content dispatch: relay the attempt's status to the launcher in the LMS window (see docs/dispatch.md). */
  readonly relay?: PlayerRelay | undefined;
}

export interface PlayerRelay {
  /** The launcher's nonce from the launch form: the handshake must echo it. */
  readonly nonce: string;
  /** The Origin header of the launch form post (the launcher's origin), when the browser sent one. */
  readonly expectedOrigin: string | null;
  /** The attempt's total time before this launch: what it grows by is the session time. */
  readonly baseTimeMs: number;
}

/** Everything the player page shows for one attempt. */
export interface PlayerView {
  readonly title: string;
  readonly learnerName: string;
  readonly attemptNumber: number;
  readonly completion: string;
  readonly success: string;
  readonly canStartNewAttempt: boolean;
  /** For instructors: their view of every learner's progress. */
  readonly progressUrl?: string | undefined;
  /** The attempt's score (0–1), shown in the header. */
  readonly scoreScaled: number | null;
  /** A console preview: nothing is reported to an LMS. */
  readonly preview: boolean;
  readonly config: PlayerConfig;
}

export interface PlayerDeps {
  readonly db: Kysely<Database>;
  readonly runtime: RuntimeService;
  readonly playTokens: SignedTokens;
  readonly contentTokens: SignedTokens;
  /** Token renewal asks whether a dispatch learner may still play. */
  readonly dispatch: Pick<DispatchService, 'assertStillPlayable'>;
  readonly clock: Clock;
}

/**
 * The player use case: what the player page of an attempt shows (after a launch, a dispatch
 * admission or a reload), the learner a SCO is told about, and the renewal of the tokens an open
 * player holds.
 */
export class Player {
  constructor(private readonly deps: PlayerDeps) {}

  /** The attempt a play token stands for (LAUNCH_TOKEN_INVALID / _EXPIRED otherwise). */
  attemptOf(playToken: string | undefined): string {
    return this.deps.playTokens.verify(playToken, this.deps.clock.now());
  }

  async view(attemptId: string, extras: { progressUrl?: string | undefined; relay?: PlayerRelay | undefined } = {}): Promise<PlayerView> {
    const { runtime, playTokens, contentTokens, clock, db } = this.deps;
    const { attempt, version, manifest } = await runtime.attemptWithVersion(attemptId);
    const user = await findAttemptUser(db, attempt.user_id);
    const scoRows = new Map((await listScoRuntime(db, attemptId)).map((r) => [r.sco_id, r]));
    const now = clock.now();
    const entries = scoEntries(manifest);
    const firstOpen = entries.find((e) => scoRows.get(e.item.identifier)?.completion !== 'completed');
    const start =
      attempt.current_sco && entries.some((e) => e.item.identifier === attempt.current_sco) ? attempt.current_sco : (firstOpen ?? entries[0])?.item.identifier;
    if (!start) throw new AppError('PACKAGE_UNSUPPORTED', 'This package has nothing to launch.');
    return {
      title: version.title,
      learnerName: user.name ?? user.sub,
      attemptNumber: attempt.number,
      completion: attempt.completion,
      success: attempt.success,
      // A dispatch player relays one attempt to the launcher: it does not offer a new one (see docs/dispatch.md).
      canStartNewAttempt: !extras.relay && runtime.canStartNewAttempt(attempt),
      progressUrl: extras.progressUrl,
      scoreScaled: attempt.score_scaled,
      preview: user.platform_id === PREVIEW_PLATFORM_ID,
      config: {
        family: familyOf(manifest),
        api: `/play/${playTokens.issue(attempt.id, now)}`,
        contentBase: `/content/${contentTokens.issue(version.id, now)}/`,
        renewEveryMs: this.renewInterval(),
        start,
        scos: entries.map(({ item, depth }) => ({
          id: item.identifier,
          title: item.title,
          launchUrl: item.launchUrl ?? '',
          depth,
          completion: scoRows.get(item.identifier)?.completion ?? 'not attempted',
          success: scoRows.get(item.identifier)?.success ?? 'unknown',
        })),
        ...(extras.relay ? { relay: extras.relay } : {}),
      },
    };
  }

  async learner(attemptId: string): Promise<Learner> {
    const row = await findAttemptLearner(this.deps.db, attemptId);
    if (!row) throw new AppError('LAUNCH_TOKEN_INVALID', 'This attempt no longer exists.');
    const { dispatchLearner, ...learner } = row;
    return dispatchLearner ? { ...learner, sub: dispatchLearner } : learner;
  }

  /** A new attempt after a completed one, with the play URL that opens it. */
  async startNewAttempt(attemptId: string): Promise<{ attemptId: string; playUrl: string }> {
    const next = await this.deps.runtime.startNewAttempt(attemptId);
    return { attemptId: next.id, playUrl: `/play/${this.deps.playTokens.issue(next.id, this.deps.clock.now())}` };
  }

  /**
   * A player open longer than a token lives trades its still-valid tokens for fresh ones; an
   * expired token is refused like every other call (relaunch from the LMS).
   */
  async renew(attemptId: string): Promise<{ api: string; contentBase: string }> {
    const { attempt, version } = await this.deps.runtime.attemptWithVersion(attemptId);
    const now = this.deps.clock.now();
    await this.deps.dispatch.assertStillPlayable(attempt.user_id, now);
    return { api: `/play/${this.deps.playTokens.issue(attemptId, now)}`, contentBase: `/content/${this.deps.contentTokens.issue(version.id, now)}/` };
  }

  /** A quarter of the token lifetime (at least a minute): a few missed renewals still leave a valid token. */
  private renewInterval(): number {
    return Math.max(60_000, Math.floor(Math.min(this.deps.playTokens.ttlMs, this.deps.contentTokens.ttlMs) / 4));
  }
}
