// The live inbox: every second, ask whether what is waiting changed (a signature, one
// cheap listing on the server) and only then fetch the rows and swap them in, keeping
// the operator's selection. Nothing is swapped while a bulk action runs.
(function () {
  const me = document.currentScript;
  const mine = me && me.dataset.mine ? "?mine=true" : "";
  const table = document.querySelector("table.inbox");
  if (!table) return;
  const count = document.querySelector("[data-testid=inbox-count]");
  const empty = document.querySelector("p.empty");
  let busy = false;
  async function tick() {
    if (busy || document.querySelector("progress:not([hidden])")) return;
    busy = true;
    try {
      const asked = await fetch("/console/inbox/signature", { credentials: "same-origin" });
      if (!asked.ok) return;
      const { signature } = await asked.json();
      if (signature === table.dataset.signature) return;
      const rows = await fetch("/console/inbox/rows" + mine, { credentials: "same-origin" });
      if (!rows.ok) return;
      const chosen = new Set([...document.querySelectorAll("input.select-case:checked")].map((b) => b.value));
      const results = new Map([...document.querySelectorAll("[data-result]")].map((c) => [c.dataset.result, c.outerHTML]));
      const body = table.querySelector("tbody");
      body.innerHTML = await rows.text();
      body.querySelectorAll("input.select-case").forEach((box) => { box.checked = chosen.has(box.value); });
      body.querySelectorAll("[data-result]").forEach((cell) => {
        if (results.has(cell.dataset.result)) cell.outerHTML = results.get(cell.dataset.result);
      });
      table.dataset.signature = rows.headers.get("X-Inbox-Signature") || signature;
      const n = Number(rows.headers.get("X-Inbox-Count") || body.rows.length);
      if (count) count.textContent = n;
      if (empty) empty.hidden = n > 0;
    } catch (err) {
      // The console restarting: try again at the next tick.
    } finally {
      busy = false;
    }
  }
  setInterval(tick, 1000);
})();
