/* The leaderboard page: re-fetches the board from the API whenever points arrive for anyone. */
(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  if (!table || !window.helpdesk) return;
  var body = document.getElementById("leaderboard-body");
  var pending = null;

  function cell(tr, cls, text) {
    var td = document.createElement("td");
    td.className = cls;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function render(results) {
    var before = {};
    body.querySelectorAll("tr[data-agent]").forEach(function (tr) { before[tr.dataset.agent] = tr.querySelector(".points").textContent; });
    var frag = document.createDocumentFragment();
    results.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.dataset.agent = row.agent.id;
      if (String(row.agent.id) === table.dataset.me) tr.classList.add("me");
      if (before[row.agent.id] !== undefined && before[row.agent.id] !== String(row.points)) tr.classList.add("flash");
      cell(tr, "rank", String(row.rank));
      var a = document.createElement("a");
      a.href = "/agent/profile/" + row.agent.id + "/";
      a.textContent = row.agent.name;
      cell(tr, "name").appendChild(a);
      cell(tr, "points", String(row.points));
      cell(tr, "level", row.level || "");
      var badges = cell(tr, "badges");
      row.badges.forEach(function (b) {
        var s = document.createElement("span");
        s.className = "badge"; s.title = b.name; s.textContent = b.name;
        badges.appendChild(s);
      });
      frag.appendChild(tr);
    });
    if (!results.length) return;
    body.replaceChildren(frag);
    var note = document.getElementById("leaderboard-updated");
    if (note) note.hidden = false;
  }
  function refresh() {
    pending = null;
    var q = "?period=" + encodeURIComponent(table.dataset.period) + (table.dataset.team ? "&team=" + encodeURIComponent(table.dataset.team) : "");
    fetch("/api/v1/leaderboard/" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data.results); });
  }
  function soon() { if (!pending) pending = setTimeout(refresh, 150); }
  window.helpdesk.on("leaderboard", soon);
  window.helpdesk.on("points", soon);
  window.helpdesk.on("_open", soon); /* catch up after a reconnect */
})();
