import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { toml } from "./python-deps.ts";
import { requirementFiles } from "./requirement-files.ts";

export interface PythonPm {
  name: string;
  evidence: string;
  /** Installs the tool itself, outside the app's virtualenv, so it stays out of the image. */
  setup: string | null;
  /** Files copied before the source; installing needs only these. */
  cacheFiles: string[];
  /** The dependency install, run before the source is copied; null when there is nothing to install. */
  install: string | null;
  /** The manager's download cache, kept by a BuildKit cache mount. */
  cacheDir: string;
  /** Run after the source is copied (PEP 621 projects install themselves: `pip install .`). */
  installAfterCopy: string | null;
}

const PIP_CACHE = "/root/.cache/pip";
const LOCK_MANAGERS: [string, string][] = [["uv.lock", "uv"], ["poetry.lock", "poetry"], ["Pipfile.lock", "pipenv"], ["pdm.lock", "pdm"]];
const tool = (name: string) => `RUN --mount=type=cache,target=${PIP_CACHE} pip install ${name}`;
// A PEP 621 project's dependency list, read by the image's own Python (3.11+ has tomllib), so
// they install in a cached layer before the source is copied.
const PEP621_DEPS = `python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb')).get('project', {}).get('dependencies', [])))" > /tmp/requirements.txt && pip install -r /tmp/requirements.txt`;

/**
 * A lockfile-based manager beats requirements.txt, which is often an export of the lock; two
 * lockfile managers at once is a question only the user can answer.
 */
export async function pythonPackageManager(ctx: DetectContext, messages: UserMessage[]): Promise<PythonPm> {
  const locks: [string, string][] = [];
  for (const [file, pm] of LOCK_MANAGERS) if (await ctx.exists(file)) locks.push([file, pm]);
  if (locks.length > 1) {
    throw userError(`Found lockfiles of more than one Python package manager: ${locks.map(([f, pm]) => `${ctx.rel(f)} (${pm})`).join(" and ")}. microship won't guess which one is current.`, {
      title: "Conflicting Python lockfiles",
      location: { file: ctx.rel(locks[1]![0]) },
      hint: "Delete the lockfile of the manager you no longer use.",
    });
  }
  const hasReq = await ctx.exists("requirements.txt");
  if (locks.length === 1) {
    const [lock, pm] = locks[0]!;
    if (hasReq) messages.push({ level: "info", text: `${ctx.rel(lock)} (${pm}) is used; ${ctx.rel("requirements.txt")} is ignored, since it is usually an export of the lock.`, file: ctx.rel("requirements.txt") });
    const evidence = ctx.rel(lock);
    switch (pm) {
      case "uv":
        return { name: "uv", evidence, setup: tool("uv"), cacheFiles: ["pyproject.toml", "uv.lock"], cacheDir: "/root/.cache/uv", installAfterCopy: null, install: "UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy uv sync --frozen --no-dev --no-install-project" };
      case "poetry":
        // With virtualenvs.create false, poetry installs into the active VIRTUAL_ENV (/opt/venv).
        return { name: "poetry", evidence, setup: tool("poetry"), cacheFiles: ["pyproject.toml", "poetry.lock"], cacheDir: "/root/.cache/pypoetry", installAfterCopy: null, install: "poetry config virtualenvs.create false && poetry install --no-root --only main" };
      case "pipenv":
        return { name: "pipenv", evidence, setup: tool("pipenv"), cacheFiles: ["Pipfile", "Pipfile.lock"], cacheDir: PIP_CACHE, installAfterCopy: null, install: "pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt" };
      default:
        return { name: "pdm", evidence, setup: tool("pdm"), cacheFiles: ["pyproject.toml", "pdm.lock"], cacheDir: PIP_CACHE, installAfterCopy: null, install: "pdm export --prod --without-hashes -o /tmp/requirements.txt && pip install -r /tmp/requirements.txt" };
    }
  }
  if (await ctx.exists("Pipfile")) {
    messages.push({ level: "warning", text: "Pipfile without Pipfile.lock: dependencies are resolved at build time. Commit Pipfile.lock.", file: ctx.rel("Pipfile") });
    return { name: "pipenv", evidence: ctx.rel("Pipfile"), setup: tool("pipenv"), cacheFiles: ["Pipfile"], cacheDir: PIP_CACHE, installAfterCopy: null, install: "pipenv lock && pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt" };
  }
  if (hasReq) {
    const files = await requirementFiles(ctx, true);
    const hashed = files.some((f) => !f.constraints && /--hash[=\s]/.test(f.text));
    const nested = files.length > 1 ? ` with ${files.slice(1).map((f) => ctx.rel(f.path)).join(", ")}` : "";
    return { name: "pip", evidence: ctx.rel("requirements.txt") + nested + (hashed ? " (with --hash, so --require-hashes)" : ""), setup: null, cacheFiles: files.map((f) => f.path), cacheDir: PIP_CACHE, installAfterCopy: null, install: `pip install${hashed ? " --require-hashes" : ""} -r requirements.txt` };
  }
  const pyproject = await toml(ctx, "pyproject.toml");
  if (pyproject?.project || pyproject?.["build-system"]) {
    messages.push({ level: "warning", text: `${ctx.rel("pyproject.toml")} without a lockfile: dependencies are resolved at build time, so builds may not be reproducible. Commit a lockfile (uv.lock, poetry.lock or pdm.lock) or a requirements.txt.`, file: ctx.rel("pyproject.toml") });
    return { name: "pip", evidence: `${ctx.rel("pyproject.toml")} (${pyproject.project ? "PEP 621" : "build-system"}, no lockfile)`, setup: null, cacheFiles: ["pyproject.toml"], cacheDir: PIP_CACHE, install: pyproject.project ? PEP621_DEPS : null, installAfterCopy: "pip install ." };
  }
  messages.push({ level: "warning", text: "No Python dependency manifest (requirements.txt, pyproject.toml, Pipfile or a lockfile): nothing is installed." });
  return { name: "pip", evidence: "no dependency manifest", setup: null, cacheFiles: [], cacheDir: PIP_CACHE, install: null, installAfterCopy: null };
}
