/* Agent chat workspace (/agent/chats/): every chat of the agent at once over the one /ws/agent/ socket.
   Chat list with unread counts, one pane per chat (drafts survive switching and reloads), live visitor
   drafts marked as not sent, offers with a sound and a browser notification, internal team chat.
   Plain JS; everything people wrote is inserted with textContent. */
(function () {
  "use strict";
  var rootEl = document.getElementById("chat-workspace");
  if (!rootEl || !window.helpdesk) return;
  var hd = window.helpdesk;
  var data = JSON.parse(document.getElementById("chat-data").textContent);
  var L = data.labels;
  var listEl = document.getElementById("chat-list"), offersEl = document.getElementById("offers");
  var panesEl = document.getElementById("chat-panes"), tpl = document.getElementById("chat-pane-template");
  var emptyPane = document.getElementById("empty-pane"), noChats = document.getElementById("no-chats");
  var chats = {}, active = null, pending = {};
  var DRAFTS = "hdchat.drafts." + data.user;

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function drafts() { try { return JSON.parse(sessionStorage.getItem(DRAFTS) || "{}"); } catch (e) { return {}; } }
  function saveDraft(ticket, text) { var d = drafts(); if (text) d[ticket] = text; else delete d[ticket]; sessionStorage.setItem(DRAFTS, JSON.stringify(d)); }

  /* ------------------------------------------------------------ sound and notifications */
  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "sine"; osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.frequency.setValueAtTime(660, audio.currentTime + 0.12); osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device */ }
  }
  function notify(title, body, tag) {
    beep();
    if (!("Notification" in window) || Notification.permission !== "granted" || (document.hasFocus() && !document.hidden)) return;
    try { new Notification(title, { body: body || "", tag: tag }); } catch (e) { /* ignore */ }
  }
  document.addEventListener("click", function unlock() {
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
    if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { /* ignore */ } }
    document.removeEventListener("click", unlock);
  });

  /* ------------------------------------------------------------ chat list and panes */
  function refreshEmpty() {
    var any = Object.keys(chats).length > 0;
    noChats.hidden = any; emptyPane.hidden = !!active;
  }
  function addChat(info) {
    var c = chats[info.ticket];
    if (c) { c.info = info; renderItem(c); return c; }
    var pane = tpl.content.firstElementChild.cloneNode(true);
    pane.dataset.ticket = info.ticket;
    c = chats[info.ticket] = { info: info, pane: pane, unread: 0, seen: {}, item: el("li", "chat-item") };
    c.item.dataset.ticket = info.ticket;
    c.item.appendChild(el("span", "chat-name")); c.item.appendChild(el("span", "chat-unread"));
    c.item.addEventListener("click", function () { select(info.ticket); });
    listEl.appendChild(c.item);
    var link = pane.querySelector(".chat-ticket-link"); link.href = "/agent/tickets/" + info.ticket + "/"; link.textContent = "#" + info.ticket;
    pane.querySelector(".chat-contact").textContent = info.contact_name || "";
    pane.querySelector(".chat-meta").textContent = [info.widget, info.page_url].filter(Boolean).join(" · ");
    var text = pane.querySelector(".chat-text");
    text.dataset.ticket = info.ticket; text.lang = info.language || "en";
    text.value = drafts()[info.ticket] || "";
    wireComposer(c);
    panesEl.appendChild(pane);
    renderItem(c);
    if (hd.isOpen()) hd.send({ type: "watch", ticket: info.ticket });
    refreshEmpty();
    return c;
  }
  function renderItem(c) {
    c.item.querySelector(".chat-name").textContent = (c.info.contact_name || "#" + c.info.ticket) + (c.ended ? " ✓" : "");
    var u = c.item.querySelector(".chat-unread"); u.textContent = c.unread ? String(c.unread) : ""; u.hidden = !c.unread;
    c.item.classList.toggle("active", active === c.info.ticket);
    c.item.classList.toggle("ended", !!c.ended);
  }
  function removeChat(ticket) {
    var c = chats[ticket]; if (!c) return;
    c.item.remove(); c.pane.remove(); delete chats[ticket]; saveDraft(ticket, "");
    if (active === ticket) { active = null; var first = Object.keys(chats)[0]; if (first) select(parseInt(first, 10)); }
    refreshEmpty();
  }
  function select(ticket) {
    active = ticket;
    Object.keys(chats).forEach(function (k) { var c = chats[k]; c.pane.hidden = c.info.ticket !== ticket; renderItem(c); });
    var c = chats[ticket]; if (!c) return;
    c.unread = 0; renderItem(c);
    c.pane.querySelector(".chat-text").focus();
    var tl = c.pane.querySelector(".chat-timeline"); tl.scrollTop = tl.scrollHeight;
    refreshEmpty();
  }
  function appendMessage(c, m) {
    if (c.seen[m.id]) return false;
    c.seen[m.id] = true;
    var li = el("li", "msg msg-" + m.direction + (m.author && m.author.type === "bot" ? " msg-bot" : ""));
    li.dataset.message = m.id;
    var head = el("div", "msg-head");
    head.appendChild(el("strong", "author", (m.author && m.author.name) || (m.direction === "inbound" ? c.info.contact_name : "")));
    if (m.direction === "note") head.appendChild(el("span", "badge note", L.note));
    head.appendChild(el("time", "muted", new Date(m.created_at).toLocaleTimeString()));
    li.appendChild(head); li.appendChild(el("p", "text", m.text));
    var tl = c.pane.querySelector(".chat-timeline"); tl.appendChild(li); tl.scrollTop = tl.scrollHeight;
    if (m.direction === "inbound") showDraft(c, "");
    return true;
  }
  function showDraft(c, text) {
    var box = c.pane.querySelector(".chat-draft");
    box.querySelector(".chat-draft-text").textContent = text; box.hidden = !text;
  }

  /* ------------------------------------------------------------ composer */
  function wireComposer(c) {
    var form = c.pane.querySelector(".chat-composer"), text = c.pane.querySelector(".chat-text");
    var internal = c.pane.querySelector(".chat-internal"), error = c.pane.querySelector(".composer-error");
    var ticket = c.info.ticket, typingOn = false, typingTimer = null;
    c.error = error;
    text.addEventListener("input", function () {
      saveDraft(ticket, text.value);
      if (!typingOn) { typingOn = true; hd.send({ type: "typing", ticket: ticket, active: true }); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingOn = false; hd.send({ type: "typing", ticket: ticket, active: false }); }, 3000);
    });
    text.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var value = text.value.trim(); if (!value) return;
      var clientId = hd.uuid();
      pending[clientId] = { ticket: ticket, text: value };
      hd.send({ type: "message", ticket: ticket, client_id: clientId, text: value, internal: internal.checked });
      text.value = ""; saveDraft(ticket, ""); error.textContent = ""; internal.checked = false;
      var spellBox = c.pane.querySelector(".hd-spelling"); if (spellBox) spellBox.textContent = "";
      typingOn = false; hd.send({ type: "typing", ticket: ticket, active: false });
    });
    c.pane.querySelector(".end-chat").addEventListener("click", function () {
      hd.send({ type: "end_chat", ticket: ticket, resolve: c.pane.querySelector(".end-resolve").checked });
    });
    c.pane.querySelector(".transfer-go").addEventListener("click", function () {
      var target = c.pane.querySelector(".transfer-select").value; if (!target) return;
      var parts = target.split(":"), frame = { type: "transfer", ticket: ticket, note: c.pane.querySelector(".transfer-note").value };
      frame[parts[0]] = parseInt(parts[1], 10);
      hd.send(frame);
    });
  }
  /* ------------------------------------------------------------ offers */
  function showOffer(f) {
    if (offersEl.querySelector('[data-ticket="' + f.ticket + '"]')) return;
    var li = el("li", "offer"); li.dataset.ticket = f.ticket;
    li.appendChild(el("strong", null, L.offer)); li.appendChild(el("span", "offer-who", f.contact_name || "#" + f.ticket));
    li.appendChild(el("span", "offer-preview muted small", f.preview || ""));
    var ok = el("button", "primary accept", L.accept); ok.type = "button";
    ok.addEventListener("click", function () { hd.send({ type: "accept", ticket: f.ticket }); });
    var no = el("button", "decline", L.decline); no.type = "button";
    no.addEventListener("click", function () { hd.send({ type: "decline", ticket: f.ticket }); li.remove(); });
    li.appendChild(ok); li.appendChild(no); offersEl.appendChild(li);
    notify(L.offer, (f.contact_name || "") + " " + (f.preview || ""), "offer-" + f.ticket);
  }
  function dropOffer(ticket) { var o = offersEl.querySelector('[data-ticket="' + ticket + '"]'); if (o) o.remove(); }

  /* ------------------------------------------------------------ socket events */
  hd.on("_open", function () {
    hd.send({ type: "chats" }); hd.send({ type: "rooms" });
    Object.keys(chats).forEach(function (k) { hd.send({ type: "watch", ticket: parseInt(k, 10) }); });
  });
  hd.on("chats", function (f) {
    f.chats.forEach(function (info) { if (info.status === "offered") showOffer(info); else addChat(info); });
    if (!active && Object.keys(chats).length) select(parseInt(Object.keys(chats)[0], 10));
  });
  hd.on("watching", function (f) {
    var c = chats[f.ticket]; if (!c) return;
    (f.history || []).forEach(function (m) { appendMessage(c, m); });
  });
  hd.on("message", function (m) {
    var c = chats[m.ticket]; if (!c) return;
    if (!appendMessage(c, m) || m.direction !== "inbound") return;
    if (active !== m.ticket || document.hidden) { c.unread += 1; renderItem(c); }
    notify(L.new_message + " · " + (c.info.contact_name || "#" + m.ticket), m.text, "chat-" + m.ticket);
  });
  hd.on("typing_preview", function (f) { var c = chats[f.ticket]; if (c) showDraft(c, f.text || ""); });
  hd.on("chat_offer", showOffer);
  hd.on("offer_withdrawn", function (f) { dropOffer(f.ticket); });
  hd.on("accepted", function (f) { dropOffer(f.ticket); addChat(f.chat); select(f.ticket); });
  hd.on("chat_transferred", function () { hd.send({ type: "chats" }); beep(); });
  hd.on("chat_released", function (f) { removeChat(f.ticket); });
  hd.on("transferred", function (f) { if (f.team || f.agent) removeChat(f.ticket); });
  hd.on("chat_closed", function (f) { removeChat(f.ticket); });
  hd.on("ended", function (f) {
    var c = chats[f.ticket]; if (!c || f.by !== "visitor") return;
    c.ended = true; renderItem(c);
    c.pane.querySelector(".chat-timeline").appendChild(el("li", "msg-system muted small", L.ended));
  });
  hd.on("ack", function (f) { if (pending[f.client_id]) delete pending[f.client_id]; });
  hd.on("error", function (f) {
    var p = f.client_id && pending[f.client_id], c = chats[(p && p.ticket) || f.ticket];
    if (p) { delete pending[f.client_id]; if (c) { var t = c.pane.querySelector(".chat-text"); if (!t.value) t.value = p.text; } }
    if (c && c.error) c.error.textContent = f.message;
    if (f.code === "refused" && f.ticket) dropOffer(f.ticket);
  });

  var availability = document.getElementById("availability");
  availability.value = data.availability;
  availability.addEventListener("change", function () { hd.send({ type: "availability", status: availability.value }); });
  hd.on("availability", function (f) { availability.value = f.status; });

  data.chats.forEach(function (info) { if (info.status === "offered") showOffer(info); else addChat(info); });
  if (data.chats.length) { var firstActive = data.chats.filter(function (c) { return c.status !== "offered"; })[0]; if (firstActive) select(firstActive.ticket); }
  refreshEmpty();

  /* ------------------------------------------------------------ internal chat */
  var roomList = document.getElementById("room-list"), roomPane = document.getElementById("room-pane");
  var roomMessages = document.getElementById("room-messages"), roomTitle = document.getElementById("room-title");
  var roomForm = document.getElementById("room-form"), roomText = document.getElementById("room-text");
  var rooms = {}, openRoom = null;

  function linkify(parent, text) {
    var re = /(^|[^\w&])#(\d{1,10})\b/g, last = 0, m;
    while ((m = re.exec(text))) {
      var start = m.index + m[1].length;
      parent.appendChild(document.createTextNode(text.slice(last, start)));
      var a = el("a", "ticket-link", "#" + m[2]); a.href = "/agent/tickets/" + m[2] + "/"; parent.appendChild(a);
      last = start + m[2].length + 1;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  function renderRoom(r) {
    var li = rooms[r.id] && rooms[r.id].li;
    if (!li) {
      li = el("li", "room-item"); li.dataset.room = r.id;
      li.appendChild(el("span", "room-name")); li.appendChild(el("span", "chat-unread"));
      li.addEventListener("click", function () { showRoom(r.id); });
      roomList.appendChild(li);
    }
    rooms[r.id] = { info: r, li: li };
    li.querySelector(".room-name").textContent = (r.kind === "team" ? "# " : "@ ") + r.name;
    var u = li.querySelector(".chat-unread"); u.textContent = r.unread ? String(r.unread) : ""; u.hidden = !r.unread;
    li.classList.toggle("active", openRoom === r.id);
  }
  function showRoom(id) {
    openRoom = id; roomPane.hidden = false; roomMessages.textContent = "";
    roomTitle.textContent = rooms[id].info.name;
    rooms[id].info.unread = 0; Object.keys(rooms).forEach(function (k) { renderRoom(rooms[k].info); });
    hd.send({ type: "internal_history", room: id });
  }
  function appendInternal(m) {
    if (roomMessages.querySelector('[data-id="' + m.id + '"]')) return;
    var li = el("li", "internal-msg"); li.dataset.id = m.id;
    li.appendChild(el("strong", null, m.author.name + ": "));
    var span = el("span"); linkify(span, m.text); li.appendChild(span);
    roomMessages.appendChild(li); roomMessages.scrollTop = roomMessages.scrollHeight;
  }
  hd.on("rooms", function (f) { f.rooms.forEach(renderRoom); });
  hd.on("room", function (f) { renderRoom(f.room); showRoom(f.room.id); });
  hd.on("internal_history", function (f) { if (f.room === openRoom) f.messages.forEach(appendInternal); });
  hd.on("internal", function (m) {
    var r = rooms[m.room];
    if (!r) { hd.send({ type: "rooms" }); }
    if (m.room === openRoom) { appendInternal(m); hd.send({ type: "internal_read", room: m.room, id: m.id }); return; }
    if (r && String(m.author.id) !== String(data.user)) { r.info.unread += 1; renderRoom(r.info); beep(); }
  });
  roomForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = roomText.value.trim(); if (!text || openRoom == null) return;
    hd.send({ type: "internal", room: openRoom, client_id: hd.uuid(), text: text }); roomText.value = "";
  });
  roomText.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); roomForm.requestSubmit(); } });
  document.getElementById("dm-agent").addEventListener("change", function (ev) {
    if (ev.target.value) hd.send({ type: "internal_open", agent: parseInt(ev.target.value, 10) });
    ev.target.value = "";
  });
})();
