import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { userError } from "../core/errors.ts";
import { REPO_CONFIG_PATH } from "../core/repo-config.ts";

/** `root:` must name an existing directory inside the repository; anything else is the config's fault. */
export async function checkAppRoot(repoDir: string, root: string | undefined, app: string | null): Promise<void> {
  if (!root || root === ".") return;
  const field = app ? `\`root\` of build \`${app}\`` : "`root`";
  const fail = (why: string) =>
    userError(`${REPO_CONFIG_PATH}: ${field} is \`${root}\`, which ${why}.`, {
      title: "Bad app root",
      location: { file: REPO_CONFIG_PATH },
      hint: "Set `root` to a directory of the repository, relative to its top (for example `apps/web`).",
    });
  if (isAbsolute(root)) throw fail("is an absolute path");
  const real = await realpath(join(repoDir, root)).catch(() => null);
  if (real === null) throw fail("does not exist in the repository");
  const rel = relative(await realpath(repoDir), real);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw fail("leads outside the repository");
  if (!(await stat(real)).isDirectory()) throw fail("is not a directory");
}
