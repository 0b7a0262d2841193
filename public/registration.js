// @ts-check
/*
 * LTI Dynamic Registration pages. On the final page: tell the LMS that registration is over,
 * as the spec says (lti-dr §3.6): postMessage({subject: 'org.imsglobal.lti.close'}) to the
 * window that opened this one, or to the frame that holds it. The message carries nothing
 * secret and the LMS's origin is not known here, so the target origin is '*', as the spec's
 * own example does.
 */
(function () {
  'use strict';
  var done = document.querySelector('[data-lti-close]');
  if (!done) return;
  function close() {
    var target = window.opener || window.parent;
    if (target && target !== window) target.postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  }
  var button = document.getElementById('registration-close');
  if (button) button.addEventListener('click', close);
  close();
})();
