/* Agent workspace: one websocket per browser tab (/ws/agent/), live queue, live ticket, keyboard shortcuts.
   Plain JS, no framework. Everything a customer wrote is inserted with textContent: it stays inert. */
(function () {
  "use strict";

  var listeners = {};
  var socket = null;
  var backoff = 500;
  var queueOut = [];
  var LAST_KEY = "helpdesk.lastMessageId";
  var statusEl = document.getElementById("live-status");

  function on(type, fn) { (listeners[type] = listeners[type] || []).push(fn); }
  function emit(frame) {
    (listeners[frame.type] || []).concat(listeners["*"] || []).forEach(function (fn) {
      try { fn(frame); } catch (e) { console.error(e); }
    });
  }
  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    queueOut.push(frame);
    return false;
  }
  function isOpen() { return !!socket && socket.readyState === 1; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function lastSeen() { return parseInt(localStorage.getItem(LAST_KEY) || "0", 10) || 0; }
  function noteSeen(id) { if (id > lastSeen()) localStorage.setItem(LAST_KEY, String(id)); }

  function setStatus(live) {
    if (!statusEl) return;
    statusEl.textContent = live ? statusEl.dataset.online : statusEl.dataset.offline;
    statusEl.classList.toggle("live", live);
  }

  function connect() {
    if (!document.body.dataset.user) return;
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + "/ws/agent/");
    socket.onopen = function () {
      backoff = 500;
      setStatus(true);
      document.body.dataset.socket = "open";
      emit({ type: "_open" });
      var pending = queueOut; queueOut = [];
      pending.forEach(send);
      if (lastSeen()) send({ type: "resume", after: lastSeen() });
    };
    socket.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame.type === "message" && frame.id) noteSeen(frame.id);
      emit(frame);
    };
    socket.onclose = function (ev) {
      setStatus(false);
      document.body.dataset.socket = "closed";
      if (ev.code === 4401 || ev.code === 4403) { location.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname); return; }
      setTimeout(connect, backoff + Math.random() * 300);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  function labels() {
    var el = document.getElementById("hd-labels");
    return el ? JSON.parse(el.textContent) : { status: {}, priority: {}, channel: {} };
  }

  /* ---------------------------------------------------------------- queue page */
  function initQueue() {
    var table = document.getElementById("queue-table");
    if (!table) return;
    var body = document.getElementById("queue-body");
    var tpl = document.getElementById("row-template");
    var L = labels();
    var f = table.dataset;
    var active = ["new", "open", "pending"];

    function matches(t) {
      var statuses = f.status === "all" ? null : (f.status ? f.status.split(",") : active);
      if (statuses && statuses.indexOf(t.status) < 0) return false;
      if (f.channel && t.channel !== f.channel) return false;
      if (f.team && String(t.team) !== f.team) return false;
      if (f.assignee === "me" && String(t.assignee) !== document.body.dataset.user) return false;
      if (f.assignee === "none" && t.assignee) return false;
      if (f.assignee && /^\d+$/.test(f.assignee) && String(t.assignee) !== f.assignee) return false;
      if (f.tag && (t.tags || []).indexOf(f.tag) < 0) return false;
      if (f.q) return false; /* searches are not live */
      if (t.merged_into) return false;
      return true;
    }
    function fill(row, t) {
      row.dataset.ticket = t.id;
      row.dataset.href = "/agent/tickets/" + t.id + "/";
      row.querySelector("input").value = t.id;
      var ch = row.querySelector(".ch");
      ch.className = "ch ch-" + t.channel; ch.title = L.channel[t.channel] || t.channel; ch.dataset.channel = t.channel;
      var a = row.querySelector(".subj a"); a.href = row.dataset.href;
      row.querySelector(".tid").textContent = "#" + t.id;
      row.querySelector(".subject-text").textContent = t.subject || L.no_subject;
      row.querySelector(".contact-name").textContent = t.contact_name || "";
      var st = row.querySelector(".status"); st.className = "status status-" + t.status; st.textContent = L.status[t.status] || t.status;
      var pr = row.querySelector(".prio"); pr.className = "prio prio-" + t.priority; pr.textContent = L.priority[t.priority] || t.priority;
      var team = row.querySelector("td.team"); if (team) team.textContent = t.team_name || "—";
      row.querySelector(".assignee").textContent = t.assignee_name || "—";
      var time = row.querySelector("time"); time.dateTime = t.last_message_at; time.textContent = L.just_now;
      row.classList.toggle("unread", !!t.unread);
    }
    on("ticket", function (frame) {
      var t = frame.ticket;
      var existing = body.querySelector('tr[data-ticket="' + t.id + '"]');
      if (!matches(t)) { if (existing) existing.remove(); return; }
      if (f.page && f.page !== "1" && !existing) return;
      var row = existing;
      if (!row) {
        row = tpl.content.firstElementChild.cloneNode(true);
        var empty = body.querySelector("tr.empty"); if (empty) empty.remove();
      } else if (!row.querySelector("td.team")) {
        var tds = row.querySelectorAll("td"); if (tds[5]) tds[5].classList.add("team");
      }
      fill(row, t);
      if (!f.ordering || f.ordering === "-last_message_at") body.insertBefore(row, body.firstChild);
      row.classList.add("flash-row");
      setTimeout(function () { row.classList.remove("flash-row"); }, 2000);
      notify(frame.event === "created" ? "new-ticket" : "update", t);
    });
    /* After a dropped connection, events may have been missed: refresh the rows from the server. */
    var connectedOnce = false;
    on("_open", function () {
      if (!connectedOnce) { connectedOnce = true; return; }
      fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue-body");
        if (fresh) body.replaceChildren.apply(body, Array.prototype.slice.call(fresh.children));
      });
    });
    initQueueKeys(body);
  }

  function initQueueKeys(body) {
    var index = -1;
    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr.ticket-row")); }
    function select(i) {
      var list = rows(); if (!list.length) return;
      index = Math.max(0, Math.min(i, list.length - 1));
      list.forEach(function (r) { r.classList.remove("selected"); });
      list[index].classList.add("selected");
      list[index].scrollIntoView({ block: "nearest" });
    }
    shortcuts.j = function () { select(index + 1); };
    shortcuts.k = function () { select(index - 1); };
    shortcuts.n = function () { select(index + 1); open(); };
    function open() { var r = rows()[index < 0 ? 0 : index]; if (r) location.href = r.dataset.href; }
    shortcuts.o = open; shortcuts.Enter = open;
    shortcuts["/"] = function () { var q = document.getElementById("q"); if (q) q.focus(); };
    body.addEventListener("click", function (ev) {
      var row = ev.target.closest("tr.ticket-row");
      if (row && !ev.target.closest("a,input,button")) location.href = row.dataset.href;
    });
  }

  /* ---------------------------------------------------------------- ticket page */
  function initTicket() {
    var root = document.getElementById("ticket");
    if (!root) return;
    var ticketId = parseInt(root.dataset.ticket, 10);
    var timeline = document.getElementById("timeline");
    var preview = document.getElementById("typing-preview");
    var previewText = document.getElementById("typing-text");
    var composer = document.getElementById("composer");
    var textarea = document.getElementById("reply-text");
    var internal = document.getElementById("reply-internal");
    var errorEl = document.getElementById("composer-error");
    var agentTyping = document.getElementById("agent-typing");
    var pendingAcks = {};

    on("_open", function () { send({ type: "watch", ticket: ticketId }); });

    function appendMessage(m) {
      if (m.ticket !== ticketId || document.getElementById("m" + m.id)) {
        var old = document.getElementById("m" + m.id);
        if (old && m.delivery_status) {
          var d = old.querySelector(".delivery"); if (d) { d.className = "delivery delivery-" + m.delivery_status; d.textContent = m.delivery_status; d.title = m.error || ""; }
        }
        return;
      }
      var li = document.createElement("li");
      li.className = "msg msg-" + m.direction + (m.author && m.author.type === "bot" ? " msg-bot" : "") + " new-msg";
      li.id = "m" + m.id; li.dataset.message = m.id;
      var head = document.createElement("div"); head.className = "msg-head";
      var ch = document.createElement("span"); ch.className = "ch ch-" + m.channel; ch.dataset.channel = m.channel; head.appendChild(ch);
      var who = document.createElement("strong"); who.className = "author"; who.textContent = " " + ((m.author && m.author.name) || ""); head.appendChild(who);
      if (m.direction === "note") { var b = document.createElement("span"); b.className = "badge note"; b.textContent = "note"; head.appendChild(b); }
      if (m.direction === "outbound") { var dl = document.createElement("span"); dl.className = "delivery delivery-" + m.delivery_status; dl.textContent = m.delivery_status; head.appendChild(dl); }
      var time = document.createElement("time"); time.className = "muted"; time.dateTime = m.created_at; time.textContent = new Date(m.created_at).toLocaleString(); head.appendChild(time);
      var body = document.createElement("div"); body.className = "msg-body";
      var p = document.createElement("p"); p.className = "text"; p.textContent = m.text; body.appendChild(p);
      li.appendChild(head); li.appendChild(body);
      (m.attachments || []).forEach(function (a) {
        var link = document.createElement("a"); link.href = a.url; link.textContent = a.filename; link.className = "attachment-link"; li.appendChild(link);
      });
      timeline.appendChild(li);
      li.scrollIntoView({ block: "end" });
      if (m.direction === "inbound") { preview.hidden = true; previewText.textContent = ""; }
    }

    on("watching", function (frame) {
      if (frame.ticket !== ticketId) return;
      (frame.history || []).forEach(appendMessage);
    });
    on("message", function (m) {
      if (m.ticket !== ticketId) return;
      appendMessage(m);
      emit({ type: "_timeline", message: m });
    });
    on("typing_preview", function (frame) {
      if (frame.ticket !== ticketId) return;
      var text = frame.text || "";
      previewText.textContent = text;
      preview.hidden = !text;
    });
    on("agent_typing", function (frame) {
      if (frame.ticket !== ticketId || !frame.agent || String(frame.agent.id) === document.body.dataset.user) return;
      agentTyping.hidden = !frame.active;
      agentTyping.textContent = frame.active ? frame.agent.name + " …" : "";
    });
    on("ack", function (frame) {
      if (!pendingAcks[frame.client_id]) return;
      delete pendingAcks[frame.client_id];
      textarea.value = ""; errorEl.textContent = "";
      textarea.disabled = false;
    });
    on("error", function (frame) {
      if (frame.client_id && pendingAcks[frame.client_id]) { delete pendingAcks[frame.client_id]; textarea.disabled = false; }
      if (frame.ticket === ticketId || frame.client_id) errorEl.textContent = frame.message;
    });
    on("ticket", function (frame) {
      var t = frame.ticket; if (t.id !== ticketId) return;
      var st = document.getElementById("ticket-status"); st.className = "status status-" + t.status; st.textContent = t.status;
    });

    var typingTimer = null, typingActive = false;
    textarea.addEventListener("input", function () {
      if (!typingActive) { typingActive = true; send({ type: "typing", ticket: ticketId, active: true }); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingActive = false; send({ type: "typing", ticket: ticketId, active: false }); }, 3000);
    });
    composer.addEventListener("submit", function (ev) {
      var text = textarea.value.trim();
      if (!text) { ev.preventDefault(); return; }
      if (!isOpen()) { document.getElementById("client-id").value = uuid(); return; } /* plain form POST */
      ev.preventDefault();
      var clientId = uuid();
      pendingAcks[clientId] = true;
      textarea.disabled = true;
      send({ type: "message", ticket: ticketId, client_id: clientId, text: text, internal: internal.checked });
      typingActive = false; send({ type: "typing", ticket: ticketId, active: false });
    });
    textarea.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); composer.requestSubmit(); }
    });
    shortcuts.r = function () { textarea.focus(); };
    shortcuts.c = function () { document.getElementById("resolve-form").submit(); };
    shortcuts.n = function () { location.href = "/agent/"; };
    window.helpdesk.ticketId = ticketId;
    window.helpdesk.composer = textarea;
  }

  /* ---------------------------------------------------------------- notifications & shortcuts */
  function notify(kind, t) {
    if (document.hasFocus() || !("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification("#" + t.id + " " + (t.subject || ""), { tag: "ticket-" + t.id }); } catch (e) { /* ignore */ }
  }

  var shortcuts = {};
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "?") { var h = document.getElementById("shortcut-help"); h.hidden = !h.hidden; return; }
    var fn = shortcuts[ev.key];
    if (fn) { ev.preventDefault(); fn(); }
  });

  window.helpdesk = { on: on, send: send, isOpen: isOpen, uuid: uuid, shortcuts: shortcuts };
  document.addEventListener("DOMContentLoaded", function () {
    initQueue();
    initTicket();
    connect();
    if ("Notification" in window && Notification.permission === "default") {
      document.addEventListener("click", function ask() { Notification.requestPermission(); document.removeEventListener("click", ask); });
    }
  });
})();
