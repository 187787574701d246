import type { DetectContext } from "../../context.ts";
import { appFiles, moduleOf } from "./python-app-files.ts";

const BIND = "0.0.0.0:$PORT";
const ASGI = "FastAPI|Starlette|Quart|Litestar";
const appObject = (classes: string) => new RegExp(`^(\\w+)\\s*(?::\\s*[\\w.]+\\s*)?=\\s*(?:\\w+\\.)?(${classes})\\(`, "m");

export interface AppServerStart {
  command?: string;
  source?: string;
  /** Why an app that was found is not served by a production server. */
  missing?: string;
}

/**
 * An ASGI app served by uvicorn, a Flask app or an app factory (`def create_app(`) served by
 * gunicorn, in the first of the app files that has one. When the server is not among the
 * dependencies, `missing` says so and the caller falls back to running the file.
 */
export async function appServerStart(ctx: DetectContext, deps: Set<string>, uvicorn: boolean): Promise<AppServerStart> {
  let missing: string | undefined;
  for (const file of new Set(await appFiles(ctx))) {
    const text = await ctx.read(file);
    if (!text) continue;
    const module = moduleOf(file);
    const asgi = appObject(ASGI).exec(text);
    if (asgi && uvicorn) return { command: `uvicorn ${module}:${asgi[1]} --host 0.0.0.0 --port $PORT`, source: `${asgi[2]} app \`${asgi[1]}\` in ${ctx.rel(file)}, with uvicorn` };
    if (asgi) missing ??= `${ctx.rel(file)} defines a ${asgi[2]} app, but uvicorn is not among the dependencies, so it is not served with uvicorn: add \`uvicorn\` to them, or set \`start:\`.`;
    const flask = appObject("Flask").exec(text);
    if (flask && deps.has("gunicorn")) return { command: `gunicorn ${module}:${flask[1]} --bind ${BIND}`, source: `Flask app \`${flask[1]}\` in ${ctx.rel(file)}, with gunicorn` };
    const factory = definesFactory(text) && text.includes("flask");
    if (factory && deps.has("gunicorn")) return { command: `gunicorn '${module}:create_app()' --bind ${BIND}`, source: `the app factory \`create_app()\` in ${ctx.rel(file)}, with gunicorn` };
    if (flask || factory) missing ??= `${ctx.rel(file)} defines a Flask app${factory ? " factory" : ""}, but gunicorn is not among the dependencies, so it runs on Flask's development server: add \`gunicorn\` to them, or set \`start:\`.`;
  }
  return { missing };
}

/** Whether some file of the app defines an ASGI or WSGI app object; for the node-versus-python tie-break. */
export async function asgiOrWsgiApp(ctx: DetectContext): Promise<string | null> {
  for (const file of new Set(await appFiles(ctx))) {
    const text = await ctx.read(file);
    if (text && (appObject(`${ASGI}|Flask`).test(text) || (definesFactory(text) && text.includes("flask")))) return ctx.rel(file);
  }
  return null;
}

/** A top-level `def create_app(`: Flask's application factory. Lines only, no regex over the file. */
function definesFactory(text: string): boolean {
  return text.split("\n").some((line) => line.startsWith("def create_app("));
}
