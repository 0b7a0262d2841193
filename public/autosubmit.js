// @ts-check
/* Submits the deep linking response form at once; the visible button covers blocked scripts. */
(function () {
  'use strict';
  var form = /** @type {HTMLFormElement | null} */ (document.getElementById('return-form'));
  if (!form) return;
  form.addEventListener('submit', function () {
    var button = form.querySelector('button');
    if (button)
      setTimeout(function () {
        button.disabled = true;
      }, 0);
  });
  form.requestSubmit ? form.requestSubmit() : form.submit();
})();
