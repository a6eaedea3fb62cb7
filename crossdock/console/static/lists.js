// The column boxes of a list travel as one `columns=a,b` parameter, so a saved view
// keeps them (all boxes ticked: no parameter, every column).
(function () {
  const form = document.querySelector("form.filters");
  if (!form) return;
  form.addEventListener("submit", () => {
    const boxes = [...form.querySelectorAll("input.column")];
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    form.querySelector("input[name=columns]").value =
      chosen.length === boxes.length ? "" : chosen.join(",");
  });
})();
