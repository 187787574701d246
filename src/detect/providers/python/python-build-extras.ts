import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";
import { procfileRelease } from "../../procfile-release.ts";
import { djangoCollectstatic } from "./django-static.ts";
import { aptInstall, nativeNeeds } from "./native-packages.ts";
import { djangoProject } from "./python-start.ts";

/** The python template's values beyond install and start: system packages and Django's build step. */
export interface PythonExtras {
  build_packages: string;
  runtime_packages: string;
  collectstatic: string;
}

/**
 * What the dependencies need from the system (a compiler and headers to build, libraries to run)
 * and, for Django, `collectstatic` at build and what happens to migrations; each told in `messages`.
 */
export async function pythonExtras(ctx: DetectContext, deps: Set<string>, messages: UserMessage[]): Promise<PythonExtras> {
  const native = nativeNeeds(deps);
  if (native.because.length > 0) {
    const parts = [native.build.length ? `${native.build.join(", ")} in the build stage` : "", native.runtime.length ? `${native.runtime.join(", ")} in the image` : ""].filter(Boolean);
    const base = ctx.config.base_image ? " (with apt-get: `base_image` must be Debian-based)" : "";
    messages.push({ level: "info", text: `${native.because.join(", ")} need${native.because.length === 1 ? "s" : ""} system packages: ${parts.join("; ")}${base}.` });
  }
  const project = await djangoProject(ctx);
  const collect = project ? await djangoCollectstatic(ctx, project, deps) : null;
  if (collect) messages.push({ level: "info", text: `\`python manage.py collectstatic --noinput\` runs at build (${collect.reason}), with a throwaway SECRET_KEY that stays out of the image. Set \`env: { DISABLE_COLLECTSTATIC: "1" }\` to skip it.` });
  if (project) {
    const release = await procfileRelease(ctx);
    messages.push({
      level: "info",
      text: release
        ? `Migrations are not run at build; the Procfile's \`release: ${release}\` will run before each deploy.`
        : "Migrations are not run at build (there is no database there): add `release: python manage.py migrate` to the Procfile, or set `deploy.release`, to run them before each deploy.",
    });
  }
  return { build_packages: aptInstall(native.build), runtime_packages: aptInstall(native.runtime), collectstatic: collect?.line ?? "" };
}
