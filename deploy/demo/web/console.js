// The web saga console (deploy/demo/sagas_web.py): re-fetches the page's live part every 2 s
// while the tab is visible and "pause" is off, and stops once an order's sagas have all finished.
(function () {
  "use strict";
  const live = document.getElementById("live");
  const clock = document.getElementById("clock");
  const pause = document.getElementById("pause");
  if (!live || !live.dataset.refresh) return;
  const every = Number(live.dataset.refresh) || 2000;
  let busy = false;

  function settled() { return live.querySelector("[data-settled]") !== null; }

  async function refresh() {
    if (busy || document.hidden || (pause && pause.checked) || settled()) return;
    busy = true;
    try {
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      const answer = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (answer.ok) {
        live.innerHTML = await answer.text();
        if (clock) clock.textContent = "updated " + new Date().toLocaleTimeString();
      } else if (clock) {
        clock.textContent = "the console answered " + answer.status + " — trying again";
      }
    } catch (error) {
      if (clock) clock.textContent = "the console does not answer — trying again";
    } finally {
      busy = false;
    }
  }

  window.setInterval(refresh, every);
})();
