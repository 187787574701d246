import assert from "node:assert/strict";
import { DockerfileParser, Keyword, type Instruction, type From, type Copy, type Env, type Run } from "dockerfile-ast";

const KEYWORDS = new Set<string>(Object.values(Keyword));

/** The instructions of a Dockerfile, each with the stage (0-based FROM index) it belongs to. */
export function stages(text: string): { stage: number; ins: Instruction }[] {
  let stage = -1;
  return DockerfileParser.parse(text).getInstructions().map((ins) => {
    if (ins.getKeyword() === "FROM") stage++;
    return { stage, ins };
  });
}

/**
 * Valid as BuildKit would see it: known keywords only, FROM first (only ARG may come before it),
 * every instruction has arguments, no template placeholder left, and every `COPY --from=`
 * names a stage defined earlier.
 */
export function assertValidDockerfile(text: string, where: string): void {
  assert.doesNotMatch(text, /\{\{|\}\}/, `${where}: an unresolved template placeholder`);
  const all = stages(text);
  assert.ok(all.length > 0, `${where}: no instructions`);
  const firstFrom = all.findIndex((x) => x.ins.getKeyword() === "FROM");
  assert.ok(firstFrom >= 0, `${where}: no FROM`);
  for (const { ins } of all.slice(0, firstFrom)) assert.equal(ins.getKeyword(), "ARG", `${where}: ${ins.getKeyword()} before the first FROM`);
  const names = new Set<string>();
  const args = new Set<string>();
  for (const { ins } of all) {
    const keyword = ins.getKeyword();
    const line = ins.getRange().start.line + 1;
    assert.ok(KEYWORDS.has(keyword), `${where}:${line}: unknown instruction ${keyword}`);
    assert.ok((ins.getArgumentsContent() ?? "").trim() !== "", `${where}:${line}: ${keyword} without arguments`);
    if (keyword === "ARG") {
      const name = (ins.getArgumentsContent() ?? "").split("=")[0]!;
      assert.ok(!args.has(name), `${where}:${line}: ARG ${name} declared twice in one stage`);
      args.add(name);
    }
    if (keyword === "FROM") {
      args.clear();
      const from = ins as From;
      assert.ok(from.getImageName(), `${where}:${line}: FROM without an image`);
      const stage = from.getBuildStage();
      if (stage) names.add(stage.toLowerCase());
    }
    if (keyword === "COPY") {
      const source = (ins as Copy).getFromFlag()?.getValue();
      if (source) assert.ok(names.has(source.toLowerCase()), `${where}:${line}: COPY --from=${source} names no earlier stage (${[...names].join(", ") || "none"})`);
    }
  }
}

/** Per runtime family (the runtime id without its version): the official image and the port. */
export const RUNTIMES: Record<string, { officialImage: (version: string) => string; port: string }> = {
  nodejs: { officialImage: (v) => `node:${v}-slim`, port: "3000" },
  python: { officialImage: (v) => `python:${v}-slim`, port: "8000" },
};

export function runtimeFacts(runtime: string): { officialImage: (version: string) => string; port: string } {
  const facts = RUNTIMES[runtime.replace(/\d+$/, "")];
  assert.ok(facts, `no entry for ${runtime} in RUNTIMES (test/unit/detect/dockerfile-checks.ts)`);
  return facts;
}

/** Each package manager's download cache, which a BuildKit cache mount must keep. */
export const CACHE_DIRS: Record<string, string> = {
  npm: "/root/.npm",
  pnpm: "/root/.local/share/pnpm/store",
  yarn: "/usr/local/share/.cache/yarn",
  "yarn (berry)": "/root/.yarn/berry/cache",
  bun: "/root/.bun/install/cache",
  pip: "/root/.cache/pip",
  pipenv: "/root/.cache/pip",
  pdm: "/root/.cache/pip",
  uv: "/root/.cache/uv",
  poetry: "/root/.cache/pypoetry",
};

