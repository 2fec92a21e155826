/* Points arriving live (CONTRACT `points` frame): a toast on every agent page. The text comes from the server,
   already translated; it is inserted with textContent. */
(function () {
  "use strict";
  if (!window.helpdesk) return;
  var timer = null;
  window.helpdesk.on("points", function (frame) {
    var toast = document.getElementById("points-toast");
    if (!toast) {
      toast = document.createElement("div");
      toast.id = "points-toast";
      toast.className = "points-toast";
      toast.setAttribute("role", "status");
      document.body.appendChild(toast);
    }
    toast.textContent = frame.message || ((frame.delta > 0 ? "+" : "") + frame.delta + " (" + frame.total + ")");
    toast.classList.toggle("negative", frame.delta < 0);
    toast.dataset.total = frame.total;
    toast.hidden = false;
    var total = document.getElementById("profile-total");
    if (total) total.textContent = frame.total;
    clearTimeout(timer);
    timer = setTimeout(function () { toast.hidden = true; }, 8000);
  });
})();
