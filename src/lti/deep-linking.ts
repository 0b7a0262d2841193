import type { JWTPayload } from 'jose';
import { AppError, LtiError } from '../errors/app-error.js';
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from './claims.js';

/** The deep_linking_settings claim (Deep Linking 2.0 §4.4.1), as Courseport uses it. */
export interface DeepLinkingSettings {
  readonly returnUrl: string;
  readonly acceptTypes: readonly string[];
  readonly acceptPresentationTargets: readonly string[];
  readonly acceptMultiple: boolean;
  readonly acceptLineItem: boolean;
  readonly autoCreate: boolean;
  readonly title: string | undefined;
  readonly text: string | undefined;
  /** Opaque value the platform wants back exactly (any JSON the claim held). */
  readonly data: unknown;
}

const LTI_RESOURCE_LINK = 'ltiResourceLink';

export function parseDeepLinkingSettings(claims: JWTPayload): DeepLinkingSettings {
  const raw = claims[CLAIM.DEEP_LINKING_SETTINGS];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LtiError('LTI_MISSING_CLAIM', 'The deep linking request has no deep_linking_settings claim.', {
      details: { claim: CLAIM.DEEP_LINKING_SETTINGS },
    });
  }
  const s = raw as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (typeof s.deep_link_return_url !== 'string') {
    throw new LtiError('LTI_MISSING_CLAIM', 'The deep linking request has no deep_link_return_url.', { details: { claim: 'deep_link_return_url' } });
  }
  return {
    returnUrl: s.deep_link_return_url,
    acceptTypes: strings(s.accept_types),
    acceptPresentationTargets: strings(s.accept_presentation_document_targets),
    // Absent means false (§4.4.1: accept_multiple defaults to false); accept_lineitem is true unless false.
    acceptMultiple: s.accept_multiple === true || s.accept_multiple === 'true',
    acceptLineItem: !(s.accept_lineitem === false || s.accept_lineitem === 'false'),
    autoCreate: s.auto_create === true || s.auto_create === 'true',
    title: typeof s.title === 'string' ? s.title : undefined,
    text: typeof s.text === 'string' ? s.text : undefined,
    data: s.data,
  };
}

/** Refuses a request the tool cannot answer with anything the platform accepts. */
export function checkCanAnswer(settings: DeepLinkingSettings): void {
  if (!settings.acceptTypes.includes(LTI_RESOURCE_LINK)) {
    throw new LtiError(
      'LTI_DEEP_LINKING_UNSUPPORTED',
      `The LMS asks for ${settings.acceptTypes.join(', ') || 'no content type'}; Courseport offers LTI resource links (ltiResourceLink) only.`,
      {
        hint: 'Add Courseport content as an external tool activity (LTI resource link) instead.',
      },
    );
  }
}

export interface ChosenPackage {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly scored: boolean;
}

export interface ResponseContext {
  readonly clientId: string;
  readonly issuer: string;
  readonly deploymentId: string;
  readonly launchUrl: string;
  readonly nonce: string;
}

/** The LtiDeepLinkingResponse claims (Deep Linking 2.0 §4.5), ready to be signed. */
export function buildDeepLinkingResponse(settings: DeepLinkingSettings, chosen: readonly ChosenPackage[], ctx: ResponseContext, message?: string): JWTPayload {
  if (chosen.length > 1 && !settings.acceptMultiple) {
    throw new AppError('DEEP_LINKING_INVALID_SELECTION', 'The LMS accepts one item here; choose a single package.');
  }
  const presentation = settings.acceptPresentationTargets.includes('iframe')
    ? { iframe: { width: 1024, height: 768 } }
    : settings.acceptPresentationTargets.includes('window')
      ? { window: { targetName: '_blank' } }
      : {};
  const items = chosen.map((p) => ({
    type: LTI_RESOURCE_LINK,
    title: p.title,
    ...(p.description ? { text: p.description } : {}),
    url: ctx.launchUrl,
    custom: { package_id: p.id },
    ...presentation,
    ...(p.scored && settings.acceptLineItem ? { lineItem: { scoreMaximum: 100, label: p.title, resourceId: p.id, tag: 'courseport' } } : {}),
  }));
  return {
    iss: ctx.clientId,
    aud: ctx.issuer,
    nonce: ctx.nonce,
    [CLAIM.MESSAGE_TYPE]: MESSAGE_TYPE.DEEP_LINKING_RESPONSE,
    [CLAIM.VERSION]: LTI_VERSION,
    [CLAIM.DEPLOYMENT_ID]: ctx.deploymentId,
    ...(settings.data !== undefined ? { [CLAIM.DEEP_LINKING_DATA]: settings.data } : {}),
    [CLAIM.DEEP_LINKING_CONTENT_ITEMS]: items,
    ...(message ? { [CLAIM.DEEP_LINKING_MSG]: message } : {}),
  };
}
