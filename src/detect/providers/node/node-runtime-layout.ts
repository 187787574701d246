import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";
import type { NodePm } from "./package-manager.ts";
import type { NodeStart } from "./node-start.ts";
import { devOnlyBinaries } from "./dev-binaries.ts";
import { nextStandaloneConfig } from "./next-standalone.ts";

export interface NodeLayout {
  /** The runtime stage's COPY lines from the build stage. */
  appCopy: string;
  /** Appended to the runtime stage's `ENV NODE_ENV=production PORT=...` line. */
  runtimeEnv: string;
  /** The build stage's last step, dropping devDependencies; empty when they stay. */
  prune: string;
}

const WHOLE_APP = "COPY --from=build --chown=node:node /app /app";

/**
 * What the runtime stage holds. A Next.js app with `output: "standalone"` needs only the
 * traced server Next writes (.next/standalone, with its own node_modules), its static files
 * and public/. Otherwise the whole app, with devDependencies pruned after the build, unless
 * the start command runs a binary only a devDependency provides: a pruned image could never
 * start, so they stay, and the plan says why.
 */
export async function nodeRuntimeLayout(ctx: DetectContext, pkg: Record<string, any>, pm: NodePm, start: NodeStart, built: boolean, pnp: boolean, messages: UserMessage[]): Promise<NodeLayout> {
  const standalone = !start.verbatim && built && !pnp ? await nextStandaloneConfig(ctx, pkg) : null;
  if (standalone) {
    start.command = "node server.js";
    start.source = `output: "standalone" in ${ctx.rel(standalone)}`;
    const publicDir = await ctx.exists("public");
    messages.push({ level: "info", text: `Next.js standalone output (${ctx.rel(standalone)}): the image holds .next/standalone, .next/static${publicDir ? " and public" : ""} only, and runs \`node server.js\` listening on 0.0.0.0.` });
    const copies = [
      "COPY --from=build --chown=node:node /app/.next/standalone ./",
      "COPY --from=build --chown=node:node /app/.next/static ./.next/static",
      publicDir ? "COPY --from=build --chown=node:node /app/public ./public" : null,
    ];
    // Docker sets HOSTNAME to the container's id, and Next's server.js listens on HOSTNAME.
    return { appCopy: copies.filter(Boolean).join("\n"), runtimeEnv: " HOSTNAME=0.0.0.0", prune: "" };
  }
  const prune = pm.prune ? `RUN ${pm.prune}` : "";
  if (!prune) return { appCopy: WHOLE_APP, runtimeEnv: "", prune };
  const dev = await devOnlyBinaries(ctx, pkg, start.command, pm.lockfile);
  if (dev.length === 0) return { appCopy: WHOLE_APP, runtimeEnv: "", prune };
  const list = dev.map((d) => `\`${d.bin}\` (from ${d.from})`).join(", ");
  const from = [...new Set(dev.map((d) => d.from))].join(", ");
  messages.push({
    level: "warning",
    text: `The start command \`${start.command}\` runs ${list}, which only devDependencies provide, so devDependencies are kept in the image instead of pruned after the build. Move ${from} to dependencies, or add a \`start:prod\` script that runs the built app (e.g. \`node dist/main\`).`,
    file: ctx.rel("package.json"),
  });
  return { appCopy: WHOLE_APP, runtimeEnv: "", prune: "" };
}
