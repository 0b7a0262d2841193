import type { Kysely } from 'kysely';
import type { RuntimeService } from '../attempts/runtime.service.js';
import { AppError, LtiError } from '../errors/app-error.js';
import { CLAIM, MESSAGE_TYPE } from '../lti/claims.js';
import { checkCanAnswer, parseDeepLinkingSettings } from '../lti/deep-linking.js';
import { displayName } from '../lti/id-token-claims.js';
import { canChooseContent, canSeeProgress, roleKinds, rosterKind, type RoleKind } from '../lti/roles.js';
import type { PlayerView, Player } from '../play/player.js';
import { recordRosterEndpoint } from '../rosters/roster.service.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import type { SignedTokens } from '../util/signed-tokens.js';
import { originOf } from '../util/url.js';
import type { DeepLinkingAnswer, PickerView } from './deep-linking-answer.js';
import { findLaunchView } from './launch.repository.js';
import type { LaunchInput, LaunchResult, LaunchService } from './launch.service.js';

/** The launch page of a validated launch that opens neither player nor picker. */
export interface LaunchHomeView {
  readonly platformName: string;
  readonly userName: string | null;
  readonly userEmail: string | null;
  readonly userSub: string;
  readonly contextTitle: string | null;
  readonly contextLabel: string | null;
  readonly resourceLinkTitle: string | null;
  readonly resourceLinkId: string | null;
  readonly roleKinds: readonly RoleKind[];
  readonly roles: readonly string[];
  readonly messageType: string;
  readonly launchToken: string;
}

/** Where a validated launch goes: the player, the content picker, or the launch page. */
export type LaunchOutcome = LaunchOutcomeCommon &
  (
    | { readonly kind: 'play'; readonly player: PlayerView }
    | { readonly kind: 'pick'; readonly picker: PickerView }
    | { readonly kind: 'home'; readonly home: LaunchHomeView }
  );

interface LaunchOutcomeCommon {
  readonly launch: Pick<LaunchResult, 'launchId' | 'platform' | 'deployment' | 'userId' | 'claims'>;
  /**
   * Origins of the LMS pages named in the signed launch (return URL, deep linking return URL):
   * where the page that frames this launch lives, e.g. a Canvas customer domain.
   */
  readonly launchOrigins: readonly string[];
}

export interface LaunchFlowDeps {
  readonly launches: LaunchService;
  readonly runtime: RuntimeService;
  readonly player: Player;
  readonly deepLinking: DeepLinkingAnswer;
  readonly launchTokens: SignedTokens;
  readonly db: Kysely<Database>;
  readonly clock: Clock;
}

type Extension = { readonly kind: 'play'; readonly attemptId: string } | { readonly kind: 'pick' } | undefined;

/**
 * The launch use case: the LTI checks (LaunchService), then what the launch opens. Everything a
 * launch records happens in its one transaction, so a refusal records nothing.
 */
export class LaunchFlow {
  constructor(private readonly deps: LaunchFlowDeps) {}

  async launch(input: LaunchInput): Promise<LaunchOutcome> {
    const result = await this.deps.launches.completeLaunch(input, (trx, launch) => this.openInTransaction(trx, launch));
    const common: LaunchOutcomeCommon = { launch: result, launchOrigins: launchOrigins(result.claims.raw) };
    const extension = result.extension;
    if (extension?.kind === 'play') {
      return {
        ...common,
        kind: 'play',
        player: await this.deps.player.view(extension.attemptId, { progressUrl: this.progressUrl(result.launchId, result.claims.roles) }),
      };
    }
    if (extension?.kind === 'pick') {
      const token = this.deps.deepLinking.issueToken(result.launchId);
      return { ...common, kind: 'pick', picker: await this.deps.deepLinking.picker(result.launchId, token) };
    }
    const { claims } = result;
    // Rendered from the validated launch in hand: no second read of what was just written.
    return {
      ...common,
      kind: 'home',
      home: {
        platformName: result.platform.name,
        userName: displayName(claims),
        userEmail: claims.email ?? null,
        userSub: claims.subject,
        contextTitle: claims.context?.title ?? null,
        contextLabel: claims.context?.label ?? null,
        resourceLinkTitle: claims.resourceLink?.title ?? null,
        resourceLinkId: claims.resourceLink?.id ?? null,
        roles: claims.roles,
        roleKinds: roleKinds(claims.roles),
        messageType: claims.messageType,
        launchToken: this.deps.launchTokens.issue(result.launchId, this.deps.clock.now()),
      },
    };
  }

