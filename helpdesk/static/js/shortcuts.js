// "?" shows the page's keyboard shortcuts in a modal dialog; Esc (the dialog's own) or Close hides it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "?" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const tag = (ev.target.tagName || "").toLowerCase();
      if (["input", "textarea", "select"].includes(tag) || ev.target.isContentEditable) return;
      ev.preventDefault();
      if (dialog.open) dialog.close(); else dialog.showModal();
    });
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  });
})();
