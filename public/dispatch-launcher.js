// @ts-check
/* Courseport dispatch launcher: the one SCO of a dispatch package, run by the LMS.
 *
 * 1. Finds the LMS's SCORM API (SCORM 1.2 `API` or 2004 `API_1484_11`) by the standard
 *    search of the parent windows and then the opener's, and initialises it.
 * 2. Reads the learner id and name (the id optionally hashed here, in the browser, with
 *    SHA-256 and the dispatch's salt; then no name is sent either).
 * 3. Opens Courseport's dispatch player in the frame by a form POST carrying the dispatch id,
 *    its secret, the learner and a fresh nonce.
 * 4. Relays what the player reports (status, score, session time, bookmark) into the LMS's
 *    API: it accepts messages only from Courseport's origin and the player frame's window,
 *    and gives the nonce only to Courseport's origin. On leaving, it finishes the LMS session.
 * Static, no build step, no dependency: it must run in any LMS.
 */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('courseport-dispatch').textContent);
  var frame = /** @type {HTMLIFrameElement} */ (document.getElementById('cp-player'));
  var box = document.getElementById('cp-message');
  var startedAt = Date.now();
  var lms = null; // { version: '1.2' | '2004', api: object }
  var finished = false;
  var last = null; // the last status relayed by the player
  var nonce = randomHex(16);

  function show(text) {
    box.textContent = text;
    box.hidden = false;
    frame.hidden = true;
  }

  function randomHex(bytes) {
    var a = new Uint8Array(bytes);
    window.crypto.getRandomValues(a);
    var s = '';
    for (var i = 0; i < a.length; i++) s += (a[i] < 16 ? '0' : '') + a[i].toString(16);
    return s;
  }

  /* The ADL API discovery algorithm: up to 7 parents of `win`, then the same from the opener.
   * A cross-origin window throws on access: it cannot hold the API, the search goes on. */
  function scan(win, name) {
    for (var n = 0; win && n <= 7; n++) {
      try {
        if (win[name]) return win[name];
      } catch (_e) {
        /* cross-origin */
      }
      var up;
      try {
        up = win.parent;
      } catch (_e2) {
        up = null;
      }
      if (!up || up === win) break;
      win = up;
    }
    return null;
  }
  function findApi(name) {
    var api = scan(window, name);
    if (!api) {
      try {
        if (window.opener) api = scan(window.opener, name);
      } catch (_e) {
        api = null;
      }
    }
    return api;
  }

  var EL = {
    1.2: { id: 'cmi.core.student_id', name: 'cmi.core.student_name', location: 'cmi.core.lesson_location' },
    2004: { id: 'cmi.learner_id', name: 'cmi.learner_name', location: 'cmi.location' },
  };

  function call(fn12, fn2004, a, b) {
    var f = lms.api[lms.version === '1.2' ? fn12 : fn2004];
    return f.call(lms.api, a === undefined ? '' : a, b);
  }
  function getValue(el) {
    var v = call('LMSGetValue', 'GetValue', el);
    return v === null || v === undefined ? '' : String(v);
  }
  function setValue(el, v) {
    return String(call('LMSSetValue', 'SetValue', el, String(v))) === 'true';
  }
  function commit() {
    return call('LMSCommit', 'Commit', '');
  }

  function pad(n, w) {
    var s = String(n);
    while (s.length < w) s = '0' + s;
    return s;
  }
  /* SCORM 1.2 CMITimespan HHHH:MM:SS.SS and SCORM 2004 ISO 8601 duration. */
  function timespan12(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000),
      m = Math.floor((cs % 360000) / 6000),
      s = Math.floor((cs % 6000) / 100),
      c = cs % 100;
    return pad(Math.min(h, 9999), 2) + ':' + pad(m, 2) + ':' + pad(s, 2) + '.' + pad(c, 2);
  }
  function duration2004(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000),
      m = Math.floor((cs % 360000) / 6000),
      s = (cs % 6000) / 100;
    return 'PT' + h + 'H' + m + 'M' + s + 'S';
  }
  function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  function round2(v) {
    return Math.round(v * 100) / 100;
  }

  function sessionMs() {
    var relayed = last ? num(last.sessionTimeMs) : null;
    return relayed && relayed > 0 ? relayed : Date.now() - startedAt;
  }

  /* What the LMS must record, from the player's status message. */
  function record(m) {
    var completed = m.completion === 'completed';
    var success = m.success === 'passed' || m.success === 'failed' ? m.success : 'unknown';
    var raw = num(m.scoreRaw),
      min = num(m.scoreMin),
      max = num(m.scoreMax),
      scaled = num(m.scoreScaled);
    var bookmark = typeof m.bookmark === 'string' ? m.bookmark : '';
    if (lms.version === '1.2') {
      setValue('cmi.core.lesson_status', success !== 'unknown' ? success : completed ? 'completed' : 'incomplete');
      if (raw === null && scaled !== null) {
        raw = round2(scaled * 100);
        min = 0;
        max = 100;
      }
      if (raw !== null) {
        setValue('cmi.core.score.raw', round2(raw));
        if (min !== null) setValue('cmi.core.score.min', round2(min));
        if (max !== null) setValue('cmi.core.score.max', round2(max));
      }
      if (bookmark) setValue('cmi.core.lesson_location', bookmark.slice(0, 255));
      setValue('cmi.core.exit', completed ? '' : 'suspend');
      setValue('cmi.core.session_time', timespan12(sessionMs()));
    } else {
      setValue('cmi.completion_status', completed ? 'completed' : 'incomplete');
      setValue('cmi.success_status', success);
      if (scaled !== null) setValue('cmi.score.scaled', Math.max(-1, Math.min(1, scaled)));
      if (raw !== null) setValue('cmi.score.raw', raw);
      if (min !== null) setValue('cmi.score.min', min);
      if (max !== null) setValue('cmi.score.max', max);
      if (bookmark) setValue('cmi.location', bookmark.slice(0, 1000));
      setValue('cmi.exit', completed ? 'normal' : 'suspend');
      setValue('cmi.session_time', duration2004(sessionMs()));
    }
    commit();
  }

  function finish() {
    if (!lms || finished) return;
    finished = true;
    try {
      if (last) record(last);
      else
        setValue(
          lms.version === '1.2' ? 'cmi.core.session_time' : 'cmi.session_time',
          lms.version === '1.2' ? timespan12(sessionMs()) : duration2004(sessionMs()),
        );
      call('LMSFinish', 'Terminate', '');
    } catch (_e) {
      /* the LMS window may be going away */
    }
  }

  window.addEventListener('message', function (ev) {
    // Only Courseport's player, in our own frame, may talk to the launcher.
    if (ev.origin !== cfg.origin || ev.source !== frame.contentWindow) return;
    var m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'courseport.dispatch.hello') {
      // The nonce goes to Courseport's origin only: postMessage drops it for any other document.
      frame.contentWindow.postMessage({ type: 'courseport.dispatch.ready', nonce: nonce }, cfg.origin);
      document.documentElement.setAttribute('data-relay', 'ready-sent');
    } else if (m.type === 'courseport.dispatch.status' && m.nonce === nonce && lms && !finished) {
      last = m;
      try {
        record(m);
      } catch (_e) {
        /* an LMS refusing one element must not stop the others */
      }
    }
  });
  window.addEventListener('pagehide', finish);
  window.addEventListener('beforeunload', finish);

  function hashLearner(id) {
    if (!cfg.hashLearnerIds) return Promise.resolve({ id: id, hashed: false });
    var subtle = window.crypto && window.crypto.subtle;
    // SubtleCrypto exists only in secure contexts (https, or localhost): never send the raw id instead.
    if (!subtle || window.isSecureContext === false) return Promise.reject(new Error('insecure-context'));
    return subtle.digest('SHA-256', new TextEncoder().encode(cfg.salt + ':' + id)).then(function (buf) {
      var a = new Uint8Array(buf),
        s = '';
      for (var i = 0; i < a.length; i++) s += (a[i] < 16 ? '0' : '') + a[i].toString(16);
      return { id: s, hashed: true };
    });
  }

  function launch(learner, name, bookmark) {
    var form = document.createElement('form');
    form.method = 'POST';
    form.action = cfg.launchUrl;
    form.target = frame.name;
    form.style.display = 'none';
    var fields = {
      dispatch: cfg.dispatch,
      secret: cfg.secret,
      learner_id: learner.id,
      learner_name: learner.hashed ? '' : name,
      hashed: learner.hashed ? '1' : '0',
      nonce: nonce,
      bookmark: bookmark,
      lms_scorm: lms.version,
    };
    for (var k in fields) {
      if (!Object.hasOwn(fields, k)) continue;
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = fields[k];
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  }

  function start() {
    var order = cfg.scormVersion === '2004' ? ['2004', '1.2'] : ['1.2', '2004'];
    for (var i = 0; i < order.length && !lms; i++) {
      var api = findApi(order[i] === '1.2' ? 'API' : 'API_1484_11');
      if (api) lms = { version: order[i], api: api };
    }
    if (!lms) return show('This course must be opened from a learning management system (no SCORM runtime was found).');
    if (String(call('LMSInitialize', 'Initialize', '')) !== 'true')
      return show('The learning management system refused to start this course (SCORM initialisation failed).');
    var id = getValue(EL[lms.version].id);
    var name = getValue(EL[lms.version].name);
    var location = getValue(EL[lms.version].location);
    if (!id) return show('The learning management system did not say who the learner is, so this course cannot be opened.');
    hashLearner(id).then(
      function (learner) {
        launch(learner, name, location);
      },
      function () {
        show(
          'This course protects your identity by hashing it in the browser, which needs a secure (https) page. Ask your LMS administrator to serve the LMS over https.',
        );
      },
    );
  }

  start();
})();
