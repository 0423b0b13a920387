// Progressive enhancement only: every page works without this file.
// - the template editor checks the draft as you type (the same POST its "Check" button makes);
// - a Delete button asks before it posts;
// - a running "Send Test SMS" shows the gate's reports as they arrive (without a script, the page
//   refreshes itself until the send is done).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var editor = document.getElementById("editor");
  if (!editor) return;
  var list = document.getElementById("diagnostics");
  var preview = document.getElementById("preview");
  var timer = null;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function show(answer) {
    list.replaceChildren();
    if (!answer.diagnostics.length) list.append(element("li", "No problems: `smsops validate` would pass this file.", "ok"));
    answer.diagnostics.forEach(function (d) {
      var item = element("li", "", d.severity);
      item.append(element("code", d.location), " ", element("strong", d.rule, "rule"), " " + d.message);
      list.append(item);
    });
    preview.replaceChildren();
    (answer.preview.renderings || []).forEach(function (r) {
      var box = element("div", "", "sms");
      box.append(element("p", r.channel + " (" + r.provider + ") · " + r.encoding + ", " + r.characters +
        " characters, " + r.segments + " segment(s)", "meta"), element("p", r.message, "bubble"));
      preview.append(box);
    });
    (answer.preview.problems || []).forEach(function (p) { preview.append(element("p", p, "problem")); });
    if ((answer.preview.native || []).length) {
      var native = element("dl", "", "native");
      answer.preview.native.forEach(function (pair) {
        native.append(element("dt", pair[0]));
        var dd = element("dd"); dd.append(element("code", pair[1])); native.append(dd);
      });
      preview.append(element("h3", "Each provider's native form"), native);
    }
  }

  function check() {
    fetch(editor.getAttribute("data-check"), {
      method: "POST", body: new FormData(editor), headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer) show(answer); })
      .catch(function () { /* the Check button still works */ });
  }

  editor.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
})();

(function () {
  "use strict";
  var send = document.getElementById("send");
  if (!send || send.hasAttribute("data-done")) return;
  var progress = document.getElementById("send-progress");
  var log = send.querySelector("ol.log");
  var INTERVAL_MS = 500;

  function showSoFar(answer) {
    progress.textContent = "Sending… " + answer.finished + " of " + (answer.total || "?") +
      " send(s) with a final outcome so far.";
    log.replaceChildren();
    answer.log.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      log.append(item);
    });
  }

  // The finished page, rendered by the server, put in place of this one's section: one template.
  function showFinished() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var finished = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (finished) document.getElementById("main").replaceWith(finished);
      })
      .catch(function () { window.location.reload(); });
  }

  function poll() {
    fetch(send.getAttribute("data-progress"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) return window.location.reload();
        if (answer.done) return showFinished();
        showSoFar(answer);
        setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () { setTimeout(poll, INTERVAL_MS); });
  }

  setTimeout(poll, INTERVAL_MS);
})();
