// The builds list, kept current: on the first page, the list part is fetched again every few
// seconds and swapped in whole. The page works without this file. The new part is the server's
// own escaped HTML, parsed inert by DOMParser (its scripts never run), and only the element with
// the list's id is taken from it.
(() => {
  const list = document.getElementById("build-list");
  if (!list || list.dataset.live !== "1") return;
  const EVERY_MS = Number(list.dataset.every) || 5000;
  let failures = 0;

  async function refresh() {
    if (document.hidden) return;
    const res = await fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } });
    // Signed out, or the server gone: stop, rather than swap in a sign-in page.
    if (!res.ok || res.redirected) throw new Error(`status ${res.status}`);
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("build-list");
    const current = document.getElementById("build-list");
    if (!fresh || !current) return;
    // A reader's focus inside the list (a link) would be lost by the swap: wait for it to leave.
    if (current.contains(document.activeElement)) return;
    current.replaceWith(document.importNode(fresh, true));
  }

  const timer = setInterval(() => {
    refresh().then(() => (failures = 0), () => {
      if (++failures >= 3) clearInterval(timer);
    });
  }, EVERY_MS);
})();
