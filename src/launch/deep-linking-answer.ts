import { SignJWT, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { AppError } from '../errors/app-error.js';
import type { ToolKeyService } from '../keys/tool-keys.service.js';
import { buildDeepLinkingResponse, parseDeepLinkingSettings, type ChosenPackage } from '../lti/deep-linking.js';
import { listCatalogue, type CatalogueEntry } from '../packages/package.repository.js';
import type { Database } from '../store/tables.js';
import type { Clock } from '../util/clock.js';
import { randomToken } from '../util/ids.js';
import type { SignedTokens } from '../util/signed-tokens.js';
import { findDeepLinkingLaunch, markLaunchAnswered } from './launch.repository.js';

export interface DeepLinkingDeps {
  readonly db: Kysely<Database>;
  readonly pickerTokens: SignedTokens;
  readonly toolKeys: ToolKeyService;
  readonly clock: Clock;
  readonly baseUrl: string;
}

/** What the content picker shows. */
export interface PickerView {
  readonly token: string;
  readonly query: string;
  readonly packages: readonly CatalogueEntry[];
  readonly total: number;
  readonly multiple: boolean;
  readonly courseTitle: string | null;
}

/** The signed answer the browser posts back to the LMS. */
export interface DeepLinkingReturn {
  readonly returnUrl: string;
  readonly jwt: string;
  readonly summary: string;
  readonly items: readonly string[];
}

/** Deep linking responses live for a few minutes: the platform reads them at once. */
const RESPONSE_TTL_SECONDS = 300;

/**
 * The deep linking use case after the launch validated: the picker over the catalogue, then
 * the signed response carrying the chosen packages back to the LMS, answered once per launch.
 */
export class DeepLinkingAnswer {
  constructor(private readonly deps: DeepLinkingDeps) {}

  /** A picker token for a validated deep linking launch. */
  issueToken(launchId: string): string {
    return this.deps.pickerTokens.issue(launchId, this.deps.clock.now());
  }

  /** The launch a picker token stands for (LAUNCH_TOKEN_INVALID / _EXPIRED otherwise). */
  launchOf(token: string | undefined): string {
    return this.deps.pickerTokens.verify(token, this.deps.clock.now());
  }

  async picker(launchId: string, token: string, query = ''): Promise<PickerView> {
    const launch = await this.launch(launchId);
    const all = await listCatalogue(this.deps.db);
    const q = query.trim().toLowerCase();
    return {
      token,
      query: query.trim(),
      packages: q ? all.filter((p) => p.title.toLowerCase().includes(q)) : all,
      total: all.length,
      multiple: launch.settings.acceptMultiple,
      courseTitle: launch.courseTitle,
    };
  }

  /** Signs the answer for the chosen packages (none when cancelled) and marks the launch answered. */
  async answer(launchId: string, selection: { cancel: boolean; packageIds: readonly string[] }): Promise<DeepLinkingReturn> {
    const { db, toolKeys, clock, baseUrl } = this.deps;
    const launch = await this.launch(launchId);
    if (launch.status !== 'active') throw new AppError('LTI_PLATFORM_DISABLED', 'Launches from this LMS are disabled in Courseport.');
    let chosen: ChosenPackage[] = [];
    if (!selection.cancel) {
      if (selection.packageIds.length === 0) throw new AppError('DEEP_LINKING_INVALID_SELECTION', 'Choose at least one package, or Cancel.');
      const catalogue = new Map((await listCatalogue(db)).map((p) => [p.id, p]));
      chosen = [...new Set(selection.packageIds)].map((id) => {
        const p = catalogue.get(id);
        if (!p) throw new AppError('DEEP_LINKING_INVALID_SELECTION', `Package ${id} is not in the catalogue.`);
        return { id: p.id, title: p.title, description: p.description, scored: p.scored };
      });
    }
    const summary = selection.cancel
      ? 'No content was added.'
      : `Added ${chosen.length === 1 ? `“${chosen[0]?.title ?? ''}”` : `${chosen.length} items`} from Courseport.`;
    const claims = buildDeepLinkingResponse(
      launch.settings,
      chosen,
      { clientId: launch.clientId, issuer: launch.issuer, deploymentId: launch.deploymentId, launchUrl: `${baseUrl}/lti/launch`, nonce: randomToken(16) },
      summary,
    );
    const key = await toolKeys.signingKey();
    const nowSec = Math.floor(clock.now() / 1000);
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + RESPONSE_TTL_SECONDS)
      .sign(key.key);
    // Marked only once the answer is ready to go: a double submit would make the LMS create the items twice.
    if (!(await markLaunchAnswered(db, launchId, clock.now()))) {
      throw new AppError('DEEP_LINKING_ALREADY_ANSWERED', 'This selection has already been sent to your LMS.', {
        hint: 'Open the content selection again from the LMS to add more.',
      });
    }
    return { returnUrl: launch.settings.returnUrl, jwt, summary, items: chosen.map((c) => c.id) };
  }

  private async launch(launchId: string) {
    const row = await findDeepLinkingLaunch(this.deps.db, launchId);
    if (!row) throw new AppError('LAUNCH_TOKEN_INVALID', 'This content picker is no longer valid.', { hint: 'Open the content selection again from the LMS.' });
    return { ...row, settings: parseDeepLinkingSettings(JSON.parse(row.claims) as JWTPayload) };
  }
}
