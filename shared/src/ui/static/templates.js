// The template editor's live preview: a moment after the last keystroke,
// the form is sent to the preview frame by its own "Vorschau" button, so
// the frame shows the mail as written (with the frame's own sandbox and
// policy). Without JavaScript the button does the same on a click.
"use strict";

(function () {
  var form = document.querySelector("form[data-live-preview]");
  if (!form) {
    return;
  }
  var button = form.querySelector("button[data-preview-button]");
  if (!button || typeof form.requestSubmit !== "function") {
    return;
  }
  var timer = null;
  form.addEventListener("input", function () {
    if (timer !== null) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(function () {
      timer = null;
      form.requestSubmit(button);
    }, 700);
  });
})();
