/* helpdesk chat widget. Paste on any page:
     <script src="https://support.example.com/widget.js" data-widget="PUBLIC_KEY" async></script>
   Optional signed identity of a logged-in customer (computed on the site's server with the widget secret):
     data-identity-payload='{"email":"ann@example.com","name":"Ann"}' data-identity-signature="<hex HMAC-SHA256>"
   Plain JS, no framework, no inline styles (a stylesheet from our host inside a shadow root). Every string
   shown comes from the server's `welcome` frame, translated. Everything people typed is set with textContent. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget]");
  if (!script || window.__helpdeskWidget) return;
  window.__helpdeskWidget = true;
  var key = script.getAttribute("data-widget");
  var base = new URL(script.src, location.href).origin;
  var wsBase = base.replace(/^http/, "ws");
  var TOKEN = "hdchat." + key + ".visitor", OUTBOX = "hdchat." + key + ".outbox", OPEN = "hdchat." + key + ".open";
  var S = {}, ws = null, backoff = 500, seen = {}, lastId = 0, status = "new", sessionOpen = true;
  var draftSent = "", typingTimer = null, suggestTimer = null, sentCount = 0, typingEvery = 500;
  var opened = null, deflectionSent = false, welcomed = false, stopped = false, sessionId = null;
  var chips = null, laterExtras = {}, offlineShown = false;

  function store(k, v) { try { if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  function load(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }
  function outbox() { try { return JSON.parse(load(OUTBOX) || "[]"); } catch (e) { return []; } }
  function saveOutbox(items) { store(OUTBOX, items.length ? JSON.stringify(items) : null); }
  function uuid() { return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : "w" + Date.now().toString(36) + Math.random().toString(36).slice(2); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function fmt(s, values) { return String(s || "").replace(/%\((\w+)\)s/g, function (_m, k) { return values[k] == null ? "" : values[k]; }); }

  /* ------------------------------------------------------------ DOM (inside a shadow root) */
  var host = el("div"); host.id = "helpdesk-chat";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link"); css.rel = "stylesheet"; css.href = base + "/static/chat/widget.css"; root.appendChild(css);
  var launcher = el("button", "hd-launcher"); launcher.type = "button"; launcher.setAttribute("aria-expanded", "false");
  launcher.appendChild(el("span", "hd-bubble")); /* drawn in CSS: an emoji glyph is missing where no emoji font is installed */
  var panel = el("section", "hd-panel"); panel.hidden = true; panel.setAttribute("role", "dialog");
  var head = el("header", "hd-head"), title = el("strong", "hd-title"), closeBtn = el("button", "hd-close", "×"); closeBtn.type = "button";
  head.appendChild(title); head.appendChild(closeBtn);
  var note = el("div", "hd-note"); note.setAttribute("aria-live", "polite");
  var log = el("ol", "hd-log"); log.setAttribute("aria-live", "polite");
  var typingEl = el("div", "hd-agent-typing"); typingEl.hidden = true;
  var suggestEl = el("div", "hd-suggest"); suggestEl.hidden = true;
  var form = el("form", "hd-composer"), input = el("textarea", "hd-input"), sendBtn = el("button", "hd-send");
  input.rows = 2; input.maxLength = 10000; input.setAttribute("spellcheck", "true"); sendBtn.type = "submit";
  form.appendChild(input); form.appendChild(sendBtn);
  var foot = el("div", "hd-foot"), endBtn = el("button", "hd-end link"); endBtn.type = "button"; foot.appendChild(endBtn);
  var extra = el("div", "hd-extra");
  [head, note, log, typingEl, suggestEl, extra, form, foot].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher); root.appendChild(panel);

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  function applyStrings(w) {
    title.textContent = w.name || S.title; launcher.setAttribute("aria-label", S.open); closeBtn.setAttribute("aria-label", S.close);
    input.placeholder = S.placeholder; sendBtn.textContent = S.send; endBtn.textContent = S.end;
    host.style.setProperty("--hd-accent", w.colour || "#2563eb"); host.style.setProperty("--hd-on-accent", w.text_colour || "#fff");
  }
  function setNote(text) { note.textContent = text || ""; note.hidden = !text; }
  function togglePanel(show) {
    panel.hidden = !show; launcher.setAttribute("aria-expanded", String(show)); store(OPEN, show ? "1" : null);
    if (show) { input.focus(); log.scrollTop = log.scrollHeight; } else { maybeDeflected(); }
  }
  launcher.addEventListener("click", function () { togglePanel(panel.hidden); });
  closeBtn.addEventListener("click", function () { togglePanel(false); });

  /* ------------------------------------------------------------ messages */
  function render(m, pending) {
    if (m.id && seen[m.id]) return;
    var li = (m.client_id && root.querySelector('[data-client="' + m.client_id + '"]')) || null;
    if (!li) {
      li = el("li", "hd-msg hd-" + (m.author || "visitor"));
      if (m.author && m.author !== "visitor") li.appendChild(el("span", "hd-who", m.name || (m.author === "bot" ? S.bot : S.agent)));
      li.appendChild(el("p", "hd-text", m.text));
      answered(); log.appendChild(li);
    }
    li.dataset.id = m.id || ""; if (m.client_id) li.dataset.client = m.client_id;
    if (m.id) botExtras(li, laterExtras[m.id] || m);
    li.classList.toggle("hd-pending", !!pending);
    if (m.id) { seen[m.id] = true; lastId = Math.max(lastId, m.id); }
    log.scrollTop = log.scrollHeight;
    if (m.author === "agent" || m.author === "bot") { typingEl.hidden = true; if (panel.hidden) launcher.classList.add("hd-unread"); }
  }
  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }
  function sendMessage(text) {
    var m = { client_id: uuid(), text: text, author: "visitor" };
    var items = outbox(); items.push({ client_id: m.client_id, text: text }); saveOutbox(items);
    render(m, true); sentCount += 1; suggestEl.hidden = true;
    send({ type: "message", client_id: m.client_id, text: text });
    draftSent = ""; send({ type: "typing", text: "" });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim(); if (!text) return;
    input.value = ""; sendMessage(text);
  });
  input.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); } });
  input.addEventListener("input", function () {
    /* throttled: at most one draft per 500 ms (longer when the server asks), and always the latest one */
    if (!typingTimer) {
      flushDraft();
      typingTimer = setTimeout(function () { typingTimer = null; flushDraft(); }, typingEvery);
    }
    if (!sentCount && status === "new") { clearTimeout(suggestTimer); suggestTimer = setTimeout(suggest, 600); }
  });
  function flushDraft() { var d = input.value; if (d !== draftSent) { draftSent = d; send({ type: "typing", text: d }); } }

  /* ------------------------------------------------------------ a chat flow's buttons and articles */
  function answered() { if (chips) { chips.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); chips = null; } }
  function botExtras(li, m) {
    var buttons = m.buttons || m.options || [], articles = m.articles || [];
    if (li.dataset.extras || (!buttons.length && !articles.length)) return;
    li.dataset.extras = "1";
    /* the text lists the same options numbered ("1. Billing") for channels without buttons: not twice here */
    var drop = {}, p = li.querySelector(".hd-text");
    buttons.forEach(function (o, i) { drop[(i + 1) + ". " + o.label] = true; });
    articles.forEach(function (a, i) { drop[(i + 1) + ". " + a.title + " \u2014 " + a.url] = true; });
    if (p) p.textContent = p.textContent.split("\n").filter(function (line) { return !drop[line]; }).join("\n");
    articles.forEach(function (a) {
      var url = new URL(a.url, base); if (!/^https?:$/.test(url.protocol)) return;
      var link = el("a", "hd-article", a.title); link.href = url.href; link.target = "_blank"; link.rel = "noopener"; li.appendChild(link);
    });
    if (!buttons.length) return;
    var box = el("div", "hd-chips");
    buttons.forEach(function (o) {
      var b = el("button", "hd-chip", o.label); b.type = "button";
      b.addEventListener("click", function () { b.classList.add("hd-chosen"); sendMessage(o.label); });
      box.appendChild(b);
    });
    li.appendChild(box);
    if (li === log.lastElementChild) { answered(); chips = box; } else box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }
  function buttonsFrame(f) {
    var li = root.querySelector('[data-id="' + Number(f.message) + '"]');
    if (li) botExtras(li, f); else laterExtras[f.message] = f;
  }

  /* ------------------------------------------------------------ knowledge base suggestions */
  function suggest() {
    var q = input.value.trim(); if (q.length < 8 || sentCount) return;
    fetch(base + "/kb/suggest/?q=" + encodeURIComponent(q) + "&lang=" + encodeURIComponent(S._lang || "en"), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        var results = (data && data.results) || []; suggestEl.textContent = "";
        if (!results.length || sentCount) { suggestEl.hidden = true; return; }
        suggestEl.appendChild(el("p", "hd-suggest-title", S.suggested));
        results.slice(0, 3).forEach(function (a) {
          var link = el("a", "hd-article", a.title); link.href = new URL(a.url, base).href; link.target = "_blank"; link.rel = "noopener";
          link.addEventListener("click", function () { opened = a.id; sentCount = 0; });
          suggestEl.appendChild(link);
          if (a.snippet) suggestEl.appendChild(el("span", "hd-snippet", new DOMParser().parseFromString(a.snippet, "text/html").body.textContent));
        });
        suggestEl.hidden = false;
      }).catch(function () { suggestEl.hidden = true; });
  }
  function maybeDeflected() {
    if (opened == null || deflectionSent || sentCount) return;
    deflectionSent = true;
    fetch(base + "/kb/deflected/", { method: "POST", credentials: "omit", keepalive: true, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ article: opened, widget: key, visitor: sessionId ? "session-" + sessionId : "" }) })
      .catch(function () { /* the knowledge app may not be there: nothing to do */ });
  }

  /* ------------------------------------------------------------ small forms */
  function field(labelText, type, name) {
    var label = el("label", "hd-field"); label.appendChild(el("span", null, labelText));
    var f = el(type === "textarea" ? "textarea" : "input"); if (type !== "textarea") f.type = type; f.name = name; f.required = name !== "name";
    label.appendChild(f); return label;
  }
  function miniForm(intro, fields, button, onSubmit) {
    extra.textContent = "";
    var f = el("form", "hd-form"); if (intro) f.appendChild(el("p", null, intro));
    fields.forEach(function (x) { f.appendChild(field(x[0], x[1], x[2])); });
    var b = el("button", "hd-primary", button); b.type = "submit"; f.appendChild(b);
    f.addEventListener("submit", function (ev) { ev.preventDefault(); onSubmit(f.elements, f); });
    extra.appendChild(f); return f;
  }
  function showPrechat() {
    form.hidden = true;
    miniForm(S.prechat_intro, [[S.name, "text", "name"], [S.email, "email", "email"]], S.start, function (els) {
      send({ type: "prechat", name: els.name.value, email: els.email.value });
    });
  }
  function showOffline() {
    if (offlineShown && extra.firstChild) return; /* the visitor may be filling it in */
    offlineShown = true; form.hidden = true; foot.hidden = true; setNote("");
    miniForm(S.offline_intro, [[S.name, "text", "name"], [S.email, "email", "email"], [S.message, "textarea", "text"]], S.send, function (els) {
      send({ type: "offline", client_id: uuid(), name: els.name.value, email: els.email.value, text: els.text.value });
    });
  }
  function backToChat() { if (offlineShown) { offlineShown = false; extra.textContent = ""; form.hidden = false; foot.hidden = false; } }
  function showEnded() {
    sessionOpen = false; form.hidden = true; foot.hidden = true; typingEl.hidden = true; setNote(S.ended);
    var f = miniForm("", [[S.email, "email", "email"]], S.transcript, function (els) { send({ type: "transcript", email: els.email.value }); });
    var again = el("button", "hd-link", S.new_chat); again.type = "button";
    again.addEventListener("click", function () { restart(); });
    f.appendChild(again);
  }
  function showSurvey(url) {
    var box = el("form", "hd-survey"); box.appendChild(el("p", "hd-survey-title", S.survey_title));
    var stars = el("div", "hd-stars");
    for (var i = 1; i <= 5; i++) {
      var l = el("label", "hd-star"); var r = el("input"); r.type = "radio"; r.name = "rating"; r.value = String(i); r.required = true;
      l.appendChild(r); l.appendChild(el("span", null, String(i))); stars.appendChild(l);
    }
    box.appendChild(stars);
    var c = el("textarea", "hd-comment"); c.name = "comment"; c.rows = 2; c.maxLength = 2000; c.placeholder = S.survey_comment; box.appendChild(c);
    var b = el("button", "hd-primary", S.survey_send); b.type = "submit"; box.appendChild(b);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var picked = box.querySelector("input[name=rating]:checked"); if (!picked) return;
      b.disabled = true;
      fetch(new URL(url, base).href, { method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rating: parseInt(picked.value, 10), comment: c.value }) })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); box.textContent = ""; box.appendChild(el("p", "hd-thanks", S.survey_thanks)); })
        .catch(function () { b.disabled = false; box.appendChild(el("p", "hd-error", S.error)); });
    });
    log.appendChild(el("li", "hd-msg hd-system")).appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  /* ------------------------------------------------------------ socket */
  function restart() {
    seen = {}; lastId = 0; log.textContent = ""; extra.textContent = ""; sentCount = 0; opened = null; deflectionSent = false;
    chips = null; laterExtras = {}; offlineShown = false;
    form.hidden = false; foot.hidden = false; sessionOpen = true; setNote("");
    if (ws) ws.close(1000); else connect();
  }
  function connect() {
    if (stopped) return;
    ws = new WebSocket(wsBase + "/ws/visitor/?widget=" + encodeURIComponent(key));
    ws.onopen = function () {
      send({ type: "hello", visitor: load(TOKEN), page_url: location.href, referrer: document.referrer, locale: navigator.language });
    };
    ws.onmessage = function (ev) { var f; try { f = JSON.parse(ev.data); } catch (e) { return; } handle(f); };
    ws.onclose = function (ev) {
      ws = null; welcomed = false;
      if (ev.code === 4404) { stopped = true; host.remove(); return; }
      if (ev.code === 4403) { store(TOKEN, null); saveOutbox([]); backoff = 200; }
      else if (S.reconnecting) setNote(S.reconnecting);
      setTimeout(connect, backoff + Math.random() * 400);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  function handle(f) {
    switch (f.type) {
      case "welcome":
        S = f.strings || {}; S._lang = f.lang; welcomed = true; backoff = 500; status = f.status; sessionId = f.session;
        store(TOKEN, f.visitor); applyStrings(f.widget || {}); setNote("");
        if (!log.childNodes.length && f.widget && f.widget.greeting) log.appendChild(el("li", "hd-msg hd-greeting", f.widget.greeting));
        (f.history || []).forEach(function (m) { render(m); });
        outbox().forEach(function (m) { render({ client_id: m.client_id, text: m.text, author: "visitor" }, true); send({ type: "message", client_id: m.client_id, text: m.text }); });
        if (f.history && f.history.length) sentCount = Math.max(sentCount, 1);
        var ident = script.getAttribute("data-identity-payload");
        if (ident) send({ type: "identify", payload: ident, signature: script.getAttribute("data-identity-signature") || "" });
        /* nobody online: the offline form, unless a chat flow (bot) answers first; also for a chat waiting in line */
        if (!f.open && ((status === "new" && !f.bot && !(f.history || []).length) || status === "waiting" || status === "queued")) showOffline();
        else if (!f.prechat_done && !(f.history || []).length) showPrechat();
        else { offlineShown = false; form.hidden = false; foot.hidden = false; extra.textContent = ""; }
        if (load(OPEN)) togglePanel(true);
        break;
      case "ack":
        var items = outbox().filter(function (m) { return m.client_id !== f.client_id; }); saveOutbox(items);
        render({ id: f.id, client_id: f.client_id, author: "visitor" }, false);
        if (status === "new") status = "waiting";
        break;
      case "message": render(f); break;
      case "buttons": buttonsFrame(f); break;
      case "typing_interval": typingEvery = Math.max(500, Math.min(5000, (f.seconds || 0.5) * 1000)); break;
      case "agent_typing": typingEl.textContent = S.agent_typing; typingEl.hidden = !f.active; break;
      case "queue":
        status = "queued";
        if (f.online === false) { showOffline(); break; } /* nobody of the team is online: waiting would be forever */
        backToChat(); setNote(f.status === "offered" ? S.waiting : fmt(S.queue, { position: f.position })); break;
      case "assigned": status = "active"; backToChat(); setNote(f.agent ? fmt(S.assigned, { agent: f.agent }) : S.waiting); break;
      case "ended": status = "ended"; showEnded(); break;
      case "survey": showSurvey(f.url); break;
      case "prechat_saved": extra.textContent = ""; form.hidden = false; input.focus(); break;
      case "offline_received": extra.textContent = ""; setNote(S.offline_sent); break;
      case "transcript_sent": setNote(S.transcript_sent); break;
      case "error":
        if (f.code === "rate_limited" && f.client_id) {
          setTimeout(function () { var m = outbox().filter(function (x) { return x.client_id === f.client_id; })[0]; if (m) send({ type: "message", client_id: m.client_id, text: m.text }); }, 3000);
          setNote(S.failed);
        } else if (f.code === "refused" || f.code === "invalid" || f.code === "too_large") {
          if (f.client_id) saveOutbox(outbox().filter(function (x) { return x.client_id !== f.client_id; }));
          setNote(f.message || S.error);
        }
        break;
    }
  }
  endBtn.addEventListener("click", function () { maybeDeflected(); if (sessionOpen) send({ type: "end" }); });
  window.helpdeskChat = { open: function () { togglePanel(true); }, close: function () { togglePanel(false); }, isWelcomed: function () { return welcomed; } };
  connect();
})();
