import { beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type ErrorCode } from '../../src/errors/app-error.js';
import { parseManifest, SYNTHESIZED_ORGANIZATION_ID } from '../../src/scorm/manifest/parse.js';
import { appendParameters } from '../../src/scorm/manifest/resolve.js';
import type { Manifest, ManifestItem } from '../../src/scorm/manifest/types.js';
import { courseFiles } from '../helpers/courses.js';
import { COURSE_12, COURSE_12_MULTI, COURSE_2004 } from '../helpers/fixtures.js';
import { readZipEntry } from '../helpers/zip-reader.js';

function manifestOf(zip: string): Promise<string> {
  return readZipEntry(zip, 'imsmanifest.xml');
}

/** Runs `fn` and returns the AppError it throws (failing the test when it throws nothing else). */
function errorOf(fn: () => unknown): { code: ErrorCode; details: Readonly<Record<string, unknown>> } {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return { code: err.code, details: err.details ?? {} };
    throw err;
  }
  throw new Error('expected an AppError');
}

function countItems(items: readonly ManifestItem[]): number {
  return items.reduce((n, item) => n + 1 + countItems(item.children), 0);
}

// --- inline manifest builders --------------------------------------------------------------

const NS_12 = `xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"`;
const NS_2004 = [
  'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"',
  'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"',
  'xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"',
  'xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"',
  'xmlns:imsss="http://www.imsglobal.org/xsd/imsss"',
].join(' ');

interface Parts {
  readonly ns?: string;
  readonly schemaversion?: string | null;
  readonly manifestAttrs?: string;
  readonly organizations?: string;
  readonly resourcesAttrs?: string;
  readonly resources?: string;
  readonly extra?: string;
}

function manifestXml(parts: Parts = {}): string {
  const schemaversion = parts.schemaversion === undefined ? '1.2' : parts.schemaversion;
  const metadata = schemaversion === null ? '' : `<metadata><schema>ADL SCORM</schema><schemaversion>${schemaversion}</schemaversion></metadata>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m1" version="1" ${parts.ns ?? NS_12} ${parts.manifestAttrs ?? ''}>
  ${metadata}
  ${
    parts.organizations ??
    `<organizations default="org1"><organization identifier="org1"><title>Course</title>
      <item identifier="i1" identifierref="r1"><title>One</title></item>
    </organization></organizations>`
  }
  <resources ${parts.resourcesAttrs ?? ''}>
    ${parts.resources ?? '<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource>'}
  </resources>
  ${parts.extra ?? ''}
</manifest>`;
}

function sco(manifest: Manifest, identifier: string): ManifestItem {
  const found = manifest.scos.find((s) => s.identifier === identifier);
  if (!found) throw new Error(`no SCO ${identifier}`);
  return found;
}

// --- the project's three test courses (test/fixtures/courses/) ------------------------------

