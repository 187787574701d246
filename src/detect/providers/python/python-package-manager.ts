import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { toml } from "./python-deps.ts";

export interface PythonPm {
  name: string;
  evidence: string;
  setup: string | null;
  /** Files copied before the source; installing needs only these. */
  cacheFiles: string[];
  install: string;
  /** True when the install needs the whole source (pip install .). */
  installAfterCopy: boolean;
}

const LOCK_MANAGERS: [string, string][] = [["uv.lock", "uv"], ["poetry.lock", "poetry"], ["Pipfile.lock", "pipenv"], ["pdm.lock", "pdm"]];

/**
 * A lockfile-based manager beats requirements.txt, which is often an export of the lock; two
 * lockfile managers at once is a question only the user can answer.
 */
export async function pythonPackageManager(ctx: DetectContext, messages: UserMessage[]): Promise<PythonPm> {
  const locks: [string, string][] = [];
  for (const [file, pm] of LOCK_MANAGERS) if (await ctx.exists(file)) locks.push([file, pm]);
  if (locks.length > 1) {
    throw userError(`Found lockfiles of two Python package managers: ${locks.map(([f, pm]) => `${ctx.rel(f)} (${pm})`).join(" and ")}.`, {
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
        return { name: "uv", evidence, setup: "RUN pip install uv", cacheFiles: ["pyproject.toml", "uv.lock"], install: "UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project", installAfterCopy: false };
      case "poetry":
        return { name: "poetry", evidence, setup: "RUN pip install poetry", cacheFiles: ["pyproject.toml", "poetry.lock"], install: "poetry config virtualenvs.create false && poetry install --no-root --only main", installAfterCopy: false };
      case "pipenv":
        return { name: "pipenv", evidence, setup: "RUN pip install pipenv", cacheFiles: ["Pipfile", "Pipfile.lock"], install: "pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt", installAfterCopy: false };
      default:
        return { name: "pdm", evidence, setup: "RUN pip install pdm", cacheFiles: ["pyproject.toml", "pdm.lock"], install: "pdm export --prod --without-hashes -o /tmp/requirements.txt && pip install -r /tmp/requirements.txt", installAfterCopy: false };
    }
  }
  if (await ctx.exists("Pipfile")) {
    messages.push({ level: "warning", text: "Pipfile without Pipfile.lock: dependencies are resolved at build time. Commit Pipfile.lock.", file: ctx.rel("Pipfile") });
    return { name: "pipenv", evidence: ctx.rel("Pipfile"), setup: "RUN pip install pipenv", cacheFiles: ["Pipfile"], install: "pipenv lock && pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt", installAfterCopy: false };
  }
  if (hasReq) {
    const hashed = /--hash=/.test((await ctx.read("requirements.txt")) ?? "");
    return { name: "pip", evidence: ctx.rel("requirements.txt"), setup: null, cacheFiles: ["requirements.txt"], install: `pip install${hashed ? " --require-hashes" : ""} -r requirements.txt`, installAfterCopy: false };
  }
  const pyproject = await toml(ctx, "pyproject.toml");
  if (pyproject?.project) {
    messages.push({ level: "warning", text: "pyproject.toml without a lockfile: dependencies are resolved at build time.", file: ctx.rel("pyproject.toml") });
    return { name: "pip", evidence: `${ctx.rel("pyproject.toml")} (PEP 621, no lockfile)`, setup: null, cacheFiles: ["pyproject.toml"], install: "true", installAfterCopy: true };
  }
  messages.push({ level: "warning", text: "No Python dependency manifest (requirements.txt, pyproject.toml, Pipfile): nothing is installed." });
  return { name: "pip", evidence: "no dependency manifest", setup: null, cacheFiles: [], install: "true", installAfterCopy: false };
}
