import { AGS_SCOPE } from './ags.js';
import { MESSAGE_TYPE } from './claims.js';
import { toolUrls } from './dynamic-registration.js';
import { NRPS_SCOPE } from './nrps.js';

/** The platform name Canvas reads its own settings from in the extensions list. */
export const CANVAS_PLATFORM = 'canvas.instructure.com';

/**
 * The Canvas "LTI 1.3 JSON configuration" of a developer key (Developer Keys → + LTI Key →
 * Method: Enter URL, or Paste JSON). Instructors add Courseport content through deep linking
 * from the "link_selection" (modules, external tool items) and "assignment_selection"
 * (assignments: a graded activity) placements; the links that creates are resource links.
 * `privacy_level: public` sends names and email, which the progress view shows.
 */
export function canvasConfiguration(baseUrl: string): Record<string, unknown> {
  const urls = toolUrls(baseUrl);
  const placement = (name: string, text: string) => ({
    placement: name,
    message_type: MESSAGE_TYPE.DEEP_LINKING,
    target_link_uri: urls.launch,
    text,
    enabled: true,
    selection_width: 1024,
    selection_height: 768,
  });
  return {
    title: 'Courseport',
    description: 'SCORM courses from Courseport, launched and graded through LTI 1.3.',
    oidc_initiation_url: urls.login,
    target_link_uri: urls.launch,
    public_jwk_url: urls.jwks,
    scopes: [AGS_SCOPE.LINEITEM, AGS_SCOPE.LINEITEM_READONLY, AGS_SCOPE.RESULT_READONLY, AGS_SCOPE.SCORE, NRPS_SCOPE],
    extensions: [
      {
        platform: CANVAS_PLATFORM,
        domain: new URL(baseUrl).host,
        tool_id: 'courseport',
        privacy_level: 'public',
        settings: {
          text: 'Courseport',
          placements: [placement('link_selection', 'Courseport content'), placement('assignment_selection', 'Courseport activity')],
        },
      },
    ],
  };
}
