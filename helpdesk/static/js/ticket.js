// Ticket page: live messages, presence and typing, collision warning, templates, shortcuts.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const page = document.getElementById("ticket");
    if (!page || !document.getElementById("composer")) return; // a merged ticket has no composer (merge.js keeps it live)
    const ticketId = Number(page.dataset.ticketId);
    const me = Number(document.body.dataset.userId);
    const list = document.getElementById("messages");
    const presence = document.getElementById("presence");
    const warning = document.getElementById("live-collision");
    const form = document.getElementById("composer");
    const body = document.getElementById("body");
    const viewers = new Map(); // user id → {name, typingUntil, seen}
    let collided = false;
    const csrfHeaders = () => {
      const token = document.querySelector('meta[name="csrf-token"]');
      return token ? { "X-CSRFToken": token.content } : {};
    };

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
      // Status, assignee, priority, tags, SLA: redraw the header line and the details card from the server
      // (same permissions and formatting as the page), leaving alone a form the agent is in the middle of.
      let redrawTimer = null;
      const changedSelect = (el) => {
        const options = Array.from(el.options);
        // with no option marked selected in the HTML, the browser shows the first one
        return options.some((o) => o.defaultSelected) ? options.some((o) => o.selected !== o.defaultSelected) : el.selectedIndex > 0;
      };
      const dirty = (form) => Array.from(form.elements).some((el) =>
        (el.tagName === "SELECT" && changedSelect(el)) ||
        (((el.tagName === "INPUT" && el.type !== "hidden") || el.tagName === "TEXTAREA") && el.value !== el.defaultValue));
      function redraw() {
        fetch(page.dataset.liveUrl, { credentials: "same-origin" }).then((r) => (r.ok ? r.text() : null)).then((html) => {
          if (!html) return;
          const tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          const meta = tpl.content.querySelector("#ticket-meta");
          const oldMeta = document.getElementById("ticket-meta");
          if (meta && oldMeta) oldMeta.replaceWith(meta);
          const details = tpl.content.querySelector("#ticket-details");
          const oldDetails = document.getElementById("ticket-details");
          if (!details || !oldDetails) return;
          const busy = Array.from(oldDetails.querySelectorAll("form")).filter((f) => f.contains(document.activeElement) || dirty(f));
          if (!busy.length) { oldDetails.replaceWith(details); }
          else {
            oldDetails.querySelectorAll("form").forEach((f) => {
              if (busy.includes(f)) return;
              const fresh = details.querySelector('form[action="' + f.getAttribute("action") + '"]');
              if (fresh) f.replaceWith(fresh); else f.remove();
            });
          }
          document.dispatchEvent(new CustomEvent("live:redrawn"));
        });
      }
      const onChange = (d) => {
        if (d.ticket_id !== ticketId) return;
        clearTimeout(redrawTimer);
        redrawTimer = setTimeout(redraw, 100);  // a reply that also sets the status is one redraw
      };
      ["ticket.updated", "ticket.reopened", "sla.warning", "sla.breached"].forEach((name) => live.on(name, onChange));
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
      const leaving = document.getElementById("translation");
      const text = leaving && !leaving.disabled && leaving.value.trim() ? leaving.value : body.value;
      if (!warnings || (internal && internal.checked) || !text.trim()) { if (warnings) warnings.replaceChildren(); return; }
      const data = new FormData();
      data.append("body", text);
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

    // Macros: fuzzy search, a preview rendered for this ticket in the buyer's language (with why), insert.
    const macroBox = document.getElementById("macro-picker");
    const search = document.getElementById("template");
    const results = document.getElementById("macro-results");
    const previewBox = document.getElementById("macro-preview");
    const localeSelect = document.getElementById("macro-locale");
    let current = null; // the preview shown
    let searchTimer = null;

    function getJSON(url) {
      return fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null));
    }
    function showResults(list) {
      results.replaceChildren(...list.map((m, i) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "macro-option-" + i;
        li.dataset.key = m.key;
        li.tabIndex = -1;
        li.textContent = (m.favourite ? "★ " : "") + m.title;
        if (m.description) { const small = document.createElement("small"); small.textContent = " — " + m.description; li.appendChild(small); }
        li.addEventListener("click", () => showPreview(m.key));
        li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); showPreview(m.key); } });
        return li;
      }));
      search.setAttribute("aria-expanded", list.length ? "true" : "false");
    }
    // Answers can arrive out of order (the empty query lists every macro and is slower than "tracking"):
    // only the answer to the latest request is shown.
    let searchSeq = 0;
    let previewSeq = 0;
    function runSearch() {
      const seq = ++searchSeq;
      getJSON(macroBox.dataset.searchUrl + "?q=" + encodeURIComponent(search.value)).then((a) => { if (a && seq === searchSeq) showResults(a.macros); });
    }
    function showPreview(key, locale) {
      let url = macroBox.dataset.previewUrl.replace("__KEY__", encodeURIComponent(key));
      if (locale) url += "?locale=" + encodeURIComponent(locale);
      const seq = ++previewSeq;
      getJSON(url).then((p) => {
        if (!p || seq !== previewSeq) return;
        current = p;
        previewBox.hidden = false;
        document.getElementById("macro-reason").textContent = p.reason_text;
        localeSelect.replaceChildren(...p.locales.map((l) => { const o = document.createElement("option"); o.value = l; o.textContent = l; o.selected = l === p.locale; return o; }));
        const text = document.getElementById("macro-text");
        text.dir = p.rtl ? "rtl" : "ltr";
        text.textContent = p.error ? p.error : p.text;
        text.classList.toggle("error", Boolean(p.error));
        document.getElementById("macro-actions").textContent = p.actions.join(" · ");
        document.getElementById("macro-warnings").replaceChildren(...p.violations.map((v) => {
          const li = document.createElement("li"); li.textContent = v.text; li.className = v.blocking ? "blocking" : "advice"; return li;
        }));
        document.getElementById("macro-insert").disabled = Boolean(p.error);
        document.getElementById("macro-machine").hidden = true;
        const translateMacro = document.getElementById("macro-translate");
        translateMacro.hidden = !p.translate_url || Boolean(p.error);
        translateMacro.textContent = p.translate_label || "";
      });
    }
    const macroTranslate = document.getElementById("macro-translate");
    if (macroTranslate) macroTranslate.addEventListener("click", () => {
      if (!current || !current.translate_url) return;
      const shown = current;
      macroTranslate.disabled = true;
      fetch(shown.translate_url, { method: "POST", credentials: "same-origin", headers: csrfHeaders() })
        .then((r) => r.json().then((a) => ({ ok: r.ok, a })))
        .then(({ ok, a }) => {
          if (current !== shown) return;
          const text = document.getElementById("macro-text");
          if (!ok) { text.textContent = a.error; text.classList.add("error"); return; }
          // the preview now holds the machine translation, marked as such; Insert takes it
          current = Object.assign({}, shown, { text: a.text, locale: a.from_locale, rtl: false, machine: true });
          text.textContent = a.text;
          text.dir = "auto";
          document.getElementById("macro-machine-note").textContent = a.note;
          document.getElementById("macro-machine").hidden = false;
          macroTranslate.hidden = true;
        })
        .finally(() => { macroTranslate.disabled = false; });
    });
    if (macroBox) {
      search.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); });
      search.addEventListener("focus", () => { if (!results.children.length) runSearch(); });
      search.addEventListener("keydown", (ev) => {
        if (ev.key === "ArrowDown" && results.firstElementChild) { ev.preventDefault(); results.firstElementChild.focus(); }
        if (ev.key === "Enter" && results.firstElementChild) { ev.preventDefault(); showPreview(results.firstElementChild.dataset.key); }
      });
      results.addEventListener("keydown", (ev) => {
        const item = document.activeElement;
        if (ev.key === "ArrowDown" && item.nextElementSibling) { ev.preventDefault(); item.nextElementSibling.focus(); }
        if (ev.key === "ArrowUp") { ev.preventDefault(); (item.previousElementSibling || search).focus(); }
      });
      localeSelect.addEventListener("change", () => { if (current) showPreview(current.key, localeSelect.value); });
      document.getElementById("macro-insert").addEventListener("click", () => {
        if (!current || current.error) return;
        const start = body.selectionStart || 0;
        body.value = body.value.slice(0, start) + current.text + body.value.slice(body.selectionEnd || start);
        body.dir = current.rtl ? "rtl" : "auto";
        document.getElementById("macro-key").value = current.key;
        document.getElementById("macro-locale-used").value = current.locale;
        previewBox.hidden = true;
        results.replaceChildren();
        search.value = "";
        body.focus();
        checkPolicy();
      });
      document.getElementById("macro-favourite").addEventListener("click", () => {
        if (!current) return;
        const token = document.querySelector('meta[name="csrf-token"]');
        fetch(macroBox.dataset.favouriteUrl.replace("__KEY__", encodeURIComponent(current.key)), {
          method: "POST", credentials: "same-origin", headers: token ? { "X-CSRFToken": token.content } : {},
        }).then(runSearch);
      });
    }

    // @mentions in internal notes: "@" and a few letters suggest colleagues who may see the ticket.
    const mentionList = document.getElementById("mention-results");
    if (mentionList) {
      const mentionIds = document.getElementById("mention-ids");
      const noteBox = document.getElementById("internal");
      let mentionSeq = 0, options = [], active = 0, start = -1;
      const close = () => { mentionList.hidden = true; options = []; start = -1; body.removeAttribute("aria-activedescendant"); };
      function query() {
        const upto = body.value.slice(0, body.selectionStart || 0);
        const m = /(^|\s)@([^\s@]{0,30})$/.exec(upto);
        return m ? { at: upto.length - m[2].length - 1, text: m[2] } : null;
      }
      function show(users) {
        options = users;
        active = 0;
        mentionList.replaceChildren(...users.map((u, i) => {
          const li = document.createElement("li");
          li.id = "mention-option-" + u.id;
          li.setAttribute("role", "option");
          li.dataset.userId = u.id;
          li.setAttribute("aria-selected", i === active ? "true" : "false");
          li.textContent = u.name + " <" + u.email + ">";
          li.addEventListener("mousedown", (ev) => { ev.preventDefault(); pick(i); });
          return li;
        }));
        mentionList.hidden = !users.length;
        if (users.length) body.setAttribute("aria-activedescendant", "mention-option-" + users[0].id);
      }
      function highlight(i) {
        active = (i + options.length) % options.length;
        Array.from(mentionList.children).forEach((li, n) => li.setAttribute("aria-selected", n === active ? "true" : "false"));
        body.setAttribute("aria-activedescendant", mentionList.children[active].id);
      }
      function pick(i) {
        const user = options[i];
        if (!user || start < 0) return;
        const end = body.selectionStart || 0;
        const text = "@" + user.name + " ";
        body.value = body.value.slice(0, start) + text + body.value.slice(end);
        body.selectionStart = body.selectionEnd = start + text.length;
        if (!mentionIds.querySelector('input[value="' + user.id + '"]')) {
          const input = document.createElement("input");
          input.type = "hidden"; input.name = "mention"; input.value = String(user.id);
          mentionIds.appendChild(input);
        }
        close();
        body.focus();
      }
      body.addEventListener("input", () => {
        const q = noteBox && noteBox.checked ? query() : null;
        if (!q) { close(); return; }
        start = q.at;
        const seq = ++mentionSeq;
        fetch(mentionList.dataset.url + "?q=" + encodeURIComponent(q.text), { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : null))
          .then((a) => { if (a && seq === mentionSeq && start >= 0) show(a.users); });
      });
      body.addEventListener("keydown", (ev) => {
        if (mentionList.hidden || !options.length) return;
        if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(active + 1); }
        else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(active - 1); }
        else if (ev.key === "Enter" || ev.key === "Tab") { ev.preventDefault(); ev.stopPropagation(); pick(active); }
        else if (ev.key === "Escape") { ev.preventDefault(); close(); }
      });
      body.addEventListener("blur", () => setTimeout(close, 150));
      if (noteBox) noteBox.addEventListener("change", close);
    }

    // Files: a button and drops on the composer; the channel's limits (or a note's) shown and checked before sending.
    const attach = document.getElementById("attach");
    if (attach) {
      const input = document.getElementById("files");
      const fileList = document.getElementById("attach-list");
      const attachError = document.getElementById("attach-error");
      const internalBox = document.getElementById("internal");
      let chosen = [];
      const limits = () => {
        const mode = internalBox && internalBox.checked ? "note" : "reply";
        const types = attach.dataset[mode + "Types"];
        return {
          files: Number(attach.dataset[mode + "Files"]), bytes: Number(attach.dataset[mode + "Bytes"]),
          types: types ? types.split(",") : [], text: attach.dataset[mode + "Text"],
        };
      };
      const sizeText = (n) => (n >= 1e6 ? (n / 1e6).toFixed(1) + " MB" : n >= 1e3 ? (n / 1e3).toFixed(1) + " kB" : n + " B");
      const typeOk = (f, types) => !types.length || types.some((t) => {
        const kind = (f.type || "").toLowerCase(), name = f.name.toLowerCase();
        return kind === t || (t.endsWith("/") && kind.startsWith(t)) || name.endsWith(t);
      });
      function problem(l) {
        if (chosen.length > l.files) return attach.dataset.tTooMany.replace("__N__", l.files);
        if (chosen.reduce((n, f) => n + f.size, 0) > l.bytes) return attach.dataset.tTooLarge.replace("__SIZE__", sizeText(l.bytes));
        const bad = chosen.find((f) => !typeOk(f, l.types));
        return bad ? attach.dataset.tType.replace("__NAME__", bad.name) : "";
      }
      function render() {
        const l = limits();
        const can = l.files > 0;
        input.disabled = !can;
        document.getElementById("attach-button").setAttribute("aria-disabled", can ? "false" : "true");
        document.getElementById("attach-limits").textContent = l.text;
        const transfer = new DataTransfer();
        chosen.forEach((f) => transfer.items.add(f));
        input.files = transfer.files;
        fileList.replaceChildren(...chosen.map((f, i) => {
          const li = document.createElement("li");
          li.textContent = f.name + " (" + sizeText(f.size) + ")";
          const remove = document.createElement("button");
          remove.type = "button"; remove.textContent = "×"; remove.title = attach.dataset.tRemove;
          remove.setAttribute("aria-label", attach.dataset.tRemove + " " + f.name);
          remove.addEventListener("click", () => { chosen.splice(i, 1); render(); });
          li.appendChild(remove);
          return li;
        }));
        const text = chosen.length ? problem(l) : "";
        attachError.textContent = text;
        attachError.hidden = !text;
      }
      const add = (files) => { chosen = chosen.concat(Array.from(files)); render(); };
      input.addEventListener("change", () => { const picked = Array.from(input.files); chosen = chosen.filter((f) => !picked.includes(f)); add(picked); });
      if (internalBox) internalBox.addEventListener("change", render);
      form.addEventListener("dragover", (ev) => {
        if (!ev.dataTransfer || !Array.from(ev.dataTransfer.types).includes("Files")) return;
        ev.preventDefault();
        form.classList.add("dropping");
      });
      form.addEventListener("dragleave", (ev) => { if (!form.contains(ev.relatedTarget)) form.classList.remove("dropping"); });
      form.addEventListener("drop", (ev) => {
        form.classList.remove("dropping");
        if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
        ev.preventDefault();
        if (limits().files > 0) add(ev.dataTransfer.files);
      });
      form.addEventListener("submit", (ev) => {
        const text = chosen.length ? problem(limits()) : "";
        if (text) { ev.preventDefault(); attachError.textContent = text; attachError.hidden = false; }
      });
      render();
    }

    // Translation: a buyer message into the agent's language (under the original, never instead of it), and the
    // draft into the buyer's (editable; the translation is what is sent, the agent's text stays on the ticket).
    const polling = new Set();
    function pollTranslation(messageId, tries) {
      // fallback for a page without a live connection: redraw until the job has finished
      if (polling.has(messageId) && tries === 0) return;
      polling.add(messageId);
      setTimeout(() => loadMessage(messageId, true).then((node) => {
        const box = node && node.querySelector(".translation");
        if (box && box.dataset.status === "pending" && tries < 100) pollTranslation(messageId, tries + 1);
        else polling.delete(messageId);
      }), tries < 10 ? 2000 : 10000);
    }
    list.addEventListener("click", (ev) => {
      const toggle = ev.target.closest(".toggle-translation");
      if (toggle) {
        const text = toggle.closest(".translated").querySelector(".translated-text");
        text.hidden = !text.hidden;
        toggle.setAttribute("aria-expanded", text.hidden ? "false" : "true");
        toggle.textContent = text.hidden ? toggle.dataset.show : toggle.dataset.hide;
        return;
      }
      const button = ev.target.closest(".translate-button");
      if (!button) return;
      const box = button.closest(".translation");
      const messageId = Number(box.dataset.messageId);
      button.disabled = true;
      fetch(box.dataset.url, { method: "POST", credentials: "same-origin", headers: csrfHeaders() })
        .then((r) => r.json().then((a) => ({ ok: r.ok, a })))
        .then(({ ok, a }) => {
          if (!ok) {
            const p = document.createElement("p");
            p.className = "flash error"; p.setAttribute("role", "alert"); p.textContent = a.error || "";
            if (a.help_url) { const link = document.createElement("a"); link.href = a.help_url; link.textContent = " docs/translation.md"; p.appendChild(link); }
            box.replaceChildren(p);
            return;
          }
          loadMessage(messageId, true);
          if (a.status === "pending") pollTranslation(messageId, 0);
        })
        .catch(() => { button.disabled = false; });
    });
    if (live) live.on("message.translated", (d) => { if (d.ticket_id === ticketId) loadMessage(d.message_id, true); });
    // a translation already pending when the page opened (a colleague asked, or the team's automatic one)
    list.querySelectorAll('.translation[data-status="pending"]').forEach((box) => pollTranslation(Number(box.dataset.messageId), 0));

    const draftBox = document.getElementById("draft-translation");
    const translated = document.getElementById("translation");
    const translateButton = document.getElementById("translate-draft");
    if (draftBox && translated) {
      const pane = document.getElementById("draft-translated");
      const error = document.getElementById("draft-translation-error");
      const stale = document.getElementById("draft-stale");
      let translatedFrom = translated.value ? body.value : null;
      const showTranslation = (text) => {
        translated.disabled = false; translated.value = text; pane.hidden = false; stale.hidden = true;
        translatedFrom = body.value;
      };
      function translateDraft() {
        if (translateButton.disabled) return;
        error.hidden = true;
        const data = new FormData();
        data.append("text", body.value);
        data.append("target", draftBox.dataset.target);
        const label = translateButton.innerHTML;
        translateButton.disabled = true;
        translateButton.textContent = draftBox.dataset.tBusy;
        fetch(draftBox.dataset.url, { method: "POST", body: data, credentials: "same-origin", headers: csrfHeaders() })
          .then((r) => r.json().then((a) => ({ ok: r.ok, a })))
          .then(({ ok, a }) => {
            if (!ok) { error.textContent = a.error + (a.detail ? " (" + a.detail + ")" : ""); error.hidden = false; return; }
            showTranslation(a.text);
            document.getElementById("draft-translated-by").textContent = a.provider;
            checkPolicy();
            translated.focus();
          })
          .catch(() => { error.textContent = draftBox.dataset.tBusy; error.hidden = false; })
          .finally(() => { translateButton.disabled = false; translateButton.innerHTML = label; });
      }
      translateButton.addEventListener("click", translateDraft);
      body.addEventListener("input", () => {
        if (!pane.hidden && translatedFrom !== null && body.value !== translatedFrom) { stale.textContent = draftBox.dataset.tStale; stale.hidden = false; }
      });
      translated.addEventListener("input", () => { clearTimeout(checkTimer); checkTimer = setTimeout(checkPolicy, 400); });
      document.getElementById("discard-translation").addEventListener("click", () => {
        pane.hidden = true; translated.disabled = true; translated.value = ""; translatedFrom = null; checkPolicy(); body.focus();
      });
      document.addEventListener("keydown", (ev) => {
        if ((ev.ctrlKey || ev.metaKey) && ev.shiftKey && (ev.key === "L" || ev.key === "l")) { ev.preventDefault(); translateDraft(); }
      });
    }

    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && document.activeElement === body) { form.requestSubmit(); return; }
      const tag = (ev.target.tagName || "").toLowerCase();
      if (["input", "textarea", "select"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const targets = { r: "body", t: "template", a: "assignee", s: "status" };
      if (targets[ev.key]) { document.getElementById(targets[ev.key]).focus(); ev.preventDefault(); }
    });
  });
})();
