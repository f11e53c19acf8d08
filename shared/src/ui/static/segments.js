// The live count of the segment editor. A count is a pass over all the
// tenant's contacts, so the script asks only once the user has stopped
// editing for 800 ms, never while a request is still running (the newest
// form is sent when the running one ends), and shows an answer only if the
// form still looks as it did when it was sent. The form is posted as the
// page would post it (CSRF token included) to the count route. Without
// this script the editor still works through its buttons.
(function () {
  "use strict";
  var form = document.getElementById("segment-editor");
  var out = document.getElementById("segment-count");
  if (!form || !out) { return; }
  var PAUSE_MS = 800;
  var timer = null;
  var running = false;
  var waiting = false;
  function snapshot() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("aktion");
    return body.toString();
  }
  function show(answer) {
    if (typeof answer.count === "number") {
      out.textContent = (out.getAttribute("data-label") || "{n}")
        .replace("{n}", answer.count.toLocaleString(document.documentElement.lang));
    } else if (answer.problem) {
      out.textContent = answer.problem;
    }
  }
  function done() {
    running = false;
    if (waiting) {
      waiting = false;
      update();
    }
  }
  function update() {
    if (running) {
      waiting = true;
      return;
    }
    running = true;
    var sent = snapshot();
    fetch(form.getAttribute("data-count-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: sent
    }).then(function (r) { return r.json(); }).then(function (answer) {
      // A stale answer (the form changed since) is dropped.
      if (sent === snapshot()) { show(answer); }
      done();
    }).catch(function () { done(); /* the buttons still work */ });
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; update(); }, PAUSE_MS);
  }
  form.addEventListener("change", later);
  form.addEventListener("input", later);
})();
