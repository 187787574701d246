// The build page's live log: new lines over Server-Sent Events, find, follow. The page works
// without this file; lines are added with textContent only, so a log never becomes markup.
(() => {
  const log = document.getElementById("log");
  if (!log) return;
  const find = document.getElementById("log-find");
  const hits = document.getElementById("log-hits");
  const follow = document.getElementById("log-follow");
  const state = document.getElementById("build-state");
  const MAX_LINES = 50000;

  const matches = (span) => find.value !== "" && span.textContent.toLowerCase().includes(find.value.toLowerCase());
  function mark(span) {
    span.classList.toggle("hit", matches(span));
  }
  function refind() {
    let n = 0;
    let first = null;
    for (const span of log.children) {
      mark(span);
      if (span.classList.contains("hit")) (n++, (first ??= span));
    }
    hits.textContent = find.value === "" ? "" : `${n} matching line${n === 1 ? "" : "s"}`;
    if (first && !follow.checked) first.scrollIntoView({ block: "center" });
  }
  find.addEventListener("input", refind);

  function append(lines) {
    const atEnd = follow.checked;
    for (const line of lines) {
      const span = document.createElement("span");
      span.className = line.stream === "stderr" || line.stream === "system" ? line.stream : "stdout";
      span.textContent = line.text;
      mark(span);
      log.append(span, "\n");
    }
    while (log.childNodes.length > 2 * MAX_LINES) (log.firstChild.remove(), log.firstChild?.remove());
    if (atEnd) log.scrollTop = log.scrollHeight;
    if (find.value !== "") refind();
  }

  if (follow.checked) log.scrollTop = log.scrollHeight;
  if (log.dataset.live !== "1") return;
  const url = `/builds/${encodeURIComponent(log.dataset.build)}/events?from=${encodeURIComponent(log.dataset.offset)}`;
  const events = new EventSource(url);
  events.addEventListener("lines", (e) => append(JSON.parse(e.data)));
  function showState(word) {
    state.textContent = word;
    state.className = `state state-${word}`;
  }
  events.addEventListener("state", (e) => showState(JSON.parse(e.data).state));
  events.addEventListener("end", (e) => {
    events.close();
    const end = JSON.parse(e.data);
    showState(end.conclusion ?? end.state);
    log.dataset.live = "";
  });
})();
