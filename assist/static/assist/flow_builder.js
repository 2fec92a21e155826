/* Chat flow builder: edit the steps of a flow in the browser, save as a new version (JSON to the server, which
   validates). Plain JS, self-hosted; all text set with textContent / value. */
(function () {
  "use strict";

  var data, L, defn, listEl;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.indexOf("data-") === 0) node.setAttribute(k, attrs[k]);
      else node[k] = attrs[k];
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function field(label, input) {
    return el("label", { class: "assist-field" }, [el("span", { text: label }), input]);
  }

  function input(value, onChange, attrs) {
    var i = el("input", Object.assign({ value: value == null ? "" : value }, attrs || {}));
    i.addEventListener("input", function () { onChange(i.value); });
    return i;
  }

  function textarea(value, onChange, name) {
    var t = el("textarea", { value: value || "", rows: 2, "data-name": name });
    t.addEventListener("input", function () { onChange(t.value); });
    return t;
  }

  function select(options, value, onChange, name) {
    var s = el("select", { "data-name": name });
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value == null ? "" : value)) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }

  function stepChoices() {
    return [["", L.none]].concat(defn.steps.map(function (s) { return [s.id, s.id + " · " + (L.types[s.type] || s.type)]; }));
  }

  function nextSelect(step, key) {
    return field(L[key] || L.next, select(stepChoices(), step[key], function (v) { step[key] = v || null; }, key));
  }

  function uniqueId(type) {
    var n = 1, ids = defn.steps.map(function (s) { return s.id; });
    while (ids.indexOf(type + n) !== -1) n++;
    return type + n;
  }

  function renderStep(step, index) {
    var body = el("div", { class: "assist-step-body" });
    var isStart = defn.start === step.id;
    var idInput = input(step.id, function (v) {
      var old = step.id; step.id = v.trim();
      if (defn.start === old) defn.start = step.id;
      rename(old, step.id);
    }, { "data-name": "id", maxLength: 64, required: true });
    idInput.addEventListener("change", render);
    var head = el("div", { class: "assist-step-head" }, [
      el("strong", { text: L.types[step.type] || step.type }),
      field(L.id, idInput),
      isStart ? el("span", { class: "badge", text: L.start }) : el("button", { type: "button", text: L.make_start, onclick: function () { defn.start = step.id; render(); } }),
      el("button", { type: "button", class: "link", text: L.remove, "data-action": "remove", onclick: function () { defn.steps.splice(index, 1); render(); } })
    ]);
    if (step.type !== "branch") body.appendChild(field(L.text, textarea(step.text, function (v) { step.text = v; }, "text")));

    if (step.type === "message") body.appendChild(nextSelect(step, "next"));
    if (step.type === "buttons") {
      body.appendChild(field(L.variable, input(step.variable, function (v) { step.variable = v; }, { "data-name": "variable" })));
      var opts = el("div", { class: "assist-options" });
      (step.options = step.options || []).forEach(function (o, i) {
        opts.appendChild(el("div", { class: "assist-option" }, [
          field(L.label, input(o.label, function (v) { o.label = v; }, { "data-name": "option-label", maxLength: 80 })),
          field(L.next, select(stepChoices(), o.next, function (v) { o.next = v || null; }, "option-next")),
          el("button", { type: "button", class: "link", text: L.remove, onclick: function () { step.options.splice(i, 1); render(); } })
        ]));
      });
      body.appendChild(field(L.options, opts));
      body.appendChild(el("button", { type: "button", text: L.add_option, "data-action": "add-option", onclick: function () { step.options.push({ label: "", next: null }); render(); } }));
    }
    if (step.type === "ask") {
      body.appendChild(field(L.field, input(step.field, function (v) { step.field = v; }, { "data-name": "field" })));
      var validators = Object.keys(L.validators).map(function (k) { return [k, L.validators[k]]; });
      body.appendChild(field(L.validate, select(validators, step.validate || "text", function (v) { step.validate = v; render(); }, "validate")));
      if (step.validate === "regex") body.appendChild(field(L.pattern, input(step.pattern, function (v) { step.pattern = v; }, { "data-name": "pattern" })));
      body.appendChild(field(L.error, input(step.error, function (v) { step.error = v; }, { "data-name": "error" })));
      body.appendChild(nextSelect(step, "next"));
    }
    if (step.type === "kb") {
      body.appendChild(field(L.limit, input(step.limit || 3, function (v) { step.limit = parseInt(v, 10) || 3; }, { type: "number", min: 1, max: 5, "data-name": "limit" })));
      body.appendChild(nextSelect(step, "resolved"));
      body.appendChild(nextSelect(step, "unresolved"));
    }
    if (step.type === "branch") {
      var on = Object.keys(L.branch_on).map(function (k) { return [k, L.branch_on[k]]; });
      body.appendChild(field(L.on, select(on, step.on || "answer", function (v) { step.on = v; render(); }, "on")));
      step.on = step.on || "answer";
      if (step.on === "hours") {
        body.appendChild(hoursEditor(step));
        body.appendChild(nextSelect(step, "open"));
        body.appendChild(nextSelect(step, "closed"));
      } else {
        if (step.on === "answer") body.appendChild(field(L.variable, input(step.variable, function (v) { step.variable = v; }, { "data-name": "variable" })));
        else body.appendChild(field(L.attribute, input(step.attribute, function (v) { step.attribute = v; }, { "data-name": "attribute" })));
        var cases = el("div", { class: "assist-options" });
        (step.cases = step.cases || []).forEach(function (c, i) {
          cases.appendChild(el("div", { class: "assist-option" }, [
            field(L.value, input(c.value, function (v) { c.value = v; }, { "data-name": "case-value" })),
            field(L.next, select(stepChoices(), c.next, function (v) { c.next = v || null; }, "case-next")),
            el("button", { type: "button", class: "link", text: L.remove, onclick: function () { step.cases.splice(i, 1); render(); } })
          ]));
        });
        body.appendChild(field(L.cases, cases));
        body.appendChild(el("button", { type: "button", text: L.add_case, "data-action": "add-case", onclick: function () { step.cases.push({ value: "", next: null }); render(); } }));
        body.appendChild(nextSelect(step, "default"));
      }
    }
    if (step.type === "handoff") {
      var teams = [["", L.widget_team]].concat(data.teams.map(function (t) { return [t.id, t.name]; }));
      body.appendChild(field(L.team, select(teams, step.team, function (v) { step.team = v ? parseInt(v, 10) : null; }, "team")));
    }
    return el("li", { class: "assist-step assist-step-" + step.type, "data-step": step.id }, [head, body]);
  }

  /* Own opening hours for this branch; with no day ticked the widget's business hours apply. */
  function hoursEditor(step) {
    var hours = step.hours || { timezone: "Europe/Helsinki", days: {} };
    var days = hours.days || {};
    var firstSpan = days[Object.keys(days)[0]] || ["09:00", "17:00"];
    var state = { tz: hours.timezone || "Europe/Helsinki", from: firstSpan[0], to: firstSpan[1], on: Object.keys(days) };
    function sync() {
      if (!state.on.length) { delete step.hours; return; }
      var d = {}; state.on.forEach(function (k) { d[k] = [state.from, state.to]; });
      step.hours = { timezone: state.tz, days: d };
    }
    var box = el("div", { class: "assist-hours" });
    var dayBox = el("div", { class: "assist-days" });
    L.weekdays.forEach(function (name, i) {
      var cb = el("input", { type: "checkbox", checked: state.on.indexOf(String(i)) !== -1, "data-name": "day-" + i });
      cb.addEventListener("change", function () {
        state.on = state.on.filter(function (k) { return k !== String(i); });
        if (cb.checked) state.on.push(String(i));
        sync();
      });
      dayBox.appendChild(el("label", { class: "inline" }, [cb, document.createTextNode(" " + name)]));
    });
    box.appendChild(field(L.days, dayBox));
    box.appendChild(field(L.from, input(state.from, function (v) { state.from = v; sync(); }, { type: "time", "data-name": "from" })));
    box.appendChild(field(L.to, input(state.to, function (v) { state.to = v; sync(); }, { type: "time", "data-name": "to" })));
    box.appendChild(field(L.timezone, input(state.tz, function (v) { state.tz = v; sync(); }, { "data-name": "timezone" })));
    box.appendChild(el("p", { class: "muted small", text: L.hours_help }));
    return box;
  }

  function rename(oldId, newId) {
    defn.steps.forEach(function (s) {
      ["next", "resolved", "unresolved", "default", "open", "closed"].forEach(function (k) { if (s[k] === oldId) s[k] = newId; });
      (s.options || []).concat(s.cases || []).forEach(function (o) { if (o.next === oldId) o.next = newId; });
    });
  }

  function render() {
    listEl.textContent = "";
    defn.steps.forEach(function (s, i) { listEl.appendChild(renderStep(s, i)); });
  }

  function save(ev) {
    ev.preventDefault();
    var status = document.getElementById("flow-status");
    var errors = document.getElementById("flow-errors");
    errors.textContent = ""; status.textContent = L.saving;
    var widget = document.getElementById("flow-widget").value;
    var body = {
      name: document.getElementById("flow-name").value,
      widget: widget ? parseInt(widget, 10) : null,
      active: document.getElementById("flow-active").checked,
      definition: defn
    };
    var token = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
    fetch(data.save_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(token) },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) {
          status.textContent = res.body.message;
          document.getElementById("flow-version").textContent = res.body.version;
        } else {
          status.textContent = L.failed;
          (res.body.errors || []).forEach(function (e) { errors.appendChild(el("li", { text: e })); });
        }
      }).catch(function () { status.textContent = L.failed; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("flow-data");
    if (!node) return;
    data = JSON.parse(node.textContent);
    L = data.labels;
    defn = data.definition;
    listEl = document.getElementById("flow-steps");
    document.getElementById("flow-name").value = data.flow.name;
    document.getElementById("flow-active").checked = data.flow.active;
    document.getElementById("flow-version").textContent = data.flow.version;
    var widgetSel = document.getElementById("flow-widget");
    [["", "—"]].concat(data.widgets.map(function (w) { return [w.id, w.name]; })).forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(data.flow.widget == null ? "" : data.flow.widget)) opt.selected = true;
      widgetSel.appendChild(opt);
    });
    var typeSel = document.getElementById("new-step-type");
    Object.keys(L.types).forEach(function (k) { typeSel.appendChild(el("option", { value: k, text: L.types[k] })); });
    document.getElementById("add-step").addEventListener("click", function () {
      var type = typeSel.value;
      var step = { id: uniqueId(type), type: type, text: "" };
      if (type === "buttons") step.options = [{ label: "", next: null }];
      if (type === "ask") { step.field = "email"; step.validate = "email"; }
      if (type === "kb") step.limit = 3;
      if (type === "branch") { step.on = "answer"; step.cases = []; }
      defn.steps.push(step);
      if (!defn.start) defn.start = step.id;
      render();
    });
    document.getElementById("flow-form").addEventListener("submit", save);
    render();
  });
})();
