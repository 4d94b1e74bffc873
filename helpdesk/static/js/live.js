// One Socket.IO connection per page; pages subscribe with helpdeskLive.on(name, fn).
(function () {
  "use strict";
  const handlers = {};
  const state = document.getElementById("live-state");
  const live = {
    socket: null,
    on(name, fn) {
      (handlers[name] = handlers[name] || []).push(fn);
      if (live.socket) live.socket.on(name, fn);
    },
    emit(name, data) {
      if (live.socket) live.socket.emit(name, data);
    },
  };
  window.helpdeskLive = live;
  if (typeof window.io !== "function") return;
  const socket = window.io({ transports: ["websocket", "polling"] });
  live.socket = socket;
  Object.keys(handlers).forEach((name) => handlers[name].forEach((fn) => socket.on(name, fn)));
  function show(online) {
    if (!state) return;
    state.textContent = online ? state.dataset.online : state.dataset.offline;
    state.classList.toggle("online", online);
  }
  socket.on("connect", () => { show(true); document.dispatchEvent(new CustomEvent("live:connect")); });
  socket.on("disconnect", () => show(false));
})();

// Relative SLA countdowns that tick in the browser (every <time class="sla">).
(function () {
  "use strict";
  const lang = document.documentElement.lang || "en";
  const rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.sla").forEach((el) => {
      const due = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(due) || !rtf) return;
      const minutes = Math.round((due - now) / 60000);
      const text = Math.abs(minutes) < 120 ? rtf.format(minutes, "minute") : rtf.format(Math.round(minutes / 60), "hour");
      el.textContent = text;
      el.classList.toggle("overdue", minutes < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 30000); });
  document.addEventListener("live:redrawn", tick);
})();
