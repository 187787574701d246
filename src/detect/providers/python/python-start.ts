import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DetectContext } from "../../context.ts";
import { platformStart } from "../../platform-start.ts";
import { appServerStart } from "./python-app-server.ts";
import { ENTRY_FILES } from "./python-app-files.ts";
import { uiAppStart } from "./python-ui-apps.ts";

export { asgiOrWsgiApp } from "./python-app-server.ts";

const BIND = "0.0.0.0:$PORT";

export interface StartChoice {
  command: string;
  source: string;
  /** Something the user should fix for the command to work. */
  warning?: string;
}

/**
 * config, Procfile, another platform's config, Django, an ASGI/WSGI app with its server,
 * Streamlit or Gradio, then the entry files.
 */
export async function pythonStart(ctx: DetectContext, deps: Set<string>): Promise<StartChoice | null> {
  if (ctx.config.start) return { command: ctx.config.start, source: "`start` in .github/microship.yml" };
  const web = await ctx.procfileWeb();
  if (web) return { command: web, source: "the Procfile's web line" };
  const platform = await platformStart(ctx);
  if (platform) return platform;
  const django = await djangoProject(ctx);
  if (django) return djangoStart(ctx, django, deps);
  // fastapi[standard] brings uvicorn along; the extras are dropped from `deps`, so look at the text.
  const server = await appServerStart(ctx, deps, deps.has("uvicorn") || (await standardFastapi(ctx)));
  if (server.command) return { command: server.command, source: server.source! };
  const ui = await uiAppStart(ctx, deps);
  if (ui) return ui;
  const entry = await ctx.firstExisting(ENTRY_FILES);
  return entry ? { command: `python ${entry}`, source: ctx.rel(entry), warning: server.missing } : null;
}

/**
 * gunicorn on the WSGI app; a Channels project (asgi.py, channels among the dependencies) needs
 * an ASGI server for its websockets: daphne, else uvicorn.
 */
async function djangoStart(ctx: DetectContext, project: string, deps: Set<string>): Promise<StartChoice> {
  if (deps.has("channels") && (await ctx.exists(join(project, "asgi.py")))) {
    const source = `Django Channels (channels among the dependencies, ${project}/asgi.py)`;
    if (deps.has("uvicorn") && !deps.has("daphne")) return { command: `uvicorn ${project}.asgi:application --host 0.0.0.0 --port $PORT`, source: `${source}, with uvicorn` };
    return {
      command: `daphne -b 0.0.0.0 -p $PORT ${project}.asgi:application`,
      source: `${source}, with daphne`,
      warning: deps.has("daphne") ? undefined : "A Channels app is served with daphne, which is not among the dependencies: add `daphne` (or `uvicorn`) to them, or set `start:`.",
    };
  }
  return {
    command: `gunicorn ${project}.wsgi:application --bind ${BIND}`,
    source: `Django (manage.py and ${project}/wsgi.py)`,
    warning: deps.has("gunicorn") ? undefined : "Django is served with gunicorn, which is not among the dependencies: add `gunicorn` to them, or set `start:`.",
  };
}

/** The Django project package: the directory next to manage.py that holds wsgi.py. */
export async function djangoProject(ctx: DetectContext): Promise<string | null> {
  if (!(await ctx.exists("manage.py"))) return null;
  const entries = await readdir(ctx.appDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && (await ctx.exists(join(e.name, "wsgi.py")))) return e.name;
  }
  return null;
}

async function standardFastapi(ctx: DetectContext): Promise<boolean> {
  for (const file of ["requirements.txt", "pyproject.toml", "Pipfile"]) {
    if (hasFastapiExtra((await ctx.read(file)) ?? "")) return true;
  }
  return false;
}

/** `fastapi[standard]` or `fastapi [all, x]` anywhere in the text, by indexOf and a bounded look at each: linear. */
export function hasFastapiExtra(text: string): boolean {
  const lower = text.toLowerCase();
  for (let at = lower.indexOf("fastapi"); at >= 0; at = lower.indexOf("fastapi", at + 1)) {
    let i = at + "fastapi".length;
    while (lower[i] === " " || lower[i] === "\t") i++;
    if (lower[i] !== "[") continue;
    // The window bounds the look: an unterminated `[` must not send each occurrence to the end of the text.
    const window = lower.slice(i + 1, i + 201);
    const end = window.indexOf("]");
    if (end < 0) continue;
    if (window.slice(0, end).split(",").some((e) => ["standard", "all"].includes(e.trim()))) return true;
  }
  return false;
}