/** The properties every generated Dockerfile promises; see the "Rendered Dockerfiles". */
export function assertGeneratedDockerfile(plan: Record<string, any>, baseImage: string, where: string): void {
  const all = stages(plan.dockerfile);
  const froms = all.filter((x) => x.ins.getKeyword() === "FROM").map((x) => x.ins as From);
  const last = froms.length - 1;
  assert.ok(froms.length >= 2, `${where}: not multi-stage`);
  assert.equal(froms[0]!.getBuildStage(), "build", `${where}: the first stage is not named build`);
  for (const f of froms) assert.equal(f.getArgumentsContent()?.split(/\s+/)[0], baseImage, `${where}: FROM`);

  const build = all.filter((x) => x.stage === 0).map((x) => x.ins);
  const final = all.filter((x) => x.stage === last).map((x) => x.ins);
  const text = (i: Instruction) => `${i.getKeyword()} ${i.getRawArgumentsContent() ?? ""}`;
  const sourceCopy = build.findIndex((i) => i.getKeyword() === "COPY" && /^\.\s+\.$/.test(i.getArgumentsContent() ?? ""));
  assert.ok(sourceCopy > 0, `${where}: no COPY . . in the build stage`);

  // Dependency files first, then the install, then the source: the install layer survives edits.
  for (const file of plan.cacheFiles as string[]) {
    const at = build.findIndex((i) => i.getKeyword() === "COPY" && (i.getArgumentsContent() ?? "").split(/\s+/).slice(0, -1).includes(file));
    assert.ok(at >= 0 && at < sourceCopy, `${where}: ${file} is not copied before the source`);
  }
  const cacheDir = CACHE_DIRS[plan.packageManager.name];
  assert.ok(cacheDir, `${where}: no known cache dir for ${plan.packageManager.name}`);
  const mount = `type=cache,target=${cacheDir}`;
  const cached = (i: Instruction) => i.getKeyword() === "RUN" && (i as Run).getFlags().some((f) => f.getName() === "mount" && f.getValue() === mount);
  if (plan.installCommand) {
    const at = build.findIndex((i) => i.getKeyword() === "RUN" && text(i).includes(plan.installCommand));
    assert.ok(at >= 0, `${where}: no RUN with the install command`);
    assert.ok(cached(build[at]!), `${where}: the install has no cache mount ${mount}`);
    if (plan.installCommand === "pip install .") {
      // The project installs itself after the source; its dependencies come in a cached layer first.
      assert.ok(at > sourceCopy, `${where}: pip install . before the source`);
      assert.ok(build.slice(0, sourceCopy).some(cached), `${where}: no cached dependency layer before the source`);
    } else {
      assert.ok(at < sourceCopy, `${where}: the install runs after the source is copied`);
    }
  }

  const users = final.filter((i) => i.getKeyword() === "USER").map((i) => (i.getArgumentsContent() ?? "").split(":")[0]);
  assert.ok(users.length > 0, `${where}: the runtime stage sets no USER`);
  assert.ok(!["root", "0"].includes(users.at(-1)!), `${where}: runs as ${users.at(-1)}`);
  const { port } = runtimeFacts(plan.runtime);
  const env = final.filter((i) => i.getKeyword() === "ENV").flatMap((i) => (i as Env).getProperties().map((p) => [p.getName(), p.getValue()]));
  assert.ok(env.some(([k, v]) => k === "PORT" && v === port), `${where}: no ENV PORT=${port}`);
  assert.ok(final.some((i) => i.getKeyword() === "EXPOSE" && i.getArgumentsContent() === port), `${where}: no EXPOSE ${port}`);
  assert.ok(final.some((i) => i.getKeyword() === "CMD"), `${where}: no CMD`);
  // Compilers, headers and pkg-config stay in the build stage; apt-get there installs shared libraries only.
  assert.ok(!final.some((i) => /g\+\+|gcc|build-essential|pkg-config|-dev\b/.test(text(i))), `${where}: build tools in the runtime stage`);
  const apt = final.filter((i) => text(i).includes("apt-get"));
  for (const i of apt) assert.match(text(i), /^RUN apt-get update && apt-get install -y --no-install-recommends [a-z0-9 .+-]+ && rm -rf \/var\/lib\/apt\/lists\/\*$/, `${where}: an apt-get in the runtime stage that is not a plain install of libraries`);
}