describe('parseManifest on the project test courses', () => {
  let single: Manifest;
  let multi: Manifest;
  let advanced: Manifest;

  beforeAll(async () => {
    single = parseManifest(await manifestOf(COURSE_12));
    multi = parseManifest(await manifestOf(COURSE_12_MULTI));
    advanced = parseManifest(await manifestOf(COURSE_2004));
  });

  it('Bicycle Care, SCORM 1.2: one unscored SCO that lists every file of the package', () => {
    expect(single.version).toBe('1.2');
    expect(single.identifier).toBe('org.courseport.test.bike-care.scorm12');
    expect(single.title).toBe('Bicycle Care (SCORM 1.2)');
    expect(single.defaultOrganization).toBe('bike_care_org');
    expect(single.scos).toHaveLength(1);
    expect(single.scos[0]).toMatchObject({
      identifier: 'item_1',
      title: 'Bicycle Care',
      isVisible: true,
      resourceId: 'resource_1',
      scormType: 'sco',
      launchUrl: 'launch.html',
    });
    expect(single.scos[0]?.masteryScore).toBeUndefined();
    expect(single.scored).toBe(false);
    expect(single.referencedFiles).toContain('pages/tools.html');
    expect(single.referencedFiles).toContain('launch.html');
    expect(new Set(single.referencedFiles).size).toBe(single.referencedFiles.length);
    const packaged = courseFiles('bike-care-12')
      .map((f) => f.name)
      .filter((n) => n !== 'imsmanifest.xml');
    expect([...single.referencedFiles].sort()).toEqual(packaged);
    expect(single.referencedFiles).toHaveLength(20);
  });

  it('Bicycle Workshop, SCORM 1.2: 9 SCOs in a nested tree of 12 items, in document order', () => {
    expect(multi.version).toBe('1.2');
    const org = multi.organizations.find((o) => o.identifier === multi.defaultOrganization);
    expect(org?.items.map((i) => i.title)).toEqual(['Before You Ride', 'On the Road', 'After the Ride']);
    expect(countItems(org?.items ?? [])).toBe(12);
    expect(multi.scos).toHaveLength(9);
    expect(multi.scos.every((s) => s.scormType === 'sco' && s.children.length === 0)).toBe(true);
    expect(multi.scos[0]).toMatchObject({ identifier: 'before_check_item', title: 'The Safety Check', launchUrl: 'sco/before-check.html' });
    expect(multi.scos[8]).toMatchObject({
      identifier: 'after_quiz_item',
      title: 'After the Ride Quiz',
      parameters: '?chapter=after',
      launchUrl: 'sco/quiz.html?chapter=after',
    });
    // Several quiz SCOs share one page and differ only by their parameters.
    expect(sco(multi, 'road_quiz_item').launchUrl).toBe('sco/quiz.html?chapter=road');
    // The shared asset resource is not an item but its files are still needed.
    expect(multi.resources.find((r) => r.identifier === 'common_files')).toMatchObject({ scormType: 'asset', files: expect.any(Array) });
    expect(multi.resources.find((r) => r.identifier === 'before_fit_resource')?.dependencies).toEqual(['common_files']);
    expect(multi.referencedFiles).toContain('common/scorm-api.js');
    expect(multi.scored).toBe(false);
  });

  it('Bicycle Care, SCORM 2004 3rd edition: a scaled passing score of 0.8 and declared objectives', () => {
    expect(advanced.version).toBe('2004-3rd');
    expect(advanced.scos).toHaveLength(1);
    expect(advanced.scos[0]).toMatchObject({
      identifier: 'item_1',
      scormType: 'sco',
      launchUrl: 'launch.html',
      scaledPassingScore: 0.8,
    });
    expect(advanced.scos[0]?.completionThreshold).toBeUndefined();
    expect(advanced.scored).toBe(true);
    // RTE 4.2.17: the LMS gives the SCO the objective ids the item declares.
    expect(advanced.scos[0]?.objectiveIds).toEqual(['PRIMARYOBJ', 'obj_equipment', 'obj_wheels', 'obj_drivetrain']);
  });
});

// --- hostile and broken input --------------------------------------------------------------

