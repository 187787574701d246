import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DetectContext } from "../../src/detect/context.ts";
import type { ResolvedAppConfig } from "../../src/core/repo-config.ts";

/**
 * A throwaway repository with the given files (and symlinks), and a DetectContext on it, for
 * unit tests of one detection rule. `outside` files sit next to the repository, for symlinks
 * that try to leave it.
 */
export function repoWith(files: Record<string, string>, o: { symlinks?: Record<string, string>; outside?: Record<string, string>; config?: Partial<ResolvedAppConfig> } = {}): { ctx: DetectContext; dir: string; cleanup(): void } {
  const base = mkdtempSync(join(tmpdir(), "ms-detect-"));
  const dir = join(base, "repo");
  const write = (root: string, rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  mkdirSync(dir);
  for (const [rel, text] of Object.entries(files)) write(dir, rel, text);
  for (const [rel, text] of Object.entries(o.outside ?? {})) write(join(base, "outside"), rel, text);
  for (const [rel, target] of Object.entries(o.symlinks ?? {})) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    symlinkSync(target, join(dir, rel));
  }
  const ctx = new DetectContext(dir, { name: null, ...o.config } as ResolvedAppConfig, null);
  return { ctx, dir, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
