/* Writing help in every composer: `textarea#reply-text` on the ticket page and any `textarea[data-canned]`
   (the chat workspace). Type "/" and a shortcut: a list filtered as you type; Enter or Tab inserts the
   expanded text (variables filled in by the server, usage counted). While writing normally, a frequent phrase
   from the canned responses is offered: Tab accepts it. After a pause, misspelled words get suggestions from
   the server's dictionary for the composer's language (`lang`), next to the browser's own spellcheck. */
(function () {
  "use strict";
  var items = null, phrases = [], loading = null, menu = null, state = null;
  var sheet = document.createElement("link"); sheet.rel = "stylesheet"; sheet.href = "/static/chat/canned.css"; document.head.appendChild(sheet);

  function csrf() { var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/); if (m) return decodeURIComponent(m[1]); var i = document.querySelector("input[name=csrfmiddlewaretoken]"); return i ? i.value : ""; }
  function isComposer(t) { return t && t.tagName === "TEXTAREA" && (t.id === "reply-text" || t.hasAttribute("data-canned")); }
  function load() {
    if (loading) return loading;
    loading = Promise.all([
      fetch("/api/v1/canned-responses/?page_size=100", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { results: [] }; }),
      fetch("/api/v1/canned-responses/phrases/", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { results: [] }; })
    ]).then(function (res) { items = res[0].results || []; phrases = res[1].results || []; })
      .catch(function () { items = []; });
    return loading;
  }
  function ticketOf(t) { return t.dataset.ticket || (window.helpdesk && window.helpdesk.ticketId) || null; }

  function close() { if (menu) { menu.remove(); menu = null; } state = null; }
  function open(t, entries, kind, start) {
    close();
    if (!entries.length) return;
    menu = document.createElement("ul"); menu.className = "canned-menu"; menu.setAttribute("role", "listbox");
    entries.forEach(function (e, i) {
      var li = document.createElement("li"); li.setAttribute("role", "option"); li.dataset.index = i;
      if (kind === "canned") {
        var s = document.createElement("code"); s.textContent = "/" + e.shortcut; li.appendChild(s);
        var title = document.createElement("span"); title.textContent = " " + e.title; li.appendChild(title);
        var body = document.createElement("span"); body.className = "canned-preview"; body.textContent = e.body.slice(0, 80); li.appendChild(body);
      } else {
        li.className = "phrase"; li.textContent = "⇥ " + e;
      }
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); state.index = i; choose(); });
      menu.appendChild(li);
    });
    var rect = t.getBoundingClientRect();
    menu.style.left = (window.scrollX + rect.left) + "px";
    menu.style.top = (window.scrollY + rect.bottom + 2) + "px";
    menu.style.minWidth = Math.min(rect.width, 420) + "px";
    document.body.appendChild(menu);
    state = { t: t, entries: entries, kind: kind, start: start, index: 0 };
    highlight();
  }
  function highlight() {
    Array.prototype.forEach.call(menu.children, function (li, i) { li.classList.toggle("selected", i === state.index); li.setAttribute("aria-selected", String(i === state.index)); });
  }
  function replaceRange(t, start, end, text) {
    t.value = t.value.slice(0, start) + text + t.value.slice(end);
    var caret = start + text.length; t.setSelectionRange(caret, caret); t.focus();
    t.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function choose() {
    if (!state) return;
    var s = state, entry = s.entries[s.index], t = s.t, end = t.selectionStart;
    close();
    if (s.kind === "phrase") { replaceRange(t, s.start, end, entry); return; }
    var ticket = ticketOf(t);
    fetch("/api/v1/canned-responses/" + entry.id + "/use/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(ticket ? { ticket: parseInt(ticket, 10) } : {})
    }).then(function (r) { return r.ok ? r.json() : { text: entry.body }; })
      .then(function (res) { replaceRange(t, s.start, end, res.text); })
      .catch(function () { replaceRange(t, s.start, end, entry.body); });
  }
  function update(t) {
    var caret = t.selectionStart, before = t.value.slice(0, caret);
    var slash = before.match(/(^|\s)\/([\w-]*)$/);
    if (slash) {
      var q = slash[2].toLowerCase(), start = caret - q.length - 1;
      load().then(function () {
        var found = items.filter(function (c) { return c.shortcut.indexOf(q) === 0 || c.title.toLowerCase().indexOf(q) >= 0; }).slice(0, 8);
        if (t.selectionStart === caret) open(t, found, "canned", start);
      });
      return;
    }
    var tail = before.split(/[.!?\n]\s*/).pop();
    if (tail.trim().length >= 4) {
      load().then(function () {
        var lower = tail.replace(/^\s+/, "").toLowerCase(), start = caret - tail.replace(/^\s+/, "").length;
        var hit = phrases.filter(function (p) { return p.toLowerCase().indexOf(lower) === 0 && p.length > lower.length; }).slice(0, 3);
        if (t.selectionStart === caret && hit.length) open(t, hit, "phrase", start); else if (state && state.kind === "phrase") close();
      });
      return;
    }
    close();
  }

  /* ------------------------------------------------------------ spelling suggestions */
  var spellTimers = new WeakMap();
  function spellBox(t) {
    var box = t.parentNode.querySelector(".hd-spelling") || (t.id && document.querySelector('.hd-spelling[data-for="' + t.id + '"]'));
    if (!box) { box = document.createElement("div"); box.className = "hd-spelling small"; box.setAttribute("aria-live", "polite"); t.insertAdjacentElement("afterend", box); }
    return box;
  }
  function spell(t) {
    var box = spellBox(t), text = t.value;
    if (!text.trim()) { box.textContent = ""; return; }
    fetch("/api/v1/chat/spellcheck/", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify({ text: text, language: box.dataset.lang || t.lang || document.documentElement.lang || "en" }) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        box.textContent = ""; if (!res || !res.misspelled.length) return;
        var label = document.createElement("span"); label.className = "muted"; label.textContent = (box.dataset.label || "ABC") + " "; box.appendChild(label);
        res.misspelled.forEach(function (w) {
          w.suggestions.slice(0, 3).forEach(function (s) {
            var b = document.createElement("button"); b.type = "button"; b.className = "spell-fix link"; b.textContent = w.word + " → " + s;
            b.addEventListener("click", function () {
              var re = new RegExp("(^|[^\\p{L}])" + w.word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(?![\\p{L}])", "u");
              t.value = t.value.replace(re, function (_m, pre) { return pre + s; });
              box.textContent = ""; t.focus();
            });
            box.appendChild(b);
          });
        });
      }).catch(function () { /* spelling help is optional */ });
  }
  document.addEventListener("input", function (ev) {
    var t = ev.target; if (!isComposer(t)) return;
    clearTimeout(spellTimers.get(t)); spellTimers.set(t, setTimeout(function () { spell(t); }, 1200));
  });

  document.addEventListener("input", function (ev) { if (isComposer(ev.target)) update(ev.target); }, true);
  document.addEventListener("focusin", function (ev) { if (isComposer(ev.target)) load(); });
  document.addEventListener("focusout", function (ev) { if (state && ev.target === state.t) setTimeout(close, 150); });
  document.addEventListener("keydown", function (ev) {
    if (!state || ev.target !== state.t) return;
    var key = ev.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      state.index = (state.index + (key === "ArrowDown" ? 1 : state.entries.length - 1)) % state.entries.length; highlight();
    } else if (key === "Escape") {
      close();
    } else if ((key === "Enter" && state.kind === "canned" && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey) || key === "Tab") {
      choose();
    } else {
      return;
    }
    ev.preventDefault(); ev.stopImmediatePropagation(); ev.stopPropagation();
  }, true);
})();
