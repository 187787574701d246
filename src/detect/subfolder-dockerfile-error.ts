import { posix } from "node:path";
import { userError, type MicroshipError } from "../core/errors.ts";
import type { DetectContext } from "./context.ts";
import { nestedDockerfiles } from "./nested-dockerfiles.ts";
import { fromAppRoot } from "./build-context.ts";
import { composeBuilds } from "./providers/dockerfile/compose-builds.ts";

const MAX_TOLD = 4;
const SAFE = /^[A-Za-z0-9._@+\/-]{1,200}$/;

/**
 * For an app root nothing builds: the Dockerfiles its compose file builds (when it builds
 * several different ones, none is guessed) and those found in its subdirectories, each with
 * the config that would build it. Null when there are none.
 */
export async function subfolderDockerfileError(ctx: DetectContext, missing: string): Promise<MicroshipError | null> {
  const told = [...(await fromCompose(ctx)), ...(await nestedDockerfiles(ctx))];
  const seen = new Set<string>();
  const unique = told.filter((t) => !seen.has(t.path) && seen.add(t.path)).slice(0, MAX_TOLD);
  if (unique.length === 0) return null;
  const list = unique.map((t) => `\`${ctx.rel(t.path)}\` (\`${t.config}\`)`).join(", ");
  return userError(`${missing} at its top, but found Dockerfiles in subdirectories: ${list}.`, {
    title: "The Dockerfile is in a subdirectory",
    location: { file: ".github/microship.yml" },
    hint: `In .github/microship.yml, set the config shown next to the Dockerfile to build${unique.length > 1 ? " (or `builds:` with one `name:` per app, each with its own)" : ""}.`,
  });
}

async function fromCompose(ctx: DetectContext): Promise<{ path: string; config: string }[]> {
  const builds = await composeBuilds(ctx);
  return builds.filter((b) => SAFE.test(b.dockerfile) && SAFE.test(b.context) && !b.context.startsWith("..") && !b.dockerfile.startsWith("..")).map((b) => {
    const path = fromAppRoot(ctx.root, b.dockerfile);
    const own = posix.dirname(b.dockerfile) === b.context;
    const config = own ? `root: ${b.context}` : `dockerfile: ${path} with context: ${b.context}`;
    return { path, config: `${config}, as service ${b.service} of ${b.file}` };
  });
}
