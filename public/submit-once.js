// @ts-check
/* Forms marked data-submit-once: one submit only (a second would be refused by the server, e.g. an
 * LMS must not get deep-linking items twice, a registration is confirmed once). */
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-submit-once]');
  for (var f = 0; f < forms.length; f++) {
    forms[f].addEventListener('submit', function (ev) {
      var form = /** @type {HTMLFormElement} */ (ev.currentTarget);
      setTimeout(function () {
        var buttons = form.querySelectorAll('button');
        for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      }, 0);
    });
  }
})();
