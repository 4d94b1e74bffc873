// Ticket page: follow merges and undos made elsewhere. Moved-away messages disappear; a page whose ticket was merged
// or unmerged reloads (unless the agent is typing a reply, who gets a notice with a reload link instead).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const page = document.getElementById("ticket");
    const live = window.helpdeskLive;
    const texts = document.getElementById("merge-texts");
    if (!page || !live || !texts) return;
    const ticketId = Number(page.dataset.ticketId);
    const warning = document.getElementById("live-collision");
    function reloadOrTell() {
      const body = document.getElementById("body");
      if (!body || !body.value.trim()) { window.location.reload(); return; }
      if (!warning) return;
      const link = document.createElement("a");
      link.href = window.location.href;
      link.textContent = texts.dataset.reload;
      warning.replaceChildren(document.createTextNode(texts.dataset.changed + " "), link);
      warning.hidden = false;
    }
    live.on("ticket.updated", (d) => {
      if (d.ticket_id !== ticketId || !d.changes) return;
      const c = d.changes;
      (c.removed_message_ids || []).forEach((id) => {
        const node = document.getElementById("message-" + id);
        if (node) node.remove();
      });
      if ("merged_into_id" in c || "merged_from_id" in c) reloadOrTell();
    });
  });
})();
