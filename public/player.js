// @ts-check
/* Courseport SCORM player: one scorm-again runtime per SCO session, committed to
 * /play/<token>/sco/<id>/commit; no cookies (the token is in every URL). */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('player-config').textContent);
  var frame = /** @type {HTMLIFrameElement} */ (document.getElementById('sco-frame'));
  /** scorm-again's globals, and the SCORM API objects a SCO looks for. */
  var win = /** @type {any} */ (window);
  var current = null; // { id, api, terminated }
  var switching = false;
  var lastSco = cfg.start;
  var relay = cfg.relay ? startRelay(cfg.relay) : null;

  /* Content dispatch (docs/dispatch.md): the player runs inside the launcher of a dispatch
   * package, in the LMS's window. It says hello to its parent; the launcher answers with the
   * nonce it put in the launch form, sent to Courseport's origin only. The player accepts that
   * answer only from its parent window, with the right nonce and (when the browser sent one)
   * from the origin that posted the launch form; from then on it posts the learner's status to
   * that origin only — never to '*'. */
  function startRelay(r) {
    var target = null;
    var pending = null;
    // The relay's state, for support and tests: waiting → connected (or refused).
    var root = document.documentElement;
    root.setAttribute('data-relay', 'waiting');
    function send(msg) {
      if (!target) {
        pending = msg;
        return;
      }
      msg.type = 'courseport.dispatch.status';
      msg.nonce = r.nonce;
      window.parent.postMessage(msg, target);
    }
    window.addEventListener('message', function (ev) {
      if (target || ev.source !== window.parent) return;
      var m = ev.data;
      if (!m || typeof m !== 'object' || m.type !== 'courseport.dispatch.ready') return;
      if (m.nonce !== r.nonce || ev.origin === 'null' || (r.expectedOrigin && ev.origin !== r.expectedOrigin)) {
        // Nothing is relayed to a window that is not the launcher of this launch.
        if (window.console)
          console.warn('Courseport dispatch: handshake refused from ' + ev.origin + (m.nonce !== r.nonce ? ' (wrong nonce)' : ' (not the launch origin)'));
        root.setAttribute('data-relay', 'refused');
        return;
      }
      target = ev.origin;
      root.setAttribute('data-relay', 'connected');
      if (pending) {
        var p = pending;
        pending = null;
        send(p);
      }
    });
    // The hello carries nothing: the launcher's origin is not known yet.
    if (window.parent !== window) window.parent.postMessage({ type: 'courseport.dispatch.hello' }, r.expectedOrigin || '*');
    return {
      status: function (view) {
        send({
          completion: view.completion,
          success: view.success,
          scoreScaled: view.scoreScaled,
          scoreRaw: view.scoreRaw,
          scoreMin: view.scoreMin,
          scoreMax: view.scoreMax,
          sessionTimeMs: Math.max(0, view.totalTimeMs - r.baseTimeMs),
          bookmark: lastSco || '',
        });
      },
    };
  }

  function scoById(id) {
    for (var i = 0; i < cfg.scos.length; i++) if (cfg.scos[i].id === id) return cfg.scos[i];
    return null;
  }
  function indexOf(id) {
    for (var i = 0; i < cfg.scos.length; i++) if (cfg.scos[i].id === id) return i;
    return -1;
  }

  function markCurrent(id) {
    var items = document.querySelectorAll('.toc-item');
    for (var i = 0; i < items.length; i++) items[i].setAttribute('aria-current', items[i].getAttribute('data-sco') === id ? 'true' : 'false');
    var prev = /** @type {HTMLButtonElement | null} */ (document.getElementById('prev-sco'));
    var next = /** @type {HTMLButtonElement | null} */ (document.getElementById('next-sco'));
    var idx = indexOf(id);
    if (prev) prev.disabled = idx <= 0;
    if (next) next.disabled = idx < 0 || idx >= cfg.scos.length - 1;
  }

  /* Same text as scoreLabel in src/web/player-page.tsx. */
  function scoreText(view) {
    return typeof view.scoreScaled === 'number' ? 'Score ' + Math.round(view.scoreScaled * 1000) / 10 + ' %' : '';
  }

  function refreshStatus() {
    fetch(cfg.api + '/attempt', { cache: 'no-store' })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (view) {
        if (!view) return;
        if (relay) relay.status(view);
        var text = 'Attempt ' + view.number + ' · ' + view.label;
        var label = document.querySelector('[data-attempt-status]');
        if (label) label.textContent = text;
        var score = document.querySelector('[data-attempt-score]');
        if (score) score.textContent = scoreText(view);
        var endStatus = document.querySelector('[data-end-status]');
        if (endStatus) endStatus.textContent = text + (scoreText(view) ? ' · ' + scoreText(view) : '');
        var items = document.querySelectorAll('.toc-item');
        for (var i = 0; i < items.length; i++) {
          var s = view.scos[items[i].getAttribute('data-sco')];
          if (s) items[i].setAttribute('data-status', s.success !== 'unknown' ? s.success : s.completion);
        }
      })
      .catch(function () {
        /* status display only */
      });
  }

  function finish(session) {
    if (!session || session.terminated) return;
    session.terminated = true;
    try {
      if (cfg.family === '1.2') session.api.LMSFinish('');
      else session.api.Terminate('');
    } catch (_e) {
      /* already finished */
    }
  }

  function unloadCurrent() {
    var session = current;
    if (!session) return Promise.resolve();
    current = null;
    return /** @type {Promise<void>} */ (
      new Promise(function (resolve) {
        var done = false;
        function end() {
          if (done) return;
          done = true;
          // A SCO that never called LMSFinish/Terminate still gets its data committed.
          finish(session);
          resolve();
        }
        session.onTerminated = end;
        frame.src = 'about:blank';
        setTimeout(end, 1500);
      })
    );
  }

  /* After the SCO itself ended its session (its Exit, LMSFinish/Terminate): follow a SCORM 2004
   * navigation request to another SCO, otherwise show the end page instead of a frame that
   * still shows the finished content. */
  var endPage = document.getElementById('end-page');
  var leaving = false;

  function navRequestOf(api) {
    try {
      return cfg.family === '2004' && api.adl && api.adl.nav ? String(api.adl.nav.request || '') : '';
    } catch (_e) {
      return '';
    }
  }

  function afterTerminate(session) {
    if (leaving) return;
    var idx = indexOf(session.id);
    var nav = navRequestOf(session.api);
    if (nav === 'continue' && idx >= 0 && idx < cfg.scos.length - 1) return load(cfg.scos[idx + 1].id);
    if (nav === 'previous' && idx > 0) return load(cfg.scos[idx - 1].id);
    var choice = /^\{target=([^}]+)\}(?:choice|jump)$/.exec(nav);
    if (choice && scoById(choice[1])) return load(choice[1]);
    showEnd(idx);
  }

  function showEnd(idx) {
    current = null;
    if (!endPage) return;
    var next = document.getElementById('end-next');
    if (next) next.hidden = !(idx >= 0 && idx < cfg.scos.length - 1);
    endPage.hidden = false;
    frame.hidden = true;
    document.documentElement.setAttribute('data-ended', 'true');
    // The finished SCO may still be running its own exit code: let it, then unload it.
    setTimeout(function () {
      if (frame.hidden) frame.src = 'about:blank';
    }, 0);
    var title = document.getElementById('end-title');
    if (title) title.focus();
    refreshStatus();
  }

  function hideEnd() {
    if (endPage) endPage.hidden = true;
    frame.hidden = false;
    document.documentElement.removeAttribute('data-ended');
  }

  function load(id) {
    var sco = scoById(id);
    if (!sco || switching) return;
    switching = true;
    hideEnd();
    unloadCurrent()
      .then(function () {
        return fetch(cfg.api + '/sco/' + encodeURIComponent(id), { method: 'POST', cache: 'no-store' });
      })
      .then(function (r) {
        if (!r.ok) throw new Error('load failed: ' + r.status);
        return r.json();
      })
      .then(function (data) {
        var settings = {
          lmsCommitUrl: cfg.api + '/sco/' + encodeURIComponent(id) + '/commit?session=' + data.session,
          dataCommitFormat: 'flattened',
          includeCommitSequence: true,
          terminateCommitPayloadField: 'terminate',
          // Many courses call LMSCommit only when they finish: their data is stored (and the
          // header follows) some seconds after each change instead, as LMSs are allowed to do.
          autocommit: true,
          autocommitSeconds: 15,
          autoCompleteLessonStatus: true,
          logLevel: 5,
        };
        var api;
        if (cfg.family === '2004') {
          // scorm-again's flattened commit carries cmi.* only: add the SCO's navigation request,
          // which the server stores and evaluates (suspendAll counts as suspended).
          settings.requestHandler = function (params) {
            var nav = api && api.adl && api.adl.nav ? api.adl.nav.request : '';
            if (nav && nav !== '_none_' && params && typeof params === 'object' && !Array.isArray(params)) params['adl.nav.request'] = nav;
            return params;
          };
        }
        api = cfg.family === '1.2' ? new win.Scorm12API(settings) : new win.Scorm2004API(settings);
        api.loadFromFlattenedJSON(data.cmi);
        var session = { id: id, session: data.session, api: api, terminated: false, onTerminated: null };
        api.on(cfg.family === '1.2' ? 'LMSFinish' : 'Terminate', function () {
          session.terminated = true;
          // The terminate commit is a beacon: look again once it has surely arrived.
          setTimeout(refreshStatus, 50);
          setTimeout(refreshStatus, 1000);
          // The player ended it (another SCO chosen, the page left): nothing more to do.
          if (session.onTerminated) return session.onTerminated();
          if (current === session) afterTerminate(session);
        });
        // The header follows every commit, not only the last one: commits are synchronous requests,
        // so the event comes once the server has stored it (CommitSuccess if commits are ever async).
        api.on(cfg.family === '1.2' ? 'LMSCommit' : 'Commit', refreshStatus);
        api.on('CommitSuccess', refreshStatus);
        if (cfg.family === '1.2') win.API = api;
        else win.API_1484_11 = api;
        current = session;
        lastSco = id;
        markCurrent(id);
        frame.src = cfg.contentBase + sco.launchUrl;
        if (relay) refreshStatus();
      })
      .catch(function (e) {
        frame.srcdoc =
          '<p style="font:15px system-ui;padding:20px">This part of the course could not be opened (' +
          String(e.message).replace(/[<&]/g, '') +
          '). Reload the page to try again.</p>';
      })
      .then(function () {
        switching = false;
      });
  }

  document.addEventListener('click', function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var item = t.closest('.toc-item');
    if (item) return load(item.getAttribute('data-sco'));
    if (t.id === 'prev-sco' || t.id === 'next-sco') {
      var idx = indexOf(current ? current.id : cfg.start) + (t.id === 'next-sco' ? 1 : -1);
      if (idx >= 0 && idx < cfg.scos.length) load(cfg.scos[idx].id);
    }
    if (t.id === 'end-next') {
      var after = indexOf(lastSco) + 1;
      if (after > 0 && after < cfg.scos.length) load(cfg.scos[after].id);
    }
    if (t.id === 'end-reopen') load(lastSco);
    if (t.id === 'new-attempt') {
      /** @type {HTMLButtonElement} */ (t).disabled = true;
      unloadCurrent()
        .then(function () {
          return fetch(cfg.api + '/attempts', { method: 'POST' });
        })
        .then(function (r) {
          return r.json();
        })
        .then(function (next) {
          if (next.playUrl) window.location.replace(next.playUrl);
        });
    }
  });

  // Tokens live COURSEPORT_PLAYER_TOKEN_TTL_SECONDS: a page left open longer trades them for
  // fresh ones well before they expire, including the commit URL of the SCO that is running.
  function renew() {
    fetch(cfg.api + '/renew', { method: 'POST', cache: 'no-store' })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (t) {
        if (!t || typeof t.api !== 'string' || typeof t.contentBase !== 'string') return;
        cfg.api = t.api;
        cfg.contentBase = t.contentBase;
        var s = current;
        if (s && !s.terminated) s.api.settings = { lmsCommitUrl: cfg.api + '/sco/' + encodeURIComponent(s.id) + '/commit?session=' + s.session };
      })
      .catch(function () {
        /* the next renewal tries again */
      });
  }
  if (cfg.renewEveryMs > 0) setInterval(renew, cfg.renewEveryMs);

  // Leaving the page: SCOs that handle beforeunload have finished already; for the others
  // the runtime's terminate commit goes out now, as a beacon (text/plain, token in the URL).
  window.addEventListener('pagehide', function () {
    leaving = true;
    finish(current);
  });

  load(cfg.start);
})();
