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

// Uploads (imports on /importe, images on /bilder): the file goes straight
// to the blob store. The page announces it (name and size) and gets a
// presigned PUT back, or a refusal in words (too large, empty) before
// anything is uploaded; the upload shows its progress. Then the page the
// answer names opens, after the file is checked when the answer names a
// check to ask for (whose refusal is shown in words, too).
(function () {
  var form = document.querySelector("form[data-upload]");
  if (!form) {
    return;
  }
  var input = form.querySelector("input[type=file]");
  var error = form.querySelector("[data-upload-error]");
  var box = form.querySelector("[data-upload-box]");
  var bar = form.querySelector("[data-upload-bar]");
  var text = form.querySelector("[data-upload-text]");
  var button = form.querySelector("button[type=submit]");

  function busy(on) {
    if (on) {
      button.setAttribute("disabled", "");
    } else {
      button.removeAttribute("disabled");
    }
  }

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    box.hidden = true;
    busy(false);
  }

  function uploaded(percent) {
    bar.value = percent;
    text.textContent = form.getAttribute("data-message-uploading").replace(/\d+\s*%|\{\s*\$percent\s*\}/, percent + " %");
  }

  function csrfBody() {
    var body = new URLSearchParams();
    body.set("csrf_token", form.querySelector("input[name=csrf_token]").value);
    return body;
  }

  function check(answer) {
    fetch(answer.finish, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: csrfBody()
    }).then(function (response) {
      return response.json().then(function (result) {
        if (response.ok) {
          window.location.assign(result.next || answer.next);
        } else {
          fail(result.message || form.getAttribute("data-message-failed"));
        }
      });
    }).catch(function () {
      fail(form.getAttribute("data-message-failed"));
    });
  }

  function put(file, answer) {
    var request = new XMLHttpRequest();
    request.open(answer.method, answer.url);
    (answer.headers || []).forEach(function (pair) {
      var name = pair[0].toLowerCase();
      if (name !== "content-length" && name !== "host") {
        request.setRequestHeader(pair[0], pair[1]);
      }
    });
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && event.total > 0) {
        uploaded(Math.floor((event.loaded * 100) / event.total));
      }
    });
    request.addEventListener("load", function () {
      if (request.status >= 200 && request.status < 300) {
        uploaded(100);
        if (answer.finish) {
          check(answer);
        } else {
          window.location.assign(answer.next);
        }
      } else {
        fail(form.getAttribute("data-message-failed"));
      }
    });
    request.addEventListener("error", function () {
      fail(form.getAttribute("data-message-failed"));
    });
    box.hidden = false;
    uploaded(0);
    request.send(file);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = input.files && input.files[0];
    if (!file) {
      return;
    }
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    if (file.size === 0) {
      fail(form.getAttribute("data-message-empty"));
      return;
    }
    if (file.size > Number(form.getAttribute("data-max-bytes"))) {
      fail(form.getAttribute("data-message-too-large"));
      return;
    }
    busy(true);
    var body = csrfBody();
    body.set("file_name", file.name);
    body.set("size_bytes", String(file.size));
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          put(file, answer);
        } else {
          fail(answer.message || form.getAttribute("data-message-failed"));
        }
      });
    }).catch(function () {
      fail(form.getAttribute("data-message-failed"));
    });
  });
})();

// A running import (/importe/{id}): asks for its progress every two
// seconds and shows it; once it has ended, the page is loaded again for
// the summary. Without JavaScript, the page refreshes itself instead.
(function () {
  var section = document.querySelector("[data-import-progress]");
  if (!section) {
    return;
  }
  var url = section.getAttribute("data-import-progress");
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var state = document.getElementById("import-state");

  function show(progress) {
    bar.value = progress.percent;
    bar.textContent = progress.percent + " %";
    text.textContent = progress.text;
    state.textContent = progress.state;
    ["added", "updated", "skipped"].forEach(function (name) {
      var cell = section.querySelector("[data-count=" + name + "]");
      if (cell) {
        cell.textContent = progress.shown[name];
      }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.done) {
          window.location.replace(window.location.pathname);
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();

// Lists that wait for background work (exports being written) load again
// until it is done.
(function () {
  var waiting = document.querySelector("[data-refresh-while-pending]");
  if (waiting) {
    var after = Number(waiting.getAttribute("data-refresh-while-pending")) || 3000;
    window.setTimeout(function () {
      window.location.replace(window.location.pathname);
    }, after);
  }
})();

// Download pages: the link to the file (short-lived, maybe of another
// origin) is followed at once; without JavaScript a refresh does it.
(function () {
  var link = document.querySelector("a[data-follow]");
  if (link) {
    window.location.assign(link.href);
  }
})();
