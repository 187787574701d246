import { posix } from "node:path";
import { userError } from "../core/errors.ts";

// Characters a path may have to be written unquoted in a COPY line: no space, quote, `$` (COPY
// expands variables), backslash or glob character, so what is copied is exactly what was named.
const SAFE_CHARS = /^[A-Za-z0-9._@+\/-]+$/;
const MAX_LENGTH = 512;

/**
 * A path one of the app's files names (`-r requirements/base.txt`, `yarnPath: .yarn/...`),
 * resolved from the directory of the file that names it to a path from the app root. A path
 * that leaves the app root, is absolute, or can't be written safely in a COPY line is a user
 * error: the build context is the app root, so nothing outside it can reach the install.
 */
export function referencedPath(ref: string, fromFile: string, shownFrom: string, line?: number): string {
  const target = posix.normalize(posix.join(posix.dirname(fromFile), ref));
  const fail = (why: string) =>
    userError(`${shownFrom}${line ? ` line ${line}` : ""} names \`${ref.slice(0, 200)}\`, which ${why}.`, {
      title: "Unusable path in a dependency file",
      location: { file: shownFrom, line },
      hint: "Name a file inside the app's directory, by a relative path of letters, digits and . _ - + @ /.",
    });
  if (ref.length > MAX_LENGTH || !SAFE_CHARS.test(ref)) throw fail("microship can't copy into the build safely");
  if (posix.isAbsolute(ref)) throw fail("is absolute; the build only sees the app's directory");
  if (target === ".." || target.startsWith("../")) throw fail("is outside the app's directory, which is all the build sees");
  return target;
}
