/* Courseport content picker: filters the list as the instructor types (the search form works without scripts too). */
(function () {
  'use strict';
  var input = document.getElementById('picker-search');
  if (!input) return;
  input.addEventListener('input', function () {
    var q = input.value.trim().toLowerCase();
    var items = document.querySelectorAll('.picker-list li');
    for (var i = 0; i < items.length; i++) {
      var match = items[i].getAttribute('data-title').indexOf(q) !== -1;
      items[i].hidden = !match;
      if (!match) {
        var box = items[i].querySelector('input');
        if (box) box.checked = false;
      }
    }
  });
})();
