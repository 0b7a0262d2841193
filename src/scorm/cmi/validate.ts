import { AppError } from '../../errors/app-error.js';
import { READ_ONLY_12, WRITABLE_12 } from './elements-12.js';
import { READ_ONLY_2004, READ_ONLY_PREFIX_2004, WRITABLE_2004 } from './elements-2004.js';
import { CMI_LIMITS, type ScormFamily } from './model.js';
import type { Check, CmiProblemReason } from './value-types.js';

/**
 * `validateCmi` is the trust boundary: it refuses unknown elements, malformed values,
 * oversized arrays and maps, and drops the read-only elements a runtime echoes back.
 */

function invalid(element: string, reason: CmiProblemReason, message: string): AppError {
  return new AppError('CMI_INVALID', message, { details: { element, reason } });
}

/** Per-array caps, by the array's normalized path. */
const ARRAY_CAPS: Readonly<Record<string, number>> = {
  'cmi.objectives': CMI_LIMITS.objectives,
  'cmi.interactions': CMI_LIMITS.interactions,
  'cmi.interactions.n.objectives': CMI_LIMITS.perInteraction,
  'cmi.interactions.n.correct_responses': CMI_LIMITS.perInteraction,
  'cmi.comments_from_learner': CMI_LIMITS.commentsFromLearner,
};

/** `_children`, `_count`, `_version`: keywords a runtime may echo; never stored. */
const KEYWORDS = new Set(['_children', '_count', '_version']);

interface DataModel {
  readonly writable: ReadonlyMap<string, Check>;
  readonly readOnly: ReadonlySet<string>;
  /** Every group or array path ("cmi", "cmi.core", "cmi.interactions.n.objectives", ...). */
  readonly containers: ReadonlySet<string>;
  readonly readOnlyPrefix: string | undefined;
}

function buildModel(writable: Readonly<Record<string, Check>>, readOnly: readonly string[], readOnlyPrefix?: string): DataModel {
  const containers = new Set<string>();
  for (const name of [...Object.keys(writable), ...readOnly]) {
    const parts = name.split('.');
    for (let i = 1; i < parts.length; i++) containers.add(parts.slice(0, i).join('.'));
  }
  return {
    writable: new Map(Object.entries(writable)),
    readOnly: new Set(readOnly),
    containers,
    readOnlyPrefix,
  };
}

const MODELS: Readonly<Record<ScormFamily, DataModel>> = {
  '1.2': buildModel(WRITABLE_12, READ_ONLY_12),
  '2004': buildModel(WRITABLE_2004, READ_ONLY_2004, READ_ONLY_PREFIX_2004),
};

interface ArrayRef {
  /** The concrete array path, e.g. "cmi.interactions.3.objectives". */
  readonly path: string;
  /** The same with indexes as `n`, e.g. "cmi.interactions.n.objectives". */
  readonly normalizedPath: string;
  readonly index: number;
}

interface ParsedName {
  /** The name with every index replaced by `n`. */
  readonly normalized: string;
  readonly segments: readonly string[];
  /** The arrays the name indexes into, outermost first. */
  readonly arrays: readonly ArrayRef[];
}

const DIGITS = /^\d+$/;

/**
 * Parsed names of writable elements, memoized: every commit of a SCO repeats the same
 * names, and parsing is most of validation's cost. Bounded; cleared when full.
 */
const PARSED_NAMES = new Map<string, ParsedName>();
const PARSED_NAMES_MAX = 20_000;

function parseName(name: string): ParsedName {
  const cached = PARSED_NAMES.get(name);
  if (cached !== undefined) return cached;
  const parsed = parseNameUncached(name);
  if (MODELS['1.2'].writable.has(parsed.normalized) || MODELS['2004'].writable.has(parsed.normalized)) {
    if (PARSED_NAMES.size >= PARSED_NAMES_MAX) PARSED_NAMES.clear();
    PARSED_NAMES.set(name, parsed);
  }
  return parsed;
}