describe('parseManifest refuses hostile or malformed XML', () => {
  it('refuses a DOCTYPE with entities (billion laughs) before parsing', () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<manifest identifier="x"><organizations><organization identifier="o"><title>&lol9;</title></organization></organizations></manifest>`;
    const error = errorOf(() => parseManifest(laughs));
    expect(error.code).toBe('PACKAGE_INVALID_MANIFEST');
    expect(String(error.details.reason)).toMatch(/DOCTYPE/);
  });

  it('refuses an external entity declaration behind a lower-case doctype', () => {
    const xxe = manifestXml().replace(
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<?xml version="1.0"?><!doctype manifest [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    );
    expect(errorOf(() => parseManifest(xxe)).code).toBe('PACKAGE_INVALID_MANIFEST');
  });

  it('refuses malformed XML with a reason and a position', () => {
    const broken = manifestXml().replace('</organizations>', '');
    const error = errorOf(() => parseManifest(broken));
    expect(error.code).toBe('PACKAGE_INVALID_MANIFEST');
    expect(error.details.reason).toEqual(expect.any(String));
    expect(error.details.line).toEqual(expect.any(Number));
    expect(errorOf(() => parseManifest('')).code).toBe('PACKAGE_INVALID_MANIFEST');
    expect(errorOf(() => parseManifest('not xml at all')).code).toBe('PACKAGE_INVALID_MANIFEST');
  });

  it('refuses a document whose root is not a manifest', () => {
    expect(errorOf(() => parseManifest('<package identifier="x"/>')).code).toBe('PACKAGE_INVALID_MANIFEST');
  });

  it('decodes only predefined entities and character references, without expansion', () => {
    const xml = manifestXml({
      organizations: `<organizations default="org1"><organization identifier="org1"><title>Q&amp;A &#233;t&#xE9;</title>
        <item identifier="i1" identifierref="r1" parameters="a=1&amp;b=2"><title><![CDATA[Tom & <Jerry>]]></title></item>
      </organization></organizations>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.title).toBe('Q&A été');
    expect(manifest.scos[0]?.title).toBe('Tom & <Jerry>');
    expect(manifest.scos[0]?.launchUrl).toBe('index.html?a=1&b=2');
  });

  it("refuses '../' escaping the package root, also when percent-encoded or via xml:base", () => {
    const escaping = (href: string) => manifestXml({ resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="${href}"/>` });
    for (const href of ['../outside.html', 'a/../../outside.html', '%2e%2e/outside.html', '..\\outside.html']) {
      const error = errorOf(() => parseManifest(escaping(href)));
      expect(error.code, href).toBe('PACKAGE_INVALID_MANIFEST');
      expect(error.details.href, href).toBe(href);
    }
    const viaBase = manifestXml({ resourcesAttrs: 'xml:base="../"' });
    expect(errorOf(() => parseManifest(viaBase)).code).toBe('PACKAGE_INVALID_MANIFEST');
    const viaFile = manifestXml({
      resources: '<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="../../etc/passwd"/></resource>',
    });
    expect(errorOf(() => parseManifest(viaFile)).details.href).toBe('../../etc/passwd');
  });

  it('refuses absolute paths and non-http schemes, allows http(s) URLs but leaves them out of referencedFiles', () => {
    for (const href of ['/etc/passwd', '\\\\server\\share\\x.html', '//evil.example/x.html', 'file:///etc/passwd', 'javascript:alert(1)', 'C:/course/x.html']) {
      const xml = manifestXml({ resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="${href}"/>` });
      expect(errorOf(() => parseManifest(xml)).code, href).toBe('PACKAGE_INVALID_MANIFEST');
    }
    const remote = parseManifest(
      manifestXml({
        resources:
          '<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="https://cdn.example/course/index.html"><file href="local.js"/><file href="http://cdn.example/x.js"/></resource>',
      }),
    );
    expect(remote.scos[0]?.launchUrl).toBe('https://cdn.example/course/index.html');
    expect(remote.referencedFiles).toEqual(['local.js']);
  });

  it('names the identifierref of an item that references a missing resource', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="nope"/></organization></organizations>`,
    });
    const error = errorOf(() => parseManifest(xml));
    expect(error.code).toBe('PACKAGE_INVALID_MANIFEST');
    expect(error.details.identifierref).toBe('nope');
  });
});

// --- version detection ---------------------------------------------------------------------

describe('parseManifest version detection', () => {
  it("reads 2004 editions from schemaversion ('CAM 1.3' is 2nd edition)", () => {
    const v = (schemaversion: string) =>
      parseManifest(
        manifestXml({ ns: NS_2004, schemaversion, resources: '<resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html"/>' }),
      ).version;
    expect(v('CAM 1.3')).toBe('2004-2nd');
    expect(v('2004 2nd Edition')).toBe('2004-2nd');
    expect(v('2004 3rd Edition')).toBe('2004-3rd');
    expect(v(' 2004   4th edition ')).toBe('2004-4th');
  });

  it('falls back on namespaces when metadata is missing', () => {
    expect(parseManifest(manifestXml({ schemaversion: null })).version).toBe('1.2');
    const r2004 = '<resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html"/>';
    expect(parseManifest(manifestXml({ ns: NS_2004, schemaversion: null, resources: r2004 })).version).toBe('2004-3rd');
    const fourth = manifestXml({
      ns: NS_2004,
      schemaversion: null,
      resources: r2004,
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="r1">
        <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.5"/></item></organization></organizations>`,
    });
    expect(parseManifest(fourth).version).toBe('2004-4th');
  });

  it('resolves namespace prefixes rather than trusting their spelling', () => {
    const xml = manifestXml({
      ns: 'xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:scorm="http://www.adlnet.org/xsd/adlcp_rootv1p2"',
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="r1"><scorm:masteryscore>75</scorm:masteryscore></item></organization></organizations>`,
      resources: '<resource identifier="r1" type="webcontent" scorm:scormtype="sco" href="index.html"/>',
    });
    const manifest = parseManifest(xml);
    expect(manifest.scos[0]).toMatchObject({ scormType: 'sco', masteryScore: 75 });
  });

  it('refuses an unknown version as unsupported', () => {
    const xml = manifestXml({
      ns: 'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"',
      schemaversion: '1.1',
      resources: '<resource identifier="r1" type="webcontent" href="index.html"/>',
    });
    const error = errorOf(() => parseManifest(xml));
    expect(error.code).toBe('PACKAGE_UNSUPPORTED');
    expect(error.details.schemaversion).toBe('1.1');
    const noMetadata = manifestXml({
      ns: 'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"',
      schemaversion: null,
      resources: '<resource identifier="r1" type="webcontent" href="index.html"/>',
    });
    expect(errorOf(() => parseManifest(noMetadata)).code).toBe('PACKAGE_UNSUPPORTED');
  });
});

// --- organizations and items ---------------------------------------------------------------

describe('parseManifest organizations and items', () => {
  it('synthesises an organization when there is none and exactly one SCO resource', () => {
    const xml = manifestXml({
      organizations: '<organizations/>',
      resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html"/>
        <resource identifier="lib" type="webcontent" adlcp:scormtype="asset"><file href="lib.js"/></resource>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.defaultOrganization).toBe(SYNTHESIZED_ORGANIZATION_ID);
    expect(manifest.organizations.map((o) => o.identifier)).toEqual([SYNTHESIZED_ORGANIZATION_ID]);
    expect(manifest.scos).toEqual([expect.objectContaining({ identifier: 'r1', resourceId: 'r1', launchUrl: 'index.html', scormType: 'sco' })]);
    expect(manifest.title).toBe('m1');
  });

  it('refuses a manifest without organizations and with several SCO resources', () => {
    const xml = manifestXml({
      organizations: '',
      resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="a.html"/>
        <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="b.html"/>`,
    });
    expect(errorOf(() => parseManifest(xml)).code).toBe('PACKAGE_INVALID_MANIFEST');
  });

  it('uses the first organization when `default` names a missing one', () => {
    const xml = manifestXml({
      organizations: `<organizations default="ghost">
        <organization identifier="first"><title>First</title><item identifier="a" identifierref="r1"><title>A</title></item></organization>
        <organization identifier="second"><title>Second</title><item identifier="b" identifierref="r1"><title>B</title></item></organization>
      </organizations>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.defaultOrganization).toBe('first');
    expect(manifest.title).toBe('First');
    expect(manifest.scos.map((s) => s.identifier)).toEqual(['a']);
    expect(manifest.organizations).toHaveLength(2);
  });

  it('uses the organization `default` names, and falls back to identifiers for missing titles', () => {
    const xml = manifestXml({
      organizations: `<organizations default="second">
        <organization identifier="first"><item identifier="a" identifierref="r1"/></organization>
        <organization identifier="second"><item identifier="b" identifierref="r1"/></organization>
      </organizations>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.defaultOrganization).toBe('second');
    expect(manifest.organizations[1]?.title).toBe('second');
    expect(manifest.scos[0]?.title).toBe('b');
    expect(manifest.title).toBe('m1');
  });

  it('keeps invisible items, marked isVisible false', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1">
        <item identifier="shown" identifierref="r1"/><item identifier="hidden" identifierref="r1" isvisible="false"/>
      </organization></organizations>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.scos.map((s) => [s.identifier, s.isVisible])).toEqual([
      ['shown', true],
      ['hidden', false],
    ]);
  });

  it('resolves xml:base at manifest, resources and resource level', () => {
    const xml = manifestXml({
      manifestAttrs: 'xml:base="course/"',
      resourcesAttrs: 'xml:base="content/"',
      resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" xml:base="unit1/" href="./pages/start%20here.html?x=1#top">
          <file href="pages/start%20here.html"/><file href="../outside/lib.js"/>
        </resource>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.resources[0]?.base).toBe('course/content/unit1/');
    expect(manifest.resources[0]?.href).toBe('./pages/start%20here.html?x=1#top');
    expect(manifest.scos[0]?.launchUrl).toBe('course/content/unit1/pages/start%20here.html?x=1#top');
    expect(manifest.referencedFiles).toEqual(['course/content/unit1/pages/start here.html', 'course/content/outside/lib.js']);
  });

  it('appends item parameters per the IMS CP rules', () => {
    const withParams = (href: string, parameters: string) =>
      parseManifest(
        manifestXml({
          organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="r1" parameters="${parameters}"/></organization></organizations>`,
          resources: `<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="${href}"/>`,
        }),
      ).scos[0]?.launchUrl;
    expect(withParams('x.html?b=2', '?a=1')).toBe('x.html?b=2&a=1');
    expect(withParams('x.html', '?a=1')).toBe('x.html?a=1');
    expect(withParams('x.html', '&amp;a=1')).toBe('x.html?a=1');
    expect(withParams('x.html', '#frag')).toBe('x.html#frag');
    expect(withParams('x.html#top', '#frag')).toBe('x.html#top');
    expect(withParams('x.html#top', 'a=1')).toBe('x.html?a=1#top');
    expect(appendParameters('x.html?', 'a=1')).toBe('x.html?a=1');
    expect(appendParameters('x.html', '  ')).toBe('x.html');
  });

  it('reads SCORM 1.2 masteryscore, datafromlms, maxtimeallowed and timelimitaction', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="r1">
        <title>Quiz</title>
        <adlcp:masteryscore>80</adlcp:masteryscore>
        <adlcp:datafromlms>level=2</adlcp:datafromlms>
        <adlcp:maxtimeallowed>00:30:00</adlcp:maxtimeallowed>
        <adlcp:timelimitaction>exit,message</adlcp:timelimitaction>
      </item><item identifier="i2" identifierref="r1"><adlcp:masteryscore></adlcp:masteryscore></item></organization></organizations>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.scos[0]).toMatchObject({ masteryScore: 80, dataFromLMS: 'level=2', maxTimeAllowed: '00:30:00', timeLimitAction: 'exit,message' });
    expect(manifest.scos[1]?.masteryScore).toBeUndefined();
    expect(manifest.scored).toBe(true);
  });

  it('reads 2004 4th edition completionThreshold attributes, limits and the passing score default', () => {
    const xml = manifestXml({
      ns: NS_2004,
      schemaversion: '2004 4th Edition',
      organizations: `<organizations><organization identifier="org1">
        <item identifier="i1" identifierref="r1">
          <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75" progressWeight="0.5"/>
          <adlcp:dataFromLMS>mode=x</adlcp:dataFromLMS>
          <adlcp:timeLimitAction>continue,no message</adlcp:timeLimitAction>
          <imsss:sequencing>
            <imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>
            <imsss:objectives><imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true"/></imsss:objectives>
          </imsss:sequencing>
        </item>
        <item identifier="i2" identifierref="r1">
          <adlcp:completionThreshold/>
          <imsss:sequencing><imsss:objectives><imsss:primaryObjective satisfiedByMeasure="false">
            <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives></imsss:sequencing>
        </item>
      </organization></organizations>`,
      resources: '<resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html"/>',
    });
    const manifest = parseManifest(xml);
    expect(manifest.version).toBe('2004-4th');
    expect(manifest.scos[0]).toMatchObject({
      completionThreshold: { minProgressMeasure: 0.75, completedByMeasure: true, progressWeight: 0.5 },
      dataFromLMS: 'mode=x',
      timeLimitAction: 'continue,no message',
      maxTimeAllowed: 'PT1H',
      scaledPassingScore: 1,
    });
    expect(manifest.scos[1]?.completionThreshold).toEqual({ minProgressMeasure: 1, completedByMeasure: false });
    expect(manifest.scos[1]?.scaledPassingScore).toBeUndefined();
  });

  it('reads a 2004 3rd edition completionThreshold decimal and sequencing from a sequencingCollection', () => {
    const xml = manifestXml({
      ns: NS_2004,
      schemaversion: '2004 3rd Edition',
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="r1">
        <adlcp:completionThreshold>0.9</adlcp:completionThreshold>
        <imsss:sequencing IDRef="shared"/>
      </item></organization></organizations>`,
      resources: '<resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html"/>',
      extra: `<imsss:sequencingCollection><imsss:sequencing ID="shared"><imsss:objectives>
        <imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure></imsss:primaryObjective>
      </imsss:objectives></imsss:sequencing></imsss:sequencingCollection>`,
    });
    const manifest = parseManifest(xml);
    expect(manifest.scos[0]).toMatchObject({ completionThreshold: { minProgressMeasure: 0.9, completedByMeasure: true }, scaledPassingScore: 0.7 });
  });

  it('accepts an asset-only package, with asset items launchable', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1"><item identifier="doc" identifierref="r1"><title>Read me</title></item></organization></organizations>`,
      resources: '<resource identifier="r1" type="webcontent" adlcp:scormtype="asset" href="doc.pdf"/>',
    });
    const manifest = parseManifest(xml);
    expect(manifest.scos).toEqual([expect.objectContaining({ identifier: 'doc', scormType: 'asset', launchUrl: 'doc.pdf' })]);
    expect(manifest.scored).toBe(false);
  });

  it('refuses a package with nothing launchable as unsupported', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1"><item identifier="folder"><title>Empty</title></item></organization></organizations>`,
      resources: '<resource identifier="r1" type="webcontent" adlcp:scormtype="asset"><file href="a.js"/></resource>',
    });
    expect(errorOf(() => parseManifest(xml)).code).toBe('PACKAGE_UNSUPPORTED');
  });

  it('refuses an item pointing at a nested sub-manifest as unsupported', () => {
    const xml = manifestXml({
      organizations: `<organizations><organization identifier="org1"><item identifier="i1" identifierref="sub"/></organization></organizations>`,
      extra: '<manifest identifier="sub"><organizations/><resources/></manifest>',
    });
    expect(errorOf(() => parseManifest(xml)).code).toBe('PACKAGE_UNSUPPORTED');
  });
});
