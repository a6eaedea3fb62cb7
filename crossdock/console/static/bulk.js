// Bulk work on a page's selection: posts the checked cases to /console/bulk and reads
// its stream (one JSON line per case) to move the progress bar and mark each row.
(function () {
  const form = document.querySelector("form.bulk");
  if (!form) return;
  const progress = form.querySelector("progress");
  const summary = form.querySelector(".bulk-summary");
  const all = document.querySelector("input.select-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll("input.select-case").forEach((box) => { box.checked = all.checked; });
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "";
    const chosen = [...document.querySelectorAll("input.select-case:checked")];
    if (!chosen.length) { summary.textContent = form.dataset.none; return; }
    const body = new URLSearchParams(new FormData(form));
    body.set("action", action);
    chosen.forEach((box) => body.append("workflow_id", box.value));
    progress.max = chosen.length; progress.value = 0; progress.hidden = false;
    let accepted = 0, refused = 0;
    const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
    if (!response.ok) { summary.textContent = (await response.json()).message; return; }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const result = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        progress.value += 1;
        if (result.outcome === "accepted") accepted += 1; else refused += 1;
        const cell = document.querySelector(`[data-result="${CSS.escape(result.workflow_id)}"]`);
        if (cell) {
          cell.textContent = `${form.dataset[result.outcome]}: ${result.message}`;
          cell.className = `bulk-result ${result.outcome}`;
        }
        summary.textContent = form.dataset.progress
          .replace("{done}", progress.value).replace("{total}", chosen.length)
          .replace("{accepted}", accepted).replace("{refused}", refused);
      }
    }
    summary.dataset.finished = "yes";
  });
})();
