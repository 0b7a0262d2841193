// @ts-check
/* Courseport content picker: filters the list as the instructor types (the search form works
 * without scripts too), and keeps "Add" disabled until a package is ticked (without scripts the
 * server refuses an empty selection with a page that leads back here). */
(function () {
  'use strict';
  var form = document.getElementById('picker-form');
  var add = /** @type {HTMLButtonElement | null} */ (document.getElementById('picker-add'));
  var hint = document.getElementById('picker-hint');
  function updateAdd() {
    if (!form || !add) return;
    var chosen = form.querySelectorAll('input[name="package"]:checked').length > 0;
    add.disabled = !chosen;
    if (hint) hint.textContent = chosen ? '' : 'Tick a package to add it.';
  }
  if (form) form.addEventListener('change', updateAdd);
  updateAdd();
  var input = /** @type {HTMLInputElement | null} */ (document.getElementById('picker-search'));
  if (!input) return;
  input.addEventListener('input', function () {
    var q = input.value.trim().toLowerCase();
    var items = /** @type {NodeListOf<HTMLLIElement>} */ (document.querySelectorAll('.picker-list li'));
    for (var i = 0; i < items.length; i++) {
      var match = items[i].getAttribute('data-title').indexOf(q) !== -1;
      items[i].hidden = !match;
      if (!match) {
        var box = items[i].querySelector('input');
        if (box) box.checked = false;
      }
    }
    updateAdd();
  });
})();
