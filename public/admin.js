// @ts-check
/*
 * Courseport admin console: copy buttons and the package upload progress bar. Everything
 * else works without scripts (the upload form posts normally when this file does not run).
 */
(function () {
  'use strict';

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Fallback for plain-http consoles: a selected, off-screen textarea and execCommand.
    return /** @type {Promise<void>} */ (
      new Promise(function (resolve, reject) {
        var area = document.createElement('textarea');
        area.value = text;
        area.setAttribute('readonly', '');
        area.style.position = 'fixed';
        area.style.left = '-9999px';
        document.body.appendChild(area);
        area.select();
        var ok = false;
        try {
          ok = document.execCommand('copy');
        } catch (_e) {
          ok = false;
        }
        document.body.removeChild(area);
        if (ok) resolve();
        else reject(new Error('copy refused'));
      })
    );
  }

  function setupCopyButtons() {
    var buttons = /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('button[data-copy]'));
    for (var i = 0; i < buttons.length; i++) {
      (function (button) {
        button.hidden = false;
        button.addEventListener('click', function () {
          var source = document.getElementById(button.getAttribute('data-copy'));
          if (!source) return;
          var label = button.textContent;
          copyText(source.textContent.trim()).then(
            function () {
              button.textContent = 'Copied';
              button.setAttribute('data-copied', 'true');
              setTimeout(function () {
                button.textContent = label;
              }, 1500);
            },
            function () {
              // Last resort: select the text so that Ctrl+C works.
              var range = document.createRange();
              range.selectNodeContents(source);
              var sel = window.getSelection();
              sel.removeAllRanges();
              sel.addRange(range);
              button.textContent = 'Press Ctrl+C';
            },
          );
        });
      })(buttons[i]);
    }
  }

  function errorFromPage(html, status) {
    try {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var code = doc.querySelector('[data-error-code]');
      var message = doc.querySelector('.card.error p') || doc.querySelector('.card p') || doc.querySelector('.problems li');
      return (message ? message.textContent : 'Upload failed (HTTP ' + status + ').') + (code ? ' [' + code.textContent + ']' : '');
    } catch (_e) {
      return 'Upload failed (HTTP ' + status + ').';
    }
  }

  function setupUpload() {
    var form = /** @type {HTMLFormElement | null} */ (document.getElementById('upload-form'));
    if (!form || !window.FormData || !window.XMLHttpRequest) return;
    var bar = /** @type {HTMLProgressElement | null} */ (document.getElementById('upload-progress'));
    var status = document.getElementById('upload-status');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
      var xhr = new XMLHttpRequest();
      var events = 0;
      xhr.open('POST', form.action);
      xhr.setRequestHeader('x-csrf-token', /** @type {HTMLInputElement} */ (form.querySelector('input[name=_csrf]')).value);
      xhr.setRequestHeader('x-requested-with', 'XMLHttpRequest');
      bar.hidden = false;
      bar.value = 0;
      bar.classList.remove('failed');
      bar.removeAttribute('data-failed');
      status.textContent = 'Uploading…';
      status.classList.remove('error-text');
      button.disabled = true;
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) return;
        events++;
        bar.max = e.total;
        bar.value = e.loaded;
        bar.setAttribute('data-events', String(events));
        status.textContent = 'Uploading… ' + Math.round((e.loaded / e.total) * 100) + ' %';
      });
      xhr.upload.addEventListener('load', function () {
        bar.value = bar.max;
        status.textContent = 'Uploaded; checking and importing the package…';
      });
      xhr.addEventListener('load', function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          status.textContent = 'Imported.';
          var target = '/admin/packages';
          try {
            target = JSON.parse(xhr.responseText).redirect || target;
          } catch (_e) {
            /* keep the catalogue */
          }
          window.location.assign(target);
          return;
        }
        failed(errorFromPage(xhr.responseText, xhr.status));
      });
      xhr.addEventListener('error', function () {
        failed('The upload was interrupted. Check the connection and try again.');
      });
      // A full blue bar next to an error reads as "done": the bar turns red (failed), whatever it showed.
      function failed(message) {
        button.disabled = false;
        bar.value = bar.max;
        bar.classList.add('failed');
        bar.setAttribute('data-failed', 'true');
        status.classList.add('error-text');
        status.textContent = message;
      }
      xhr.send(new FormData(form));
    });
  }

  setupCopyButtons();
  setupUpload();
})();
