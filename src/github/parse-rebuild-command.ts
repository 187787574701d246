/** `/rebuild` alone on a line, optionally followed by `--no-cache`. Anything else is not a command. */
export function parseRebuildCommand(body: string): { noCache: boolean } | null {
  for (const raw of body.split(/\r?\n/)) {
    const m = /^\s*\/rebuild(?:\s+(--no-cache))?\s*$/.exec(raw);
    if (m) return { noCache: Boolean(m[1]) };
  }
  return null;
}
