/* Workflows in the agent workspace: presence and collision warnings, SLA countdowns, macros (one click,
   keyboard, bulk on the queue), merge / split / undo. Texts come from the server (data attributes, API). */
(function () {
  "use strict";
  var hd = window.helpdesk;
  if (!hd) return;
  var me = document.body.dataset.user;
  var self = document.currentScript;
  if (self && self.src) {
    var css = document.createElement("link");
    css.rel = "stylesheet"; css.href = self.src.replace(/workflows\.js(\?.*)?$/, "workflows.css");
    document.head.appendChild(css);
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.detail || Object.keys(data).map(function (k) { return k + ": " + data[k]; }).join("; ") || String(r.status));
        return data;
      });
    });
  }

  /* ------------------------------------------------------------ presence & collision (ticket page) */
  function initPresence() {
    var box = document.getElementById("collision");
    var root = document.getElementById("ticket");
    if (!box || !root) return;
    var ticketId = parseInt(box.dataset.ticket, 10);
    var presenceEl = document.getElementById("presence");
    var warning = document.getElementById("collision-warning");
    var openedAt = parseInt(root.dataset.lastMessage || "0", 10);
    var state = "viewing", people = [], typingNow = {}, othersReplied = false;
    var textarea = document.getElementById("reply-text");

    function render() {
      if (!presenceEl) return;
      presenceEl.textContent = "";
      var others = people.filter(function (p) { return String(p.id) !== me; });
      if (!others.length) return;
      var label = document.createElement("span"); label.className = "presence-label"; label.textContent = box.dataset.viewing + " ";
      presenceEl.appendChild(label);
      others.forEach(function (p) {
        var chip = document.createElement("span");
        var typing = p.typing || typingNow[p.id];
        chip.className = "presence-agent" + (typing ? " typing" : "");
        chip.dataset.agent = p.id;
        chip.textContent = p.name + (typing ? " (" + box.dataset.typing + ")" : "");
        presenceEl.appendChild(chip);
      });
    }
    function announce(next) { state = next; hd.send({ type: "presence", ticket: ticketId, state: state }); }

    hd.on("_open", function () { announce(state); });
    setInterval(function () { if (hd.isOpen()) announce(state); }, (parseInt(box.dataset.heartbeat, 10) || 20) * 1000);
    window.addEventListener("pagehide", function () { hd.send({ type: "presence", ticket: ticketId, state: "left" }); });
    hd.on("presence", function (frame) { if (frame.ticket === ticketId) { people = frame.agents || []; render(); } });
    hd.on("agent_typing", function (frame) {
      if (frame.ticket !== ticketId || !frame.agent) return;
      typingNow[frame.agent.id] = !!frame.active;
      render();
    });
    var idle = null;
    if (textarea) textarea.addEventListener("input", function () {
      if (state !== "typing") announce("typing");
      clearTimeout(idle);
      idle = setTimeout(function () { announce("viewing"); }, 4000);
    });

    function noteMessage(m) {
      if (!m || m.ticket !== ticketId || m.id <= openedAt) return;
      if (m.direction === "outbound" && m.author && m.author.type === "agent" && String(m.author.id) !== me) {
        othersReplied = true;
        warning.textContent = box.dataset.replied; warning.hidden = false;
      }
    }
    hd.on("message", noteMessage);
    hd.on("watching", function (frame) { (frame.history || []).forEach(noteMessage); });
    /* Capture phase on the document runs before the composer's own submit handler. */
    document.addEventListener("submit", function (ev) {
      if (ev.target.id !== "composer" || !othersReplied) return;
      var internal = document.getElementById("reply-internal");
      if (internal && internal.checked) return;
      if (!window.confirm(box.dataset.confirm)) { ev.preventDefault(); ev.stopImmediatePropagation(); return; }
      othersReplied = false; warning.hidden = true;
    }, true);
  }

  /* ------------------------------------------------------------ SLA countdown on the ticket page */
  function initSla() {
    var panel = document.getElementById("sla-panel");
    if (!panel) return;
    hd.on("sla", function (frame) {
      if (window.helpdesk.ticketId && frame.ticket === window.helpdesk.ticketId) {
        var row = panel.querySelector('[data-target="' + frame.target + '"]');
        if (row) { row.classList.remove("sla-ok", "sla-warning"); row.classList.add(frame.event === "breached" ? "sla-breached" : "sla-warning"); }
      }
    });
  }

  /* ------------------------------------------------------------ macros, merge, split, undo */
  function initActions() {
    var card = document.getElementById("workflow-actions");
    if (!card) return;
    var ticketId = parseInt(card.dataset.ticket, 10);
    var errorEl = document.getElementById("workflow-error");
    function fail(err) { errorEl.textContent = err.message; }
    function applyMacro(id) {
      api("POST", "/api/v1/tickets/" + ticketId + "/apply-macro/", { macro: id }).then(function (data) {
        if (data.errors && data.errors.length) { errorEl.textContent = data.errors.join("; "); return; }
        location.reload();
      }, fail);
    }
    Array.prototype.forEach.call(card.querySelectorAll("[data-macro]"), function (button) {
      button.addEventListener("click", function () { applyMacro(parseInt(button.dataset.macro, 10)); });
      var key = button.dataset.shortcut;
      if (key && !hd.shortcuts[key]) hd.shortcuts[key] = function () { applyMacro(parseInt(button.dataset.macro, 10)); };
    });
    var mergeForm = document.getElementById("merge-form");
    if (mergeForm) mergeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var into = parseInt(mergeForm.elements.into.value, 10);
      api("POST", "/api/v1/tickets/" + ticketId + "/merge/", { into: into, allow_other_contact: mergeForm.elements.allow_other_contact.checked })
        .then(function (t) { location.href = "/agent/tickets/" + t.id + "/"; }, fail);
    });
    var splitForm = document.getElementById("split-form");
    if (splitForm) splitForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/tickets/" + ticketId + "/split/", { from_message: parseInt(splitForm.elements.from_message.value, 10) })
        .then(function (t) { location.href = "/agent/tickets/" + t.id + "/"; }, fail);
    });
    var undoForm = document.getElementById("undo-form");
    if (undoForm) undoForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/v1/moves/" + undoForm.dataset.move + "/undo/").then(function () { location.reload(); }, fail);
    });
  }

  /* ------------------------------------------------------------ queue: SLA column and bulk macros */
  function initQueue() {
    var rows = document.querySelectorAll("tr.ticket-row[data-ticket]");
    var bulk = document.getElementById("bulk-form");
    if (!rows.length) return;
    var ids = Array.prototype.map.call(rows, function (r) { return r.dataset.ticket; });
    api("GET", "/api/v1/sla/?tickets=" + ids.join(",")).then(function (data) {
      Array.prototype.forEach.call(rows, function (row) {
        var badge = data[row.dataset.ticket] && data[row.dataset.ticket].badge;
        if (!badge) return;
        var span = document.createElement("span");
        span.className = "sla-badge sla-" + badge.level;
        span.title = badge.due;
        span.textContent = badge.text;
        var sub = row.querySelector(".sub") || row.querySelector("td.subj");
        if (sub) sub.appendChild(span);
      });
    }, function () { /* the queue works without the SLA column */ });
    hd.on("sla", function (frame) {
      var badge = document.querySelector('tr.ticket-row[data-ticket="' + frame.ticket + '"] .sla-badge');
      if (badge) { badge.classList.remove("sla-ok", "sla-warning"); badge.classList.add(frame.event === "breached" ? "sla-breached" : "sla-warning"); }
    });
    if (!bulk) return;
    api("GET", "/api/v1/macros/").then(function (data) {
      var macros = data.results || data;
      if (!macros.length || !data.labels) return;
      var select = document.createElement("select"); select.id = "bulk-macro"; select.setAttribute("aria-label", data.labels.choose);
      var first = document.createElement("option"); first.value = ""; first.textContent = data.labels.choose; select.appendChild(first);
      macros.forEach(function (m) { var o = document.createElement("option"); o.value = m.id; o.textContent = m.name; select.appendChild(o); });
      var button = document.createElement("button"); button.type = "button"; button.id = "bulk-macro-apply"; button.textContent = data.labels.apply;
      button.addEventListener("click", function () {
        var chosen = Array.prototype.map.call(document.querySelectorAll("input[name=ticket]:checked"), function (c) { return parseInt(c.value, 10); })
          .filter(function (n) { return n > 0; });
        if (!select.value || !chosen.length) return;
        api("POST", "/api/v1/macros/" + select.value + "/apply/", { tickets: chosen }).then(function () { location.reload(); }, function (e) { window.alert(e.message); });
      });
      bulk.appendChild(select); bulk.appendChild(button);
    }, function () {});
  }

  /* ------------------------------------------------------------ notifications from automation rules */
  function initNotifications() {
    hd.on("notification", function (frame) {
      var box = document.getElementById("workflow-toasts");
      if (!box) { box = document.createElement("div"); box.id = "workflow-toasts"; box.className = "workflow-toasts"; box.setAttribute("aria-live", "polite"); document.body.appendChild(box); }
      var item = document.createElement("a");
      item.className = "workflow-toast"; item.href = "/agent/tickets/" + frame.ticket + "/";
      item.textContent = "#" + frame.ticket + " " + (frame.subject || "") + (frame.text ? " · " + frame.text : "");
      box.appendChild(item);
      setTimeout(function () { item.remove(); }, 15000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initNotifications();
    initPresence();
    initSla();
    initActions();
    initQueue();
  });
})();
