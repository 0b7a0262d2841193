import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors/app-error.js';
import { CLAIM } from '../../src/lti/claims.js';
import { parseManifest } from '../../src/scorm/manifest/parse.js';
import type { Manifest, ManifestItem } from '../../src/scorm/manifest/types.js';
import { extractPackage } from '../../src/packages/package-archive.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { playerConfig } from '../helpers/player.js';
import { readZipEntry } from '../helpers/zip-reader.js';
import { CMI5_SAMPLES, GOLF_12, GOLF_12_MULTI, GOLF_2004, SCORM_SAMPLES } from './sample-fixtures.js';

/*
 * The third-party sample courses of ../shared/fixtures/ as packages: their manifests parse to
 * what their READMEs describe, each SCORM sample imports, extracts and launches, and the cmi5
 * samples (not SCORM) are refused with a clear code.
 */

const scormSamples = async () => (await readdir(SCORM_SAMPLES)).filter((f) => f.endsWith('.zip')).sort();
const cmi5Samples = async () => (await readdir(CMI5_SAMPLES)).filter((f) => f.endsWith('.zip')).sort();

function manifestOf(zip: string): Promise<string> {
  return readZipEntry(zip, 'imsmanifest.xml');
}

function sco(manifest: Manifest, identifier: string): ManifestItem {
  const found = manifest.scos.find((s) => s.identifier === identifier);
  if (!found) throw new Error(`no SCO ${identifier}`);
  return found;
}

function countItems(items: readonly ManifestItem[]): number {
  return items.reduce((n, item) => n + 1 + countItems(item.children), 0);
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await walk(join(dir, d.name), rel)));
    else out.push(rel);
  }
  return out;
}

describe('parseManifest on the Rustici golf packages', () => {
  let basic: Manifest;
  let minimum: Manifest;
  let advanced: Manifest;

  beforeAll(async () => {
    basic = parseManifest(await manifestOf(GOLF_12));
    minimum = parseManifest(await manifestOf(GOLF_12_MULTI));
    advanced = parseManifest(await manifestOf(GOLF_2004));
  });

  it('RuntimeBasicCalls_SCORM12: SCORM 1.2, one unscored SCO', () => {
    expect(basic.version).toBe('1.2');
    expect(basic.identifier).toBe('com.scorm.golfsamples.runtime.basicruntime.12');
    expect(basic.title).toBe('Golf Explained - Run-time Basic Calls');
    expect(basic.defaultOrganization).toBe('golf_sample_default_org');
    expect(basic.scos).toHaveLength(1);
    expect(basic.scos[0]).toMatchObject({
      identifier: 'item_1',
      title: 'Golf Explained',
      isVisible: true,
      resourceId: 'resource_1',
      scormType: 'sco',
      launchUrl: 'shared/launchpage.html',
    });
    expect(basic.scos[0]?.masteryScore).toBeUndefined();
    expect(basic.scored).toBe(false);
    expect(basic.referencedFiles).toContain('Etiquette/Course.html');
    expect(basic.referencedFiles).toContain('shared/launchpage.html');
    expect(new Set(basic.referencedFiles).size).toBe(basic.referencedFiles.length);
    expect(basic.referencedFiles).toHaveLength(39);
  });

  it('RuntimeMinimumCalls_SCORM12: 18 SCOs in a nested tree of 22 items, in document order', () => {
    expect(minimum.version).toBe('1.2');
    const org = minimum.organizations.find((o) => o.identifier === minimum.defaultOrganization);
    expect(org?.items.map((i) => i.title)).toEqual(['Playing the Game', 'Etiquette', 'Handicapping', 'Having Fun']);
    expect(countItems(org?.items ?? [])).toBe(22);
    expect(minimum.scos).toHaveLength(18);
    expect(minimum.scos.every((s) => s.scormType === 'sco' && s.children.length === 0)).toBe(true);
    expect(minimum.scos[0]).toMatchObject({ identifier: 'playing_playing_item', title: 'How to Play', launchUrl: 'Playing/Playing.html' });
    expect(minimum.scos[17]).toMatchObject({
      identifier: 'havingfun_quiz_item',
      title: 'Having Fun Quiz',
      parameters: '?questions=HavingFun',
      launchUrl: 'shared/assessmenttemplate.html?questions=HavingFun',
    });
    // Several quiz SCOs share one page and differ only by their parameters.
    expect(sco(minimum, 'etiquette_quiz_item').launchUrl).toBe('shared/assessmenttemplate.html?questions=Etiquette');
    // The shared asset resource is not an item but its files are still needed.
    expect(minimum.resources.find((r) => r.identifier === 'common_files')).toMatchObject({ scormType: 'asset', files: expect.any(Array) });
    expect(minimum.resources.find((r) => r.identifier === 'playing_par_resource')?.dependencies).toEqual(['common_files']);
    expect(minimum.referencedFiles).toContain('shared/scormfunctions.js');
    expect(minimum.scored).toBe(false);
  });

  it('RunTimeAdvancedCalls_SCORM20043rdEdition: 2004 3rd edition with a scaled passing score of 0.8', () => {
    expect(advanced.version).toBe('2004-3rd');
    expect(advanced.scos).toHaveLength(1);
    expect(advanced.scos[0]).toMatchObject({
      identifier: 'item_1',
      scormType: 'sco',
      launchUrl: 'shared/launchpage.html',
      scaledPassingScore: 0.8,
    });
    expect(advanced.scos[0]?.completionThreshold).toBeUndefined();
    expect(advanced.scored).toBe(true);
    // RTE 4.2.17: the LMS gives the SCO the objective ids the item declares.
    expect(advanced.scos[0]?.objectiveIds).toEqual(expect.arrayContaining(['obj_playing', 'obj_etiquette', 'obj_handicapping', 'obj_havingfun']));
  });
});

