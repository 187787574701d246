import { posix } from "node:path";
import assert from "node:assert/strict";
import type { Env, From, Instruction, Run } from "dockerfile-ast";
import { CACHE_DIRS, stages } from "./dockerfile-checks.ts";

/**
 * What a generated static-site Dockerfile promises: the last stage is Caddy (or base_image),
 * non-root, on ENV PORT=8080 with EXPOSE, with a Caddyfile that listens on {$PORT} and, for a
 * built app only, answers unknown paths with index.html. A built app's first stage is Node's
 * official image, named build, with the dependency files, the cached install, the source and
 * the build in that order, and the runtime stage copies only the output directory.
 */
export function assertStaticDockerfile(plan: Record<string, any>, serverImage: string, where: string): void {
  const all = stages(plan.dockerfile);
  const froms = all.filter((x) => x.ins.getKeyword() === "FROM").map((x) => x.ins as From);
  const last = froms.length - 1;
  const final = all.filter((x) => x.stage === last).map((x) => x.ins);
  const text = (i: Instruction) => `${i.getKeyword()} ${i.getRawArgumentsContent() ?? ""}`;
  assert.equal(froms[last]!.getArgumentsContent(), serverImage, `${where}: the serving stage's FROM`);
  const users = final.filter((i) => i.getKeyword() === "USER").map((i) => (i.getArgumentsContent() ?? "").split(":")[0]);
  assert.ok(users.length > 0 && !["root", "0"].includes(users.at(-1)!), `${where}: runs as root`);
  const env = final.filter((i) => i.getKeyword() === "ENV").flatMap((i) => (i as Env).getProperties().map((p) => [p.getName(), p.getValue()]));
  assert.ok(env.some(([k, v]) => k === "PORT" && v === "8080"), `${where}: no ENV PORT=8080`);
  assert.ok(final.some((i) => i.getKeyword() === "EXPOSE" && i.getArgumentsContent() === "8080"), `${where}: no EXPOSE 8080`);
  const caddyfile = final.find((i) => i.getKeyword() === "RUN" && text(i).includes("/etc/caddy/Caddyfile"));
  assert.ok(caddyfile && text(caddyfile).includes("':{$PORT} {'"), `${where}: no Caddyfile listening on {$PORT}`);
  assert.equal(text(caddyfile).includes("try_files {path} /index.html"), plan.buildCommand !== null, `${where}: SPA fallback iff built`);
  assert.ok(!final.some((i) => /apt-get|npm|node /.test(text(i))), `${where}: build tools in the serving stage`);
  if (plan.buildCommand === null) {
    assert.equal(froms.length, 1, `${where}: a plain site needs one stage`);
    return;
  }
  assert.equal(froms.length, 2, `${where}: not build + serve`);
  assert.equal(froms[0]!.getBuildStage(), "build", `${where}: the first stage is not named build`);
  assert.equal(froms[0]!.getArgumentsContent()?.split(/\s+/)[0], `node:${plan.version.value}-slim`, `${where}: the build stage's FROM`);
  const build = all.filter((x) => x.stage === 0).map((x) => x.ins);
  const at = (pred: (i: Instruction) => boolean) => build.findIndex(pred);
  const source = at((i) => i.getKeyword() === "COPY" && i.getArgumentsContent() === ". .");
  const install = at((i) => i.getKeyword() === "RUN" && text(i).includes(plan.installCommand));
  const built = at((i) => i.getKeyword() === "RUN" && text(i) === `RUN ${plan.buildCommand}`);
  assert.ok(install >= 0 && install < source && source < built, `${where}: install, source and build out of order`);
  const mount = `type=cache,target=${CACHE_DIRS[plan.packageManager.name]}`;
  assert.ok((build[install] as Run).getFlags().some((f) => f.getName() === "mount" && f.getValue() === mount), `${where}: the install has no cache mount`);
  for (const file of plan.cacheFiles as string[]) {
    const copied = at((i) => i.getKeyword() === "COPY" && (i.getArgumentsContent() ?? "").split(/\s+/).slice(0, -1).includes(file));
    assert.ok(copied >= 0 && copied < install, `${where}: ${file} is not copied before the install`);
  }
  const copies = final.filter((i) => i.getKeyword() === "COPY").map((i) => i.getTextContent());
  const output = plan.messages.find((m: { text: string }) => m.text.includes("Caddy serves ")).text.split("Caddy serves ")[1].split("/ on ")[0];
  // A site inside a workspace is built from the workspace root: its output is under its own folder there.
  const inContext = plan.contextRoot && plan.contextRoot !== plan.root ? `${posix.relative(plan.contextRoot, plan.root)}/` : "";
  assert.deepEqual(copies, [`COPY --from=build /app/${inContext}${output} /srv`], `${where}: the output directory isn't all that's copied`);
}
