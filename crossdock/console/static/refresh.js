// Reload the page every data-seconds while the operator has nothing selected and no
// bulk action is running, so new questions show without a click and no work is lost.
(function () {
  const me = document.currentScript;
  const seconds = Number((me && me.dataset.seconds) || 15);
  setInterval(() => {
    const busy = document.querySelector("input.select-case:checked, progress:not([hidden])");
    if (!busy) window.location.reload();
  }, seconds * 1000);
})();
