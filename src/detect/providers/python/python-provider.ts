import type { Provider } from "../../provider.ts";
import type { DetectContext } from "../../context.ts";
import type { BuildPlan, UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { renderTemplate, startCmd, envLines, argLines, dependencyLayers } from "../../render-template.ts";
import { dockerignoreFor, planBase } from "../../plan-defaults.ts";
import { pythonDependencies } from "./python-deps.ts";
import { pythonPackageManager } from "./python-package-manager.ts";
import { pythonVersion } from "./python-version.ts";
import { PYTHON, endOfLifeWarning } from "../../runtime-versions.ts";
import { pythonStart, djangoProject, asgiOrWsgiApp } from "./python-start.ts";
import { platformStart } from "../../platform-start.ts";
import { staticSiteHint } from "../../unknown-app.ts";
import { pythonExtras } from "./python-build-extras.ts";

const MANIFESTS = ["requirements.txt", "pyproject.toml", "Pipfile", "uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "manage.py", "main.py", "app.py"];
const PORT = "8000";
const PYTHON_COMMAND = /\b(python3?|gunicorn|uvicorn|hypercorn|daphne|waitress-serve|flask|django-admin|streamlit)\b/;

export const pythonProvider: Provider = {
  name: "python",
  label: "Python",
  runtimeIds: /^(python|python\d+)$/,
  lookedFor: "requirements.txt, pyproject.toml, Pipfile, a lockfile, manage.py, main.py or app.py (Python)",
  startCommandHelp: "add a Procfile with a `web:` line, or set `start:` in .github/microship.yml",

  async detect(ctx) {
    return (await ctx.firstExisting(MANIFESTS)) !== null;
  },

  async startEvidence(ctx) {
    const web = await ctx.procfileWeb();
    if (web && PYTHON_COMMAND.test(web)) return `Procfile web: ${web}`;
    const platform = await platformStart(ctx);
    if (platform && PYTHON_COMMAND.test(platform.command)) return `${platform.source}: ${platform.command}`;
    if (await djangoProject(ctx)) return "manage.py";
    const app = await asgiOrWsgiApp(ctx);
    if (app) return `an ASGI/WSGI app in ${app}`;
    const deps = await pythonDependencies(ctx).catch(() => new Set<string>());
    const server = ["gunicorn", "uvicorn", "streamlit", "gradio"].find((d) => deps.has(d));
    return server ? `${server} among the dependencies` : null;
  },

  async plan(ctx: DetectContext): Promise<BuildPlan> {
    const messages: UserMessage[] = [];
    const version = await pythonVersion(ctx);
    const eol = endOfLifeWarning(PYTHON, version.value, ctx.today);
    if (eol) messages.push({ level: "warning", text: eol });
    const pm = await pythonPackageManager(ctx, messages);
    const deps = await pythonDependencies(ctx);
    const start = await pythonStart(ctx, deps);
    if (!start) {
      throw userError("No start command found for this Python app: looked for a Procfile `web:` line, a start command in nixpacks.toml, railway.json, railway.toml or render.yaml, a Django project, a FastAPI/Flask app (or `create_app` factory) with uvicorn/gunicorn, a Streamlit or Gradio script, and main.py, app.py, run.py, server.py, src/main.py.", {
        title: "No start command",
        hint: `To fix it, ${pythonProvider.startCommandHelp}.${await staticSiteHint(ctx)}`,
      });
    }
    if (start.warning) messages.push({ level: "warning", text: start.warning });
    const runtime = `python${version.value.replace(".", "")}`;
    messages.unshift({ level: "info", text: `Python ${version.value} (from ${version.source}), ${pm.name} (from ${pm.evidence}); start: \`${start.command}\` (from ${start.source}).` });
    const extras = await pythonExtras(ctx, deps, messages);
    const cacheFiles = [];
    for (const f of pm.cacheFiles) if (await ctx.exists(f)) cacheFiles.push(f);
    const dockerfile = renderTemplate("python", {
      runtime,
      base_image: ctx.baseImage(`python:${version.value}-slim`),
      build_args: argLines(ctx.config.build_args),
      env: envLines(ctx.config.env),
      setup: pm.setup ?? "",
      dependencies: dependencyLayers(cacheFiles, pm.cacheDir, pm.install),
      install_after_copy: pm.installAfterCopy ? `RUN --mount=type=cache,target=${pm.cacheDir} ${pm.installAfterCopy}` : "",
      port: PORT,
      start: startCmd(start.command),
      ...extras,
    });
    return {
      ...planBase(ctx),
      runtime,
      provider: "python",
      version,
      packageManager: { name: pm.name, evidence: pm.evidence },
      installCommand: pm.installAfterCopy ?? pm.install,
      buildCommand: null,
      startCommand: start.command,
      cacheFiles,
      dockerfile,
      dockerfilePath: null,
      dockerignore: await dockerignoreFor(ctx),
      messages,
    };
  },
};