describe('extractPackage on the golf sample', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'courseport-samples-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('extracts it, lists its files and returns the manifest text', async () => {
    const dest = join(work, 'whole');
    await mkdir(dest);
    const result = await extractPackage(GOLF_12, dest);
    const onDisk = (await walk(dest)).sort();
    expect(result.files).toEqual(onDisk);
    expect(result.files).toContain('imsmanifest.xml');
    expect(result.files.length).toBeGreaterThan(20);
    expect(result.manifestXml).toBe(await readFile(join(dest, 'imsmanifest.xml'), 'utf8'));
    let bytes = 0;
    for (const f of onDisk) bytes += (await stat(join(dest, f))).size;
    expect(result.totalBytes).toBe(bytes);
  });

  it('refuses it truncated, writing nothing', async () => {
    const zip = join(work, 'truncated.zip');
    await copyFile(GOLF_12, zip);
    await truncate(zip, Math.floor((await stat(zip)).size / 2));
    const dest = join(work, 'truncated');
    await mkdir(dest);
    await expect(extractPackage(zip, dest)).rejects.toMatchObject({ code: 'PACKAGE_NOT_ZIP' });
    expect(await readdir(dest)).toEqual([]);
  });
});

describe.each(DIALECTS)('every sample package, imported and launched (%s)', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('imports each SCORM sample, opens the player on its SCOs and serves their launch files', async () => {
    const files = await scormSamples();
    expect(files).toHaveLength(5);
    for (const file of files) {
      const imported = await h.app.services.packages.importPackage(join(SCORM_SAMPLES, file));
      expect(imported.version.scorm_version, file).toMatch(/^(1\.2|2004-\w+)$/);
      expect(imported.version.sco_count, file).toBe(imported.manifest.scos.length);
      const res = await h.launch({
        claims: { [CLAIM.CUSTOM]: { package_id: imported.package.id }, [CLAIM.RESOURCE_LINK]: { id: `rl-${basename(file, '.zip')}` } },
      });
      expect(res.statusCode, `${file}: ${res.body.slice(0, 300)}`).toBe(200);
      const config = playerConfig(res);
      expect(
        config.scos.map((s) => s.id),
        file,
      ).toEqual(imported.manifest.scos.map((s) => s.identifier));
      for (const s of config.scos) {
        const launch = await h.app.inject({ method: 'GET', url: `${config.contentBase}${s.launchUrl}` });
        expect(launch.statusCode, `${file}: ${s.launchUrl}`).toBe(200);
        expect(launch.headers['content-type'], `${file}: ${s.launchUrl}`).toContain('text/html');
      }
    }
  });

  it('refuses each cmi5 sample as not a SCORM package, storing nothing', async () => {
    const before = (await h.app.services.packages.list()).length;
    const files = await cmi5Samples();
    expect(files).toHaveLength(2);
    for (const file of files) {
      let caught: unknown;
      try {
        await h.app.services.packages.importPackage(join(CMI5_SAMPLES, file));
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught) && caught.code, file).toBe('PACKAGE_NO_MANIFEST');
    }
    expect(await h.app.services.packages.list()).toHaveLength(before);
  });
});
