import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DetectContext } from "../../context.ts";

const ENTRY_FILES = ["main.py", "app.py", "run.py", "server.py", "src/main.py"];
const BIND = "0.0.0.0:$PORT";

export interface StartChoice {
  command: string;
  source: string;
}

/** Procfile, Django, ASGI with uvicorn, Flask with gunicorn, then the seed's entry files. */
export async function pythonStart(ctx: DetectContext, deps: Set<string>): Promise<StartChoice | null> {
  if (ctx.config.start) return { command: ctx.config.start, source: "`start` in .github/microship.yml" };
  const web = await ctx.procfileWeb();
  if (web) return { command: web, source: "the Procfile's web line" };
  const django = await djangoProject(ctx);
  if (django) return { command: `gunicorn ${django}.wsgi:application --bind ${BIND}`, source: `Django (manage.py and ${django}/wsgi.py)` };
  for (const file of ENTRY_FILES) {
    const text = await ctx.read(file);
    if (!text) continue;
    const module = file.replace(/\.py$/, "").replace(/\//g, ".");
    const asgi = /^(\w+)\s*=\s*(FastAPI|Starlette|Quart|Litestar)\(/m.exec(text);
    if (asgi && deps.has("uvicorn")) return { command: `uvicorn ${module}:${asgi[1]} --host 0.0.0.0 --port $PORT`, source: `${asgi[2]} app \`${asgi[1]}\` in ${ctx.rel(file)}, uvicorn` };
    const flask = /^(\w+)\s*=\s*Flask\(/m.exec(text);
    if (flask && deps.has("gunicorn")) return { command: `gunicorn ${module}:${flask[1]} --bind ${BIND}`, source: `Flask app \`${flask[1]}\` in ${ctx.rel(file)}, gunicorn` };
  }
  const entry = await ctx.firstExisting(ENTRY_FILES);
  return entry ? { command: `python ${entry}`, source: entry } : null;
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
  for (const file of ENTRY_FILES) {
    const text = await ctx.read(file);
    if (text && /^\w+\s*=\s*(FastAPI|Starlette|Quart|Litestar|Flask)\(/m.test(text)) return ctx.rel(file);
  }
  return null;
}
