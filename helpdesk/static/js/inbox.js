// Inbox: live rows and counts, the list's exact total, select all, the empty-selection hint, keyboard navigation.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const inbox = document.getElementById("inbox");
    if (!inbox) return;
    const rows = document.getElementById("ticket-rows");
    const query = inbox.dataset.query;
    let countsTimer = null;

    function refreshCounts(delay) {
      clearTimeout(countsTimer);
      countsTimer = setTimeout(() => {
        fetch(inbox.dataset.countsUrl, { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : {}))
          .then((counts) => {
            document.querySelectorAll("[data-view-count]").forEach((el) => {
              const n = counts[el.dataset.viewCount];
              if (n !== undefined) el.textContent = n.toLocaleString(document.documentElement.lang);
            });
            // An unfiltered list is exactly its view: its total is the view's count (the page's own stops at 1,000+).
            const position = document.getElementById("position");
            const total = counts[position ? position.dataset.view : ""];
            if (position && position.dataset.filtered === "0" && total !== undefined) {
              position.querySelector("[data-total]").textContent = total.toLocaleString(document.documentElement.lang);
            }
          });
      }, delay === undefined ? 400 : delay);
    }
    refreshCounts(0);

    function refreshRow(ticketId) {
      if (inbox.dataset.firstPage !== "1") return;
      const url = inbox.dataset.rowUrl.replace(/0$/, String(ticketId)) + (query ? "?" + query : "");
      fetch(url, { credentials: "same-origin" }).then((r) => {
        const existing = rows.querySelector('tr[data-ticket-id="' + ticketId + '"]');
        if (r.status === 204) { if (existing) existing.remove(); return null; }
        return r.ok ? r.text().then((html) => ({ html, existing })) : null;
      }).then((result) => {
        if (!result) return;
        const tpl = document.createElement("template");
        tpl.innerHTML = result.html.trim();
        const row = tpl.content.firstElementChild;
        row.classList.add("fresh");
        const empty = rows.querySelector("tr.empty");
        if (empty) empty.remove();
        if (result.existing) result.existing.replaceWith(row); else rows.prepend(row);
      });
    }

    const live = window.helpdeskLive;
    if (live) {
      ["ticket.created", "ticket.updated", "ticket.reopened", "message.received", "message.created", "sla.warning", "sla.breached"].forEach((name) => {
        live.on(name, (data) => { refreshCounts(); if (data && data.ticket_id) refreshRow(data.ticket_id); });
      });
    }

    // "Select all on this page", kept in step with the rows' own boxes (also rows that arrive live).
    const selectAll = document.getElementById("select-all");
    const hint = document.getElementById("bulk-hint");
    const boxes = () => rows.querySelectorAll("tr[data-ticket-id] input[type=checkbox]");
    function syncSelectAll() {
      const all = Array.from(boxes());
      const ticked = all.filter((b) => b.checked).length;
      selectAll.checked = all.length > 0 && ticked === all.length;
      selectAll.indeterminate = ticked > 0 && ticked < all.length;
    }
    selectAll.addEventListener("change", () => {
      boxes().forEach((b) => { b.checked = selectAll.checked; });
      syncSelectAll();
      hint.hidden = true;
    });
    rows.addEventListener("change", () => { syncSelectAll(); hint.hidden = true; });
    new MutationObserver(syncSelectAll).observe(rows, { childList: true });

    // A bulk action with nothing selected would change nothing: say what to do instead of sending it.
    document.getElementById("bulk").addEventListener("submit", (ev) => {
      if (Array.from(boxes()).some((b) => b.checked)) return;
      ev.preventDefault();
      hint.hidden = false;
    });

    // Keyboard: j/k move, Enter opens, x selects, / searches.
    let current = -1;
    function focusRow(i) {
      const all = rows.querySelectorAll("tr[data-ticket-id]");
      if (!all.length) return;
      current = Math.max(0, Math.min(all.length - 1, i));
      all.forEach((tr) => tr.classList.remove("current"));
      const tr = all[current];
      tr.classList.add("current");
      tr.querySelector("a.ticket-link").focus();
    }
    document.addEventListener("keydown", (ev) => {
      const tag = (ev.target.tagName || "").toLowerCase();
      if (["input", "textarea", "select"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (document.querySelector("dialog[open]")) return;
      if (ev.key === "j") { focusRow(current + 1); ev.preventDefault(); }
      else if (ev.key === "k") { focusRow(current - 1); ev.preventDefault(); }
      else if (ev.key === "/") { document.getElementById("q").focus(); ev.preventDefault(); }
      else if (ev.key === "x" && current >= 0) {
        const box = rows.querySelectorAll("tr[data-ticket-id]")[current].querySelector("input[type=checkbox]");
        box.checked = !box.checked; syncSelectAll(); ev.preventDefault();
      }
    });
  });
})();
