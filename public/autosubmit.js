/* Submits the deep linking response form at once; the visible button covers blocked scripts. */
(function () {
  'use strict';
  var form = document.getElementById('return-form');
  if (form) form.submit();
})();
