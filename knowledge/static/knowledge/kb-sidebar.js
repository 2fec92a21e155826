/* Knowledge-base panel beside a conversation: searches as the agent types, refreshes suggestions when the
   customer writes, and inserts a link or a snippet into the reply with one click. Labels come from the
   server (data-label-*); article text is inserted with textContent, highlights are server-escaped HTML. */
(function () {
  "use strict";
  var panel = document.getElementById("kb-panel");
  if (!panel) return;
  var input = document.getElementById("kb-panel-q");
  var list = document.getElementById("kb-panel-results");
  var status = document.getElementById("kb-panel-status");
  var api = panel.dataset.api;
  var timer = null;
  var inflight = null;
  var lastCustomerText = "";

  function label(name) { return panel.dataset["label" + name] || ""; }

  function composer() {
    return (window.helpdesk && window.helpdesk.composer) || document.getElementById("reply-text");
  }

  function insert(text) {
    var box = composer();
    if (!box) return;
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    var sep = before && !/\s$/.test(before) ? (before.slice(-1) === "\n" ? "" : "\n") : "";
    box.value = before + sep + text + after;
    var caret = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  list.addEventListener("click", function (ev) {
    var button = ev.target.closest("button");
    if (!button) return;
    var item = button.closest(".kb-panel-item");
    if (!item) return;
    var d = item.dataset;
    if (button.classList.contains("kb-insert-link")) insert(d.title + ": " + d.url);
    else if (button.classList.contains("kb-insert-snippet")) insert(d.excerpt + (d.url ? "\n" + d.url : ""));
    else if (button.classList.contains("kb-panel-suggest")) { input.value = button.textContent; search(input.value, "all"); }
  });

  function render(results, heading) {
    list.textContent = "";
    results.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "kb-panel-item";
      li.dataset.id = a.id; li.dataset.title = a.title; li.dataset.url = a.url || ""; li.dataset.excerpt = a.excerpt || "";
      var title = document.createElement("div");
      title.className = "kb-panel-title";
      var holder = title;
      if (a.url) {
        var link = document.createElement("a");
        link.href = a.url; link.target = "_blank"; link.rel = "noopener";
        title.appendChild(link); holder = link;
      }
      holder.innerHTML = a.title_html;  // server-escaped, only <mark> added
      if (!a.url || a.visibility === "internal") {
        var badge = document.createElement("span");
        badge.className = "kb-panel-badge"; badge.textContent = label("Internal");
        title.appendChild(document.createTextNode(" ")); title.appendChild(badge);
      }
      var snippet = document.createElement("p");
      snippet.className = "kb-panel-snippet";
      snippet.innerHTML = a.snippet;  // server-escaped, only <mark> added
      var actions = document.createElement("div");
      actions.className = "kb-panel-actions";
      if (a.url) actions.appendChild(button("kb-insert-link", label("Link")));
      actions.appendChild(button("kb-insert-snippet", label("Snippet")));
      li.appendChild(title); li.appendChild(snippet); li.appendChild(actions);
      list.appendChild(li);
    });
    status.textContent = heading;
  }

  function button(cls, text) {
    var b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = text;
    return b;
  }

  function search(q, match) {
    if (inflight) inflight.abort();
    var controller = window.AbortController ? new AbortController() : null;
    inflight = controller;
    var url = api + "?page_size=6&q=" + encodeURIComponent(q) + (match === "any" ? "&match=any" : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (controller && controller !== inflight) return;
        var heading = match === "any" ? label("Suggested") : label("Results");
        render(data.results || [], heading);
        if (!data.results || !data.results.length) {
          status.textContent = label("None");
          if (data.suggestion) {
            status.textContent = label("DidYouMean") + " ";
            var s = document.createElement("button");
            s.type = "button"; s.className = "kb-panel-suggest"; s.textContent = data.suggestion;
            s.addEventListener("click", function () { input.value = data.suggestion; search(data.suggestion, "all"); });
            status.appendChild(s);
          }
        }
      })
      .catch(function (e) { if (e && e.name === "AbortError") return; status.textContent = label("Error"); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    timer = setTimeout(function () {
      if (q) search(q, "all");
      else if (lastCustomerText) search(lastCustomerText, "any");
    }, 180);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); if (input.value.trim()) search(input.value.trim(), "all"); }
  });

  if (window.helpdesk && window.helpdesk.on) {
    window.helpdesk.on("message", function (frame) {
      var ticketId = window.helpdesk.ticketId;
      if (!frame || String(frame.ticket) !== String(ticketId) || frame.direction !== "inbound" || !frame.text) return;
      lastCustomerText = frame.text.slice(0, 2000);
      if (!input.value.trim()) search(lastCustomerText, "any");
    });
  }
})();
