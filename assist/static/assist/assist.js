/* Assist on the agent's ticket page: suggested replies (click inserts into #reply-text, editable), refreshed
   when the customer writes again. Text is inserted with textContent/value only: it stays inert. */
(function () {
  "use strict";

  function insert(text) {
    var box = document.getElementById("reply-text");
    if (!box) return;
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    if (box.value && start === end && start === 0) start = end = box.value.length;
    var before = box.value.slice(0, start), after = box.value.slice(end);
    var sep = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + sep + text + after;
    box.focus();
    var caret = (before + sep + text).length;
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function render(panel, results) {
    var list = document.getElementById("assist-list");
    var labelsEl = document.getElementById("assist-source-labels");
    var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
    list.textContent = "";
    if (!results.length) {
      var empty = document.createElement("li"); empty.className = "muted small assist-empty";
      empty.textContent = panel.dataset.empty; list.appendChild(empty); return;
    }
    results.forEach(function (s) {
      var li = document.createElement("li"); li.className = "assist-item"; li.dataset.source = s.source;
      var btn = document.createElement("button"); btn.type = "button"; btn.className = "assist-insert"; btn.dataset.text = s.text;
      var src = document.createElement("span"); src.className = "assist-source assist-source-" + s.source; src.textContent = labels[s.source] || s.source;
      var title = document.createElement("strong"); title.className = "assist-title"; title.textContent = s.title;
      var body = document.createElement("span"); body.className = "assist-text"; body.textContent = s.text.length > 220 ? s.text.slice(0, 219) + "…" : s.text;
      btn.appendChild(src); btn.appendChild(title); btn.appendChild(body); li.appendChild(btn);
      if (s.url) { var a = document.createElement("a"); a.className = "assist-link small"; a.href = s.url; a.target = "_blank"; a.rel = "noopener"; a.textContent = panel.dataset.open; li.appendChild(a); }
      list.appendChild(li);
    });
  }

  function refresh(panel) {
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(panel, data.results || []); })
      .catch(function () { /* keep the current list */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("assist-suggestions");
    if (!panel) return;
    panel.addEventListener("click", function (ev) {
      var btn = ev.target.closest(".assist-insert");
      if (btn) { ev.preventDefault(); insert(btn.dataset.text); }
    });
    if (window.helpdesk && window.helpdesk.on) {
      window.helpdesk.on("message", function (m) {
        if (m.ticket === window.helpdesk.ticketId && m.direction === "inbound") refresh(panel);
      });
    }
  });
})();
