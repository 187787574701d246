// The build page's live log: new lines over Server-Sent Events, find, follow. The page works
// without this file; lines are added with textContent only, so a log never becomes markup.
(() => {
  // Copy buttons: hidden in the markup, since without a script they would do nothing.
  const copied = document.getElementById("copy-status");
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const say = (word) => copied && (copied.textContent = word);
      if (!navigator.clipboard) return say("Copy failed: no clipboard here");
      navigator.clipboard.writeText(button.dataset.copy).then(() => say("Copied"), () => say("Copy failed"));
    });
  }

  const log = document.getElementById("log");
  if (!log) return;
  const find = document.getElementById("log-find");
  const hits = document.getElementById("log-hits");
  const follow = document.getElementById("log-follow");
  const state = document.getElementById("build-state");
  const MAX_LINES = 50000;

  // Timestamps: the checkbox replaces the page's ?timestamps=1 link, and only toggles a class.
  const tsBox = document.getElementById("log-ts");
  document.getElementById("log-ts-box").hidden = false;
  document.getElementById("log-ts-link").hidden = true;
  tsBox.addEventListener("change", () => log.classList.toggle("show-ts", tsBox.checked));

  // Find looks at the line's text, never at its time.
  const textOf = (span) => {
    const ts = span.firstElementChild;
    return ts && ts.classList.contains("ts") ? span.textContent.slice(ts.textContent.length) : span.textContent;
  };
  const matches = (span) => find.value !== "" && textOf(span).toLowerCase().includes(find.value.toLowerCase());
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

  const clock = (ts) => {
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(11, 23);
  };
  // As the page draws a line: its time, then its text as text nodes, coloured pieces in spans
  // whose classes the server chose from a fixed list (a class is never markup).
  function fill(span, line) {
    const text = String(line.text);
    const ts = document.createElement("span");
    ts.className = "ts";
    ts.textContent = `${clock(line.ts)} `;
    span.append(ts);
    let at = 0;
    for (const [start, end, cls] of Array.isArray(line.runs) ? line.runs : []) {
      if (!(start >= at && end > start && end <= text.length)) break;
      if (start > at) span.append(text.slice(at, start));
      const piece = document.createElement("span");
      piece.className = String(cls);
      piece.textContent = text.slice(start, end);
      span.append(piece);
      at = end;
    }
    if (at < text.length) span.append(text.slice(at));
  }

  function append(lines) {
    const atEnd = follow.checked;
    for (const line of lines) {
      const span = document.createElement("span");
      span.className = line.stream === "stderr" || line.stream === "system" ? line.stream : "stdout";
      fill(span, line);
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
