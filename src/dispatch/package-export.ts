import { jsonScript } from '../util/json-script.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import type { Dispatch } from '../store/tables.js';

/*
 * The dispatch package: a tiny SCORM package (1.2 by default, 2004 3rd edition as an option)
 * whose one SCO is a static launcher page. The launcher finds the LMS's SCORM API, reads the
 * learner, and frames Courseport's dispatch player; nothing in it is tied to one LMS. It
 * carries the dispatch id and its secret (revocable: see DispatchService.secretOf).
 */

/** The launcher script (static, no build step at the LMS), shipped inside every package. */
const LAUNCHER_JS = resolve(dirname(fileURLToPath(import.meta.url)), '../../public/dispatch-launcher.js');
export const LAUNCHER_FILE = 'courseport-dispatch.js';

export interface LauncherConfig {
  /** Version of this configuration's shape. */
  readonly v: 1;
  /** Courseport's origin: the only origin the launcher accepts messages from. */
  readonly origin: string;
  readonly launchUrl: string;
  readonly dispatch: string;
  readonly secret: string;
  readonly scormVersion: '1.2' | '2004';
  readonly hashLearnerIds: boolean;
  /** Salt of the learner-id hash (not secret: it only keeps hashes from matching across dispatches). */
  readonly salt: string;
  readonly title: string;
}

export function launcherConfig(d: Dispatch, baseUrl: string, secret: string): LauncherConfig {
  const origin = new URL(baseUrl).origin;
  return {
    v: 1,
    origin,
    launchUrl: `${origin}/dispatch/launch`,
    dispatch: d.id,
    secret,
    scormVersion: d.scorm_version,
    hashLearnerIds: d.hash_learner_ids === 1,
    salt: d.learner_salt,
    title: d.title,
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** JSON inside <script type="application/json">: nothing in it can close the element. */
export function manifestXml(c: LauncherConfig): string {
  const id = xml(`courseport-dispatch-${c.dispatch}`);
  const title = xml(c.title);
  const v12 = c.scormVersion === '1.2';
  const namespaces = v12
    ? `  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">`
    : `  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd">`;
  // SCORM 1.2 spells the attribute adlcp:scormtype, 2004 adlcp:scormType.
  const scormType = v12 ? 'adlcp:scormtype' : 'adlcp:scormType';
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="${id}" version="1"
${namespaces}
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>${v12 ? '1.2' : '2004 3rd Edition'}</schemaversion>
  </metadata>
  <organizations default="courseport_org">
    <organization identifier="courseport_org">
      <title>${title}</title>
      <item identifier="courseport_item" identifierref="courseport_launcher" isvisible="true">
        <title>${title}</title>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="courseport_launcher" type="webcontent" ${scormType}="sco" href="index.html">
      <file href="index.html"/>
      <file href="${LAUNCHER_FILE}"/>
    </resource>
  </resources>
</manifest>
`;
}

export function launcherHtml(c: LauncherConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${xml(c.title)}</title>
<style>html,body{height:100%;margin:0}#cp-player{display:block;border:0;width:100%;height:100%}#cp-message{font:15px/1.5 system-ui,sans-serif;padding:20px;color:#1d2430}</style>
</head>
<body>
<div id="cp-message" role="status" hidden></div>
<iframe id="cp-player" name="courseport-player" title="${xml(c.title)}" allow="fullscreen; autoplay"></iframe>
<script type="application/json" id="courseport-dispatch">${jsonScript(c)}</script>
<script src="${LAUNCHER_FILE}"></script>
</body>
</html>
`;
}

/** The package as a ZIP stream (yazl); the caller pipes it to a file or an HTTP reply. */
export function dispatchZip(c: LauncherConfig): NodeJS.ReadableStream {
  const zip = new yazl.ZipFile();
  const mtime = new Date();
  zip.addBuffer(Buffer.from(manifestXml(c), 'utf8'), 'imsmanifest.xml', { mtime });
  zip.addBuffer(Buffer.from(launcherHtml(c), 'utf8'), 'index.html', { mtime });
  zip.addBuffer(readFileSync(LAUNCHER_JS), LAUNCHER_FILE, { mtime });
  zip.end();
  return zip.outputStream;
}

/**
 * A file name for the download: the title, made safe, the dispatch id and the SCORM version (the
 * 1.2 and 2004 packages of one dispatch are different files, and a customer may need both).
 */
export function dispatchFileName(d: Pick<Dispatch, 'id' | 'title'>, scormVersion: Dispatch['scorm_version']): string {
  const slug = d.title
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '')
    .toLowerCase();
  return `${slug || 'course'}-${d.id}-scorm${scormVersion === '1.2' ? '12' : '2004'}.zip`;
}
