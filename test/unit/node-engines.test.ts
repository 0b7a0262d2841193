import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * The Node.js versions package.json promises (README, "Requirements") must be ones every
 * installed package accepts: a dependency that needs a newer Node than we claim makes
 * `npm ci` warn (EBADENGINE) and may break at run time.
 */
const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('supported Node.js versions', () => {
  const ours = pkg.engines.node;

  it('are a valid range that the lock file repeats', () => {
    expect(semver.validRange(ours)).not.toBeNull();
    expect(lock.packages['']?.engines).toEqual({ node: ours });
  });

  it('are accepted by every package in the lock file', () => {
    const refusing = Object.entries(lock.packages).flatMap(([path, p]) => {
      const theirs = p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined;
      return path !== '' && theirs !== undefined && !semver.subset(ours, theirs)
        ? [`${path.replace(/^node_modules\//, '')}@${p.version ?? '?'} wants node ${theirs}`]
        : [];
    });
    expect(refusing).toEqual([]);
  });

  it('exclude the Node.js releases some dependencies cannot run on', () => {
    // 20.18 fails the engines of scorm-again (>=20.19.0) and vite (^20.19.0 || >=22.12.0).
    expect(semver.satisfies('20.18.1', ours)).toBe(false);
    expect(semver.satisfies('20.19.0', ours)).toBe(true);
  });
});
