import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** A corpus app's tree as pushed, by path: everything but the corpus's own expectations (expected.json, snapshots). */
export function corpusAppFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e !== "expected.json" && !e.endsWith(".snap")) out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}
