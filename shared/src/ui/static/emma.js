// EMMA's small progressive enhancements; every page works without them.
// Forms marked with data-once disable their submit button once sent, so a
// double click does not create a user (or a tenant) twice.
"use strict";

document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) {
    return;
  }
  if (form.dataset.sent === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
  var buttons = form.querySelectorAll("button[type=submit]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].setAttribute("disabled", "");
    buttons[i].setAttribute("aria-disabled", "true");
  }
});

// Back/forward cache: a page restored from history gets its buttons back.
window.addEventListener("pageshow", function () {
  var forms = document.querySelectorAll("form[data-once]");
  for (var i = 0; i < forms.length; i++) {
    delete forms[i].dataset.sent;
    var buttons = forms[i].querySelectorAll("button[type=submit]");
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].removeAttribute("disabled");
      buttons[j].removeAttribute("aria-disabled");
    }
  }
});

// Forms with data-confirm ask before they are sent (deleting a user, for
// example); without JavaScript they are sent at once.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
    return;
  }
  if (!window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
