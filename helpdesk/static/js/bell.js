// The bell in the nav, kept live through this person's own Socket.IO room: a new notification makes it ask for
// the unread count; a read in another tab (or the CLI) carries the new count along.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const bell = document.getElementById("bell");
    const live = window.helpdeskLive;
    if (!bell || !live) return;
    const count = document.getElementById("bell-count");
    const show = (unread) => {
      count.textContent = String(unread);
      count.hidden = !unread;
      bell.classList.toggle("has-unread", unread > 0);
      bell.setAttribute("aria-label", bell.dataset.label + (unread ? ": " + unread : ""));
    };
    live.on("notification.created", () => {
      fetch(bell.dataset.url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((a) => {
        if (a) show(a.unread);
      });
    });
    live.on("notification.read", (d) => {
      if (d && typeof d.unread === "number") show(d.unread);
    });
  });
})();
