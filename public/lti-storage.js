// @ts-check
/*
 * Courseport: LTI platform storage (1EdTech "LTI Client Side postMessages" and "LTI postMessage
 * Storage"), used when the browser may block the state cookie in the LMS frame.
 *   put      (login):  lti.capabilities → lti.put_data(key, value) → go on to the platform's auth URL.
 *   get      (launch): lti.capabilities → lti.get_data(key) → POST /lti/launch/verified.
 *   resubmit (launch): re-post the launch once from this page (a same-site request).
 * Every message goes to the platform origin only, every answer must come from it and carry the
 * message_id we sent; anything else is ignored. Each wait is bounded; failures fall back to the
 * next tier (docs/lti.md).
 */
(function () {
  'use strict';
  var el = document.getElementById('lti-storage-config');
  if (!el) return;
  var cfg = JSON.parse(el.textContent || '{}');
  var SUFFIX = '.response';
  var counter = 0;

  function status(text) {
    var s = document.getElementById('lti-storage-status');
    if (s) s.textContent = text;
  }

  // The platform's window: our parent frame (or the window that opened us).
  function platformWindow() {
    if (window.parent && window.parent !== window) return window.parent;
    return window.opener || null;
  }

  // `_parent`, or a frame of the platform's window named by lti_storage_target / the capabilities answer.
  function frameFor(name) {
    var p = platformWindow();
    if (!p) return null;
    if (!name || name === '_parent') return p;
    try {
      return p.frames[name] || null;
    } catch (_e) {
      return null;
    }
  }

  function send(subject, fields, frameName) {
    return new Promise(function (resolve, reject) {
      var target = frameFor(frameName);
      if (!target) {
        reject({ code: 'no_platform' });
        return;
      }
      var id = 'cp-' + Date.now().toString(36) + '-' + ++counter + '-' + Math.random().toString(36).slice(2);
      var sawWrongOrigin = false;
      var timer = setTimeout(function () {
        done();
        reject({ code: sawWrongOrigin ? 'wrong_origin' : 'timeout' });
      }, cfg.timeoutMs);
      function done() {
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
      }
      function onMessage(event) {
        var d = event.data;
        if (!d || typeof d !== 'object' || d.subject !== subject + SUFFIX) return;
        if (event.origin !== cfg.origin) {
          // Not the platform: never used, remembered only to tell the user.
          sawWrongOrigin = true;
          return;
        }
        if (d.message_id !== id) return;
        done();
        if (d.error)
          reject({
            code:
              'platform_' +
              String((d.error && d.error.code) || 'error')
                .replace(/[^a-z_]/g, '')
                .slice(0, 40),
          });
        else resolve(d);
      }
      window.addEventListener('message', onMessage);
      var message = { subject: subject, message_id: id };
      for (var k in fields) if (Object.hasOwn(fields, k)) message[k] = fields[k];
      try {
        target.postMessage(message, cfg.origin);
      } catch (_e) {
        done();
        reject({ code: 'post_failed' });
      }
    });
  }

  // Which frame takes a subject: the capabilities answer may name one; else lti_storage_target.
  function frameForSubject(subject) {
    return send('lti.capabilities', {}, '_parent').then(
      function (answer) {
        var list = Array.isArray(answer.supported_messages) ? answer.supported_messages : [];
        for (var i = 0; i < list.length; i++) {
          if (list[i] && list[i].subject === subject) return typeof list[i].frame === 'string' && list[i].frame ? list[i].frame : cfg.target;
        }
        throw { code: 'unsupported' };
      },
      function (err) {
        // Platforms that predate lti.capabilities answer it with unsupported_subject: use the target as given.
        if (err && err.code === 'platform_unsupported_subject') return cfg.target;
        throw err;
      },
    );
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function fallBack(code) {
    var form = /** @type {HTMLFormElement | null} */ (document.getElementById('lti-resume-form'));
    if (!form) return;
    /** @type {HTMLInputElement} */ (form.elements.namedItem('cp_storage')).value = code || '';
    submit(form);
  }

  if (cfg.mode === 'put') {
    var go = function () {
      window.location.replace(cfg.authUrl);
    };
    frameForSubject('lti.put_data')
      .then(function (frame) {
        return send('lti.put_data', { key: cfg.key, value: cfg.value }, frame);
      })
      .then(function (answer) {
        if (answer.key !== cfg.key) throw { code: 'bad_answer' };
        go();
      })
      .catch(function () {
        // The launch will find no value and fall back to the next tier.
        status('Your LMS did not answer; continuing without it.');
        go();
      });
  } else if (cfg.mode === 'get') {
    frameForSubject('lti.get_data')
      .then(function (frame) {
        return send('lti.get_data', { key: cfg.key }, frame);
      })
      .then(function (answer) {
        if (answer.key !== cfg.key || typeof answer.value !== 'string' || answer.value === '') throw { code: 'no_value' };
        var form = /** @type {HTMLFormElement} */ (document.getElementById('lti-verified-form'));
        /** @type {HTMLInputElement} */ (form.elements.namedItem('storage_value')).value = answer.value;
        submit(form);
      })
      .catch(function (err) {
        fallBack(err && err.code);
      });
  } else if (cfg.mode === 'resubmit') {
    fallBack('');
  }
})();
