// The bell in the nav: a new notification for this person (their own Socket.IO room) refreshes the unread count.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const bell = document.getElementById("bell");
    const live = window.helpdeskLive;
    if (!bell || !live) return;
    const count = document.getElementById("bell-count");
    live.on("notification.created", () => {
      fetch(bell.dataset.url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((a) => {
        if (!a) return;
        count.textContent = String(a.unread);
        count.hidden = !a.unread;
        bell.classList.toggle("has-unread", a.unread > 0);
        bell.setAttribute("aria-label", bell.dataset.label + (a.unread ? ": " + a.unread : ""));
      });
    });
  });
})();
