import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DetectContext } from "../../context.ts";

const ENTRY_FILES = ["main.py", "app.py", "run.py", "server.py", "src/main.py"];
// Where an ASGI or WSGI app object is looked for: the entry files, and the usual package layouts.
const APP_FILES = [...ENTRY_FILES, "app/main.py", "src/app.py", "asgi.py", "wsgi.py"];
const BIND = "0.0.0.0:$PORT";
const ASGI = "FastAPI|Starlette|Quart|Litestar";
const appObject = (classes: string) => new RegExp(`^(\\w+)\\s*(?::\\s*[\\w.]+\\s*)?=\\s*(?:\\w+\\.)?(${classes})\\(`, "m");

export interface StartChoice {
  command: string;
  source: string;
  /** Something the user should fix for the command to work. */
  warning?: string;
}

/** Procfile, Django, ASGI with uvicorn, Flask with gunicorn, then the seed's entry files. */
export async function pythonStart(ctx: DetectContext, deps: Set<string>): Promise<StartChoice | null> {
  if (ctx.config.start) return { command: ctx.config.start, source: "`start` in .github/microship.yml" };
  const web = await ctx.procfileWeb();
  if (web) return { command: web, source: "the Procfile's web line" };
  const django = await djangoProject(ctx);
  if (django) {
    return {
      command: `gunicorn ${django}.wsgi:application --bind ${BIND}`,
      source: `Django (manage.py and ${django}/wsgi.py)`,
      warning: deps.has("gunicorn") ? undefined : "Django is served with gunicorn, which is not among the dependencies: add `gunicorn` to them, or set `start:`.",
    };
  }
  // fastapi[standard] brings uvicorn along; the extras are dropped from `deps`, so look at the text.
  const uvicorn = deps.has("uvicorn") || (await standardFastapi(ctx));
  let missing: string | undefined;
  for (const file of APP_FILES) {
    const text = await ctx.read(file);
    if (!text) continue;
    const module = file.replace(/\.py$/, "").replace(/\//g, ".");
    const asgi = appObject(ASGI).exec(text);
    if (asgi && uvicorn) return { command: `uvicorn ${module}:${asgi[1]} --host 0.0.0.0 --port $PORT`, source: `${asgi[2]} app \`${asgi[1]}\` in ${ctx.rel(file)}, with uvicorn` };
    if (asgi) missing ??= `${ctx.rel(file)} defines a ${asgi[2]} app, but uvicorn is not among the dependencies, so it is not served with uvicorn: add \`uvicorn\` to them, or set \`start:\`.`;
    const flask = appObject("Flask").exec(text);
    if (flask && deps.has("gunicorn")) return { command: `gunicorn ${module}:${flask[1]} --bind ${BIND}`, source: `Flask app \`${flask[1]}\` in ${ctx.rel(file)}, with gunicorn` };
    if (flask) missing ??= `${ctx.rel(file)} defines a Flask app, but gunicorn is not among the dependencies, so it runs on Flask's development server: add \`gunicorn\` to them, or set \`start:\`.`;
  }
  const entry = await ctx.firstExisting(ENTRY_FILES);
  return entry ? { command: `python ${entry}`, source: ctx.rel(entry), warning: missing } : null;
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

export async function asgiOrWsgiApp(ctx: DetectContext): Promise<string | null> {
  for (const file of APP_FILES) {
    const text = await ctx.read(file);
    if (text && appObject(`${ASGI}|Flask`).test(text)) return ctx.rel(file);
  }
  return null;
}

async function standardFastapi(ctx: DetectContext): Promise<boolean> {
  for (const file of ["requirements.txt", "pyproject.toml", "Pipfile"]) {
    if (/fastapi\s*\[[^\]]*\b(standard|all)\b/i.test((await ctx.read(file)) ?? "")) return true;
  }
  return false;
}
