import { invalid, unsupported } from './errors.js';
import { attr, child, children, collapse, extAttr, nonEmpty } from './lookup.js';
import { appendParameters, toUrl } from './resolve.js';
import type { ParsedResource } from './resources.js';
import type { CompletionThreshold, ManifestItem, ScormVersion } from './types.js';
import type { XmlElement } from './xml.js';

export interface ItemContext {
  readonly version: ScormVersion;
  readonly resources: ReadonlyMap<string, ParsedResource>;
  readonly subManifests: ReadonlySet<string>;
  /** imsss:sequencingCollection entries by ID. */
  readonly sequencingCollection: ReadonlyMap<string, XmlElement>;
  readonly seen: Set<string>;
  readonly organization: string;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

function parseDecimal(value: string | undefined): number | undefined {
  const v = value?.trim();
  if (v === undefined || !DECIMAL.test(v)) return undefined;
  return Number(v);
}

function inRange(value: number | undefined, min: number, max: number): number | undefined {
  return value !== undefined && value >= min && value <= max ? value : undefined;
}

function isTrue(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

function parseCompletionThreshold(el: XmlElement, version: ScormVersion): CompletionThreshold | undefined {
  const minAttr = extAttr(el, 'adlcp', 'minProgressMeasure');
  const byMeasureAttr = extAttr(el, 'adlcp', 'completedByMeasure');
  const weightAttr = extAttr(el, 'adlcp', 'progressWeight');
  if (minAttr !== undefined || byMeasureAttr !== undefined || weightAttr !== undefined || (version === '2004-4th' && el.text === '')) {
    // 4th edition: attributes with schema defaults minProgressMeasure=1.0, completedByMeasure=false.
    const threshold: CompletionThreshold = {
      minProgressMeasure: inRange(parseDecimal(minAttr), 0, 1) ?? 1,
      completedByMeasure: isTrue(byMeasureAttr),
    };
    const weight = inRange(parseDecimal(weightAttr), 0, 1);
    if (weight !== undefined) threshold.progressWeight = weight;
    return threshold;
  }
  // 2nd/3rd edition: a decimal that the LMS compares progress_measure with.
  const measure = inRange(parseDecimal(el.text), 0, 1);
  return measure === undefined ? undefined : { minProgressMeasure: measure, completedByMeasure: true };
}

/** A sequencing child from the item's own imsss:sequencing, else from the collection entry it references. */
function sequencingChild(item: XmlElement, local: string, ctx: ItemContext): XmlElement | undefined {
  const sequencing = child(item, 'imsss', 'sequencing');
  if (sequencing === undefined) return undefined;
  const own = child(sequencing, 'imsss', local);
  if (own !== undefined) return own;
  const ref = nonEmpty(attr(sequencing, 'IDRef'));
  return ref === undefined ? undefined : child(ctx.sequencingCollection.get(ref), 'imsss', local);
}

function parseScaledPassingScore(item: XmlElement, ctx: ItemContext): number | undefined {
  const primary = child(sequencingChild(item, 'objectives', ctx), 'imsss', 'primaryObjective');
  if (primary === undefined || !isTrue(attr(primary, 'satisfiedByMeasure'))) return undefined;
  const measure = child(primary, 'imsss', 'minNormalizedMeasure');
  // SN book: minNormalizedMeasure defaults to 1.0.
  if (measure === undefined || measure.text === '') return 1;
  return inRange(parseDecimal(measure.text), -1, 1);
}

/** SCORM 2004 RTE 4.2.17: the LMS initialises cmi.objectives with the objective ids the item declares. */
function parseObjectiveIds(item: XmlElement, ctx: ItemContext): string[] {
  const objectives = sequencingChild(item, 'objectives', ctx);
  if (objectives === undefined) return [];
  const ids: string[] = [];
  for (const el of [...children(objectives, 'imsss', 'primaryObjective'), ...children(objectives, 'imsss', 'objective')]) {
    const id = nonEmpty(attr(el, 'objectiveID'));
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** An `<item>` and its children, with what the runtime needs from its resource and the ADL extensions. */
export function parseItem(el: XmlElement, ctx: ItemContext): ManifestItem {
  const identifier = nonEmpty(attr(el, 'identifier'));
  if (identifier === undefined) {
    throw invalid(`An item in organization "${ctx.organization}" has no identifier`, { organization: ctx.organization });
  }
  if (ctx.seen.has(identifier)) {
    throw invalid(`Two items of organization "${ctx.organization}" share the identifier "${identifier}"`, { identifier });
  }
  ctx.seen.add(identifier);

  const item: ManifestItem = {
    identifier,
    title: nonEmpty(collapse(child(el, 'cp', 'title')?.text ?? '')) ?? identifier,
    isVisible: !['false', '0'].includes(attr(el, 'isvisible')?.trim().toLowerCase() ?? ''),
    children: [],
  };

  const resourceId = nonEmpty(attr(el, 'identifierref'));
  const parameters = nonEmpty(attr(el, 'parameters'));
  if (parameters !== undefined) item.parameters = parameters;
  if (resourceId !== undefined) {
    const target = ctx.resources.get(resourceId);
    if (target === undefined) {
      if (ctx.subManifests.has(resourceId)) {
        throw unsupported(`Item "${identifier}" refers to the sub-manifest "${resourceId}"; sub-manifests are not supported`, {
          identifier,
          identifierref: resourceId,
        });
      }
      throw invalid(`Item "${identifier}" references the missing resource "${resourceId}"`, { identifier, identifierref: resourceId });
    }
    item.resourceId = resourceId;
    if (target.resource.scormType !== undefined) item.scormType = target.resource.scormType;
    if (target.launch !== undefined) item.launchUrl = appendParameters(toUrl(target.launch), parameters);
  }

  const dataFromLMS = child(el, 'adlcp', 'dataFromLMS')?.text;
  if (dataFromLMS !== undefined && dataFromLMS !== '') item.dataFromLMS = dataFromLMS;
  const timeLimitAction = nonEmpty(child(el, 'adlcp', 'timeLimitAction')?.text);
  if (timeLimitAction !== undefined) item.timeLimitAction = timeLimitAction;

  if (ctx.version === '1.2') {
    // Unparseable or out-of-range mastery scores (empty elements are common) are ignored.
    const mastery = inRange(parseDecimal(child(el, 'adlcp', 'masteryscore')?.text), 0, 100);
    if (mastery !== undefined) item.masteryScore = mastery;
    const maxTime = nonEmpty(child(el, 'adlcp', 'maxtimeallowed')?.text);
    if (maxTime !== undefined) item.maxTimeAllowed = maxTime;
  } else {
    const thresholdEl = child(el, 'adlcp', 'completionThreshold');
    const threshold = thresholdEl === undefined ? undefined : parseCompletionThreshold(thresholdEl, ctx.version);
    if (threshold !== undefined) item.completionThreshold = threshold;
    const limit = sequencingChild(el, 'limitConditions', ctx);
    const duration = limit === undefined ? undefined : nonEmpty(attr(limit, 'attemptAbsoluteDurationLimit'));
    if (duration !== undefined) item.maxTimeAllowed = duration;
    const passing = parseScaledPassingScore(el, ctx);
    if (passing !== undefined) item.scaledPassingScore = passing;
    const objectiveIds = parseObjectiveIds(el, ctx);
    if (objectiveIds.length > 0) item.objectiveIds = objectiveIds;
  }

  item.children = children(el, 'cp', 'item').map((c) => parseItem(c, ctx));
  return item;
}
