/** The typed summary of a package that `parseManifest` returns (and the catalogue stores as JSON). */

export type ScormVersion = '1.2' | '2004-2nd' | '2004-3rd' | '2004-4th';

export interface CompletionThreshold {
  minProgressMeasure: number;
  completedByMeasure: boolean;
  progressWeight?: number;
}

export interface ManifestItem {
  identifier: string;
  title: string;
  isVisible: boolean;
  /** The item's `identifierref`. */
  resourceId?: string;
  /** From the referenced resource (`adlcp:scormtype` / `adlcp:scormType`). */
  scormType?: 'sco' | 'asset';
  /**
   * Package-relative URL (or an absolute http(s) URL when the resource is remote): xml:base of
   * manifest, resources and resource, then the resource href, then the item `parameters`.
   */
  launchUrl?: string;
  /** The item's `parameters` attribute as written (trimmed). */
  parameters?: string;
  /** SCORM 1.2 `adlcp:masteryscore` (0..100). */
  masteryScore?: number;
  /** `adlcp:datafromlms` (1.2) / `adlcp:dataFromLMS` (2004). */
  dataFromLMS?: string;
  /** 1.2 `adlcp:maxtimeallowed`; 2004 `imsss:limitConditions@attemptAbsoluteDurationLimit`. */
  maxTimeAllowed?: string;
  /** `adlcp:timelimitaction` / `adlcp:timeLimitAction`. */
  timeLimitAction?: string;
  /** 2004 `adlcp:completionThreshold` (element text in 2nd/3rd ed., attributes in 4th ed.). */
  completionThreshold?: CompletionThreshold;
  /** 2004 primary objective `imsss:minNormalizedMeasure` when `satisfiedByMeasure="true"`. */
  scaledPassingScore?: number;
  /** 2004 objective ids (`objectiveID` of the primary and other objectives), given to the SCO as cmi.objectives.n.id. */
  objectiveIds?: string[];
  children: ManifestItem[];
}

export interface ManifestResource {
  identifier: string;
  type: string;
  scormType?: 'sco' | 'asset';
  /** The `href` attribute as written in the manifest (entities decoded, trimmed). */
  href?: string;
  /**
   * The effective base the href and file hrefs are resolved against: the xml:base values of
   * manifest, resources and resource combined; '' for the package root, otherwise a
   * package-relative directory ending in '/' or an absolute http(s) URL.
   */
  base: string;
  /** File hrefs as written. */
  files: string[];
  /** `identifierref`s of the resource's dependencies, as written. */
  dependencies: string[];
}

export interface ManifestOrganization {
  identifier: string;
  title: string;
  items: ManifestItem[];
}

export interface Manifest {
  version: ScormVersion;
  identifier: string;
  /** The default organization's title, else the manifest's LOM title, else its identifier. */
  title: string;
  /** The identifier of the organization actually used. */
  defaultOrganization: string;
  organizations: ManifestOrganization[];
  resources: ManifestResource[];
  /** Launchable leaf items (SCOs and assets with a launchUrl) of the default organization, depth-first. */
  scos: ManifestItem[];
  /**
   * True when any launchable item carries a mastery score (1.2) or a scaled passing score (2004).
   * A conservative heuristic: a SCO can still report a score without either, and one with a
   * passing score may never report a score; use it only for defaults (e.g. whether to offer a
   * grade line item), never to decide what the runtime accepts.
   */
  scored: boolean;
  /**
   * Every package-relative file the manifest needs (resource hrefs and file hrefs, resolved with
   * xml:base, query and fragment stripped, percent-decoded, normalized posix, no leading './'),
   * deduplicated in document order. Absolute http(s) URLs are left out.
   */
  referencedFiles: string[];
}
