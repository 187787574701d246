import type { DetectContext } from "../../context.ts";

// Where a project's settings are, from the package that holds wsgi.py: one module, or a package
// split by environment (cookiecutter-django's config/settings/production.py).
const SETTINGS = ["settings.py", "settings/__init__.py", "settings/base.py", "settings/production.py", "settings/prod.py"];
/**
 * A placeholder for the build only, as Heroku's buildpack gives collectstatic: settings that
 * read SECRET_KEY from the environment fail to import without one. It is set on the RUN line
 * alone, so it is in no ENV of either stage; it protects nothing.
 */
export const BUILD_SECRET_KEY = "microship-collectstatic-build-only-not-a-secret";

export interface Collectstatic {
  /** The RUN line of the build stage. */
  line: string;
  /** Why it runs, for the story. */
  reason: string;
}

/**
 * `collectstatic` at build, when a Django project serves collected files: STATIC_ROOT set in its
 * settings, or whitenoise among the dependencies. `DISABLE_COLLECTSTATIC=1` in the config's env
 * turns it off, as on Heroku.
 */
export async function djangoCollectstatic(ctx: DetectContext, project: string, deps: Set<string>): Promise<Collectstatic | null> {
  if (ctx.config.env?.DISABLE_COLLECTSTATIC === "1") return null;
  let reason: string | null = null;
  for (const file of SETTINGS) {
    const text = await ctx.read(`${project}/${file}`);
    if (text && setsStaticRoot(text)) {
      reason = `STATIC_ROOT is set in ${ctx.rel(`${project}/${file}`)}`;
      break;
    }
  }
  if (!reason && deps.has("whitenoise")) reason = "whitenoise is among the dependencies";
  if (!reason) return null;
  return { reason, line: `RUN SECRET_KEY=${BUILD_SECRET_KEY} DJANGO_SECRET_KEY=${BUILD_SECRET_KEY} python manage.py collectstatic --noinput` };
}

/** A top-level `STATIC_ROOT = ...` (not `==`), by a scan of each line's start. */
export function setsStaticRoot(text: string): boolean {
  for (const line of text.split("\n")) {
    if (!line.startsWith("STATIC_ROOT")) continue;
    let i = "STATIC_ROOT".length;
    while (line[i] === " " || line[i] === "\t") i++;
    if (line[i] === ":") {
      // An annotated assignment: `STATIC_ROOT: Path = ...`.
      const eq = line.indexOf("=", i);
      if (eq > 0 && line[eq + 1] !== "=") return true;
      continue;
    }
    if (line[i] === "=" && line[i + 1] !== "=") return true;
  }
  return false;
}