  /** The launch page again, for its launch token (GET /lti/home). */
  async home(launchToken: string | undefined): Promise<LaunchHomeView> {
    const launchId = this.deps.launchTokens.verify(launchToken, this.deps.clock.now());
    const view = await findLaunchView(this.deps.db, launchId);
    if (!view)
      throw new AppError('LAUNCH_TOKEN_INVALID', 'This launch is no longer known to Courseport.', {
        hint: 'Open the activity again from your course in the LMS.',
      });
    const roles = JSON.parse(view.launch.roles) as string[];
    return {
      platformName: view.platformName,
      userName: view.userName,
      userEmail: view.userEmail,
      userSub: view.userSub,
      contextTitle: view.contextTitle,
      contextLabel: view.contextLabel,
      resourceLinkTitle: view.resourceLinkTitle,
      resourceLinkId: view.resourceLinkExternalId,
      roles,
      roleKinds: roleKinds(roles),
      messageType: view.launch.message_type,
      launchToken: launchToken ?? '',
    };
  }

  /**
   * Inside the launch transaction: where the course roster can be read (NRPS), then a resource
   * link bound to a package opens its attempt, and a deep linking request must come from someone
   * who may choose content.
   */
  private async openInTransaction(trx: Kysely<Database>, launch: Omit<LaunchResult, 'launchId'>): Promise<Extension> {
    if (launch.contextId) {
      await recordRosterEndpoint(trx, {
        contextId: launch.contextId,
        platformId: launch.platform.id,
        claim: launch.claims.raw[CLAIM.NRPS],
        now: this.deps.clock.now(),
      });
    }
    if (launch.claims.messageType === MESSAGE_TYPE.DEEP_LINKING) {
      if (!canChooseContent(launch.claims.roles)) {
        throw new LtiError('LTI_DEEP_LINKING_FORBIDDEN', 'Only instructors, content developers and administrators can choose content for a course.', {
          hint: 'Ask your instructor to add the content.',
        });
      }
      checkCanAnswer(parseDeepLinkingSettings(launch.claims.raw));
      return { kind: 'pick' };
    }
    if (!launch.resourceLinkId) return undefined;
    const attempt = await this.deps.runtime.openAttempt(trx, {
      resourceLinkId: launch.resourceLinkId,
      userId: launch.userId,
      customPackageId: launch.claims.custom.package_id,
      platformId: launch.platform.id,
      agsClaim: launch.claims.raw[CLAIM.AGS_ENDPOINT],
      roleKind: rosterKind(launch.claims.roles),
    });
    return attempt ? { kind: 'play', attemptId: attempt.id } : undefined;
  }

  /** The link to the progress view for an instructor's launch (undefined for anyone else). */
  private progressUrl(launchId: string, roles: readonly string[]): string | undefined {
    return canSeeProgress(roles) ? `/progress/${this.deps.launchTokens.issue(launchId, this.deps.clock.now())}` : undefined;
  }
}

function launchOrigins(raw: Record<string, unknown>): string[] {
  const presentation = raw[CLAIM.LAUNCH_PRESENTATION] as { return_url?: unknown } | undefined;
  const deepLinking = raw[CLAIM.DEEP_LINKING_SETTINGS] as { deep_link_return_url?: unknown } | undefined;
  const returnOrigin = originOf(presentation?.return_url);
  const deepLinkOrigin = originOf(deepLinking?.deep_link_return_url);
  const out: string[] = [];
  if (returnOrigin !== undefined) out.push(returnOrigin);
  if (deepLinkOrigin !== undefined && deepLinkOrigin !== returnOrigin) out.push(deepLinkOrigin);
  return out;
}
