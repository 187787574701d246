import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Where a repo path really leads, resolved one component at a time inside `root` (a real path),
 * as the kernel would but never above the root: a `..` at the root, an absolute link target,
 * a dangling link or a loop ends the walk. Judging a link by its target text is not enough:
 * `d -> .` plus `x -> d/d/../../../etc/x` stays inside by text and leaves when followed. Nor is a
 * realpath that comes back in: `x -> d/../<root's own name>/f` lands inside here and in a
 * sibling directory wherever the tree is unpacked under another name.
 */
export type Resolution =
  | { kind: "inside"; path: string; rel: string; viaLink: boolean }
  | { kind: "missing"; viaLink: boolean }
  | { kind: "leaves"; target: string }
  | { kind: "loops" };

/** Linux gives up after 40 links in one lookup; so do we. */
const MAX_HOPS = 40;

export async function resolveBeneath(root: string, relPath: string): Promise<Resolution> {
  const pending = relPath.split("/").reverse();
  const at: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (at.length === 0) return { kind: "leaves", target: relPath };
      at.pop();
      continue;
    }
    const abs = join(root, ...at, part);
    const st = await lstat(abs).catch(() => null);
    if (st === null) return { kind: "missing", viaLink: hops > 0 };
    if (st.isSymbolicLink()) {
      if (++hops > MAX_HOPS) return { kind: "loops" };
      const target = await readlink(abs);
      if (target.startsWith("/")) return { kind: "leaves", target };
      pending.push(...target.split("/").reverse());
      continue;
    }
    // A file with anything after it, even `/.` or `/`, fails the lookup, as ENOTDIR would.
    if (pending.length > 0 && !st.isDirectory()) return { kind: "missing", viaLink: hops > 0 };
    at.push(part);
  }
  return { kind: "inside", path: join(root, ...at), rel: at.join("/"), viaLink: hops > 0 };
}
