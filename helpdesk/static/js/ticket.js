// Ticket page: live messages, presence and typing, collision warning, templates, shortcuts.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const page = document.getElementById("ticket");
    if (!page) return;
    const ticketId = Number(page.dataset.ticketId);
    const me = Number(document.body.dataset.userId);
    const list = document.getElementById("messages");
    const presence = document.getElementById("presence");
    const warning = document.getElementById("live-collision");
    const form = document.getElementById("composer");
    const body = document.getElementById("body");
    const viewers = new Map(); // user id → {name, typingUntil, seen}
    let collided = false;

    function renderPresence() {
      const now = Date.now();
      const parts = [];
      viewers.forEach((v, id) => {
        if (now - v.seen > 75000) { viewers.delete(id); return; }
        parts.push(v.typingUntil > now ? page.dataset.tTyping.replace("__NAME__", v.name) : v.name);
      });
      presence.textContent = parts.length ? page.dataset.tViewing + " " + parts.join(", ") : "";
    }
    setInterval(renderPresence, 2000);

    function loadMessage(messageId, replace) {
      const existing = document.getElementById("message-" + messageId);
      if (existing && !replace) return Promise.resolve(existing);
      const url = page.dataset.messageUrl.replace(/0$/, String(messageId));
      return fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.text() : null)).then((html) => {
        if (!html) return null;
        const tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        const node = tpl.content.firstElementChild;
        const again = document.getElementById("message-" + messageId);
        if (again) again.replaceWith(node); else list.appendChild(node);
        return node;
      });
    }

    const live = window.helpdeskLive;
    if (live) {
      const join = () => live.emit("ticket.join", { ticket_id: ticketId });
      document.addEventListener("live:connect", join);
      if (live.socket && live.socket.connected) join();
      setInterval(() => live.emit("ticket.here", { ticket_id: ticketId }), 30000);
      live.on("presence", (d) => {
        if (d.ticket_id !== ticketId || d.user_id === me) return;
        if (d.state === "leave") viewers.delete(d.user_id);
        else {
          const known = viewers.get(d.user_id);
          viewers.set(d.user_id, { name: d.name, typingUntil: known ? known.typingUntil : 0, seen: Date.now() });
          if (d.state === "join") live.emit("ticket.here", { ticket_id: ticketId });
        }
        renderPresence();
      });
      live.on("typing", (d) => {
        if (d.ticket_id !== ticketId || d.user_id === me) return;
        viewers.set(d.user_id, { name: d.name, typingUntil: Date.now() + 5000, seen: Date.now() });
        renderPresence();
      });
      const onMessage = (d) => {
        if (d.ticket_id !== ticketId) return;
        loadMessage(d.message_id, false);
        const mine = d.author_id !== undefined && d.author_id === me;
        if (!mine && !d.is_internal) {
          collided = true;
          warning.textContent = page.dataset.tCollision;
          warning.hidden = false;
        }
      };
      live.on("message.received", onMessage);
      live.on("message.created", onMessage);
      live.on("message.delivery", (d) => { if (d.ticket_id === ticketId) loadMessage(d.message_id, true); });
      live.on("ticket.updated", (d) => {
        if (d.ticket_id !== ticketId || !d.changes || !("order" in d.changes)) return;
        const card = document.getElementById("order-card");
        if (!card) return;
        fetch(card.dataset.url, { credentials: "same-origin" }).then((r) => (r.ok ? r.text() : null)).then((html) => {
          if (!html) return;
          const tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          card.replaceWith(tpl.content.firstElementChild);
        });
      });
      let lastTyping = 0;
      body.addEventListener("input", () => {
        if (Date.now() - lastTyping > 2000) { lastTyping = Date.now(); live.emit("ticket.typing", { ticket_id: ticketId }); }
      });
    }

    form.addEventListener("submit", (ev) => {
      const internal = document.getElementById("internal").checked;
      if (collided && !internal && !window.confirm(page.dataset.tCollision)) { ev.preventDefault(); return; }
      if (collided && !internal) {
        const force = document.createElement("input");
        force.type = "hidden"; force.name = "force"; force.value = "1";
        form.appendChild(force);
      }
    });

    // Platform rules (no contact details on Amazon, 2,000 characters on eBay…) checked as the agent types.
    const warnings = document.getElementById("policy-warnings");
    let checkTimer = null;
    function checkPolicy() {
      const internal = document.getElementById("internal");
      if (!warnings || (internal && internal.checked) || !body.value.trim()) { if (warnings) warnings.replaceChildren(); return; }
      const data = new FormData();
      data.append("body", body.value);
      const token = document.querySelector('meta[name="csrf-token"]');
      fetch(warnings.dataset.url, {
        method: "POST", body: data, credentials: "same-origin",
        headers: token ? { "X-CSRFToken": token.content } : {},
      }).then((r) => (r.ok ? r.json() : null)).then((answer) => {
        if (!answer) return;
        warnings.replaceChildren(...answer.violations.map((v) => {
          const li = document.createElement("li");
          li.textContent = v.text;
          li.className = v.blocking ? "blocking" : "advice";
          return li;
        }));
      });
    }
    body.addEventListener("input", () => { clearTimeout(checkTimer); checkTimer = setTimeout(checkPolicy, 400); });
    checkPolicy();

    const picker = document.getElementById("template");
    picker.addEventListener("change", () => {
      const option = picker.selectedOptions[0];
      if (!option || !option.dataset.body) return;
      const start = body.selectionStart || body.value.length;
      body.value = body.value.slice(0, start) + option.dataset.body + body.value.slice(body.selectionEnd || start);
      picker.value = "";
      body.focus();
      checkPolicy();
    });

    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && document.activeElement === body) { form.requestSubmit(); return; }
      const tag = (ev.target.tagName || "").toLowerCase();
      if (["input", "textarea", "select"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const targets = { r: "body", t: "template", a: "assignee", s: "status" };
      if (targets[ev.key]) { document.getElementById(targets[ev.key]).focus(); ev.preventDefault(); }
    });
  });
})();
