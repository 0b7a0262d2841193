import { join } from 'node:path';
import { buildZip, tempDir } from './zip-builder.js';

/**
 * A one-SCO SCORM 1.2 course written for tests: its page finds the LMS runtime the way real
 * courses do (walking up the parent windows to `API`), initialises it, and offers buttons that
 * set a status without committing (as many courses do until they finish), commit progress or a
 * passing score, or finish the session — so a test drives the player
 * exactly as a learner clicking through a course would.
 */
export const BUTTON_SCO_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Button course</title></head>
<body>
<h1 id="sco-title">Button course</h1>
<p id="sco-state">starting</p>
<button id="sco-status-only" type="button">Start (no commit)</button>
<button id="sco-progress" type="button">Save progress (40)</button>
<button id="sco-pass" type="button">Pass (85)</button>
<button id="sco-exit" type="button">Exit</button>
<script>
  function findApi(w) { for (var i = 0; w && i < 10; i++) { if (w.API) return w.API; if (w.parent === w) break; w = w.parent; } return null; }
  var api = findApi(window.parent);
  var state = document.getElementById('sco-state');
  state.textContent = api && api.LMSInitialize('') === 'true' ? 'initialized' : 'no API';
  function set(k, v) { api.LMSSetValue(k, v); }
  document.getElementById('sco-status-only').onclick = function () {
    set('cmi.core.lesson_status', 'incomplete');
    state.textContent = 'set without commit';
  };
  document.getElementById('sco-progress').onclick = function () {
    set('cmi.core.lesson_status', 'incomplete'); set('cmi.core.score.raw', '40'); set('cmi.core.score.max', '100'); set('cmi.core.score.min', '0');
    state.textContent = 'committed: ' + api.LMSCommit('');
  };
  document.getElementById('sco-pass').onclick = function () {
    set('cmi.core.lesson_status', 'passed'); set('cmi.core.score.raw', '85'); set('cmi.core.score.max', '100'); set('cmi.core.score.min', '0');
    state.textContent = 'committed: ' + api.LMSCommit('');
  };
  document.getElementById('sco-exit').onclick = function () {
    set('cmi.core.exit', '');
    state.textContent = 'finished: ' + api.LMSFinish('');
  };
</script>
</body></html>
`;

/** The manifest; with a mastery score the course is scored (a deep-linked link gets a grade column). */
export function buttonCourseManifest(title: string, options: { masteryScore?: number } = {}): string {
  const esc = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const mastery = options.masteryScore === undefined ? '' : `<adlcp:masteryscore>${options.masteryScore}</adlcp:masteryscore>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="button-course" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org1"><organization identifier="org1"><title>${esc}</title>
    <item identifier="item_1" identifierref="r1"><title>${esc}</title>${mastery}</item>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource>
  </resources>
</manifest>`;
}

/** Writes the course as `<fileName>` in a fresh temporary directory and returns its path. */
export async function buildButtonCourse(options: { title?: string; fileName?: string; manifest?: string; masteryScore?: number } = {}): Promise<string> {
  const dir = await tempDir('courseport-button-course-');
  return buildZip(join(dir, options.fileName ?? 'button-course.zip'), [
    {
      name: 'imsmanifest.xml',
      data:
        options.manifest ??
        buttonCourseManifest(options.title ?? 'Button course', options.masteryScore === undefined ? {} : { masteryScore: options.masteryScore }),
    },
    { name: 'index.html', data: BUTTON_SCO_HTML },
  ]);
}