function parseNameUncached(name: string): ParsedName {
  const segments = name.split('.');
  let concrete = '';
  let normalized = '';
  const arrays: ArrayRef[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const sep = i === 0 ? '' : '.';
    if (DIGITS.test(segment)) {
      if (segment.length > 1 && segment.startsWith('0')) {
        throw invalid(name, 'bad-index', `${name}: an array index must not have leading zeros`);
      }
      arrays.push({ path: concrete, normalizedPath: normalized, index: Number(segment) });
      normalized += `${sep}n`;
    } else {
      normalized += sep + segment;
    }
    concrete += sep + segment;
  }
  return { normalized, segments, arrays };
}

function isEmptyPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** What validation does with one name. */
type Disposition = { readonly keep: false } | { readonly keep: true; readonly value: string; readonly check: Check };

function classify(model: DataModel, name: string, parsed: ParsedName, value: unknown): Disposition {
  const { normalized } = parsed;
  const check = model.writable.get(normalized);
  if (check !== undefined) {
    if (typeof value !== 'string') throw invalid(name, 'not-a-string', `${name}: the value must be a string`);
    return { keep: true, value, check };
  }
  const last = parsed.segments[parsed.segments.length - 1] ?? '';
  const parent = parsed.segments.length > 1 ? normalized.slice(0, normalized.lastIndexOf('.')) : '';
  const ignorable =
    model.readOnly.has(normalized) ||
    (KEYWORDS.has(last) && model.containers.has(parent)) ||
    // scorm-again's flattened export writes an empty array or group as `{}`.
    (model.containers.has(normalized) && isEmptyPlainObject(value));
  // Whatever the runtime echoes in a read-only element is dropped, so its value does not matter.
  if (ignorable) return { keep: false };
  throw invalid(name, 'unknown-element', `${name} is not a SCORM element that can be stored`);
}

/**
 * Validates a commit's CMI map for one SCO and returns the elements to store (the writable
 * ones); known read-only elements and keywords echoed by the runtime are dropped. An empty
 * string is accepted for every element (the runtime exports unset elements that way).
 *
 * @throws AppError CMI_INVALID on the first problem, with `details: { element, reason }`.
 */
export function validateCmi(family: ScormFamily, input: unknown): Record<string, string> {
  const model = MODELS[family];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('cmi', 'not-an-object', 'The CMI data must be an object of element names to string values');
  }
  const entries = Object.entries(input);
  if (entries.length > CMI_LIMITS.keys) {
    throw invalid('cmi', 'too-large', `The CMI data has more than ${CMI_LIMITS.keys} elements`);
  }

  const kept: Record<string, string> = {};
  /** Concrete array path ("cmi.interactions.3.objectives") → indexes seen. */
  const arrays = new Map<string, Set<number>>();

  for (const [name, value] of entries) {
    if (model.readOnlyPrefix !== undefined && name.startsWith(model.readOnlyPrefix)) continue;
    const parsed = parseName(name);
    const disposition = classify(model, name, parsed, value);
    if (!disposition.keep) continue;
    const text = disposition.value;

    for (const { path, normalizedPath, index } of parsed.arrays) {
      const cap = ARRAY_CAPS[normalizedPath] ?? 0;
      if (index >= cap) {
        throw invalid(name, 'too-many-entries', `${path} holds at most ${cap} entries (index ${index})`);
      }
      let seen = arrays.get(path);
      if (seen === undefined) {
        seen = new Set();
        arrays.set(path, seen);
      }
      seen.add(index);
    }

    if (text !== '') {
      const problem = disposition.check(text);
      if (problem !== undefined) {
        throw invalid(name, problem.reason, `${name}: expected ${problem.expected}`);
      }
    }
    kept[name] = text;
  }

  // Arrays are filled in order (SCORM refuses to skip an index): 0..count-1, no gaps.
  for (const [arrayPath, seen] of arrays) {
    for (let i = 0; i < seen.size; i++) {
      if (!seen.has(i)) {
        throw invalid(`${arrayPath}.${i}`, 'index-gap', `${arrayPath} skips index ${i}: entries must be numbered from 0 without gaps`);
      }
    }
  }

  const bytes = Buffer.byteLength(JSON.stringify(kept), 'utf8');
  if (bytes > CMI_LIMITS.serializedBytes) {
    throw invalid('cmi', 'too-large', `The CMI data takes ${bytes} bytes, more than the ${CMI_LIMITS.serializedBytes} allowed per SCO`);
  }
  return kept;
}
