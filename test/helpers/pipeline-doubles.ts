import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import type { Builder, BuildHandle, BuildInput, LogLine } from "../../src/core/builder.ts";
import { LogChannel } from "../../src/builder/log-lines.ts";
import type { BuildOutcome, BuildRecord } from "../../src/core/build.ts";
import type { ChecksReporter, RunRef, Planner, Archiver, ImageNamer, SourceFetcher, ConfigSource, OpLog } from "../../src/core/ports.ts";
import type { BuildPlan } from "../../src/core/types.ts";
import { parseRepoConfig } from "../../src/core/repo-config.ts";
import { readFile } from "node:fs/promises";

/**
 * Test doubles for the pipeline's seams. They are used only where a test is about the
 * pipeline's own logic; the integration and e2e tests use the real parts.
 */

export const quietLog: OpLog = { info() {}, warn() {}, error() {}, debug() {}, child: () => quietLog };

export type ReporterCall =
  | { kind: "queued"; buildId: string }
  | { kind: "started"; buildId: string; app: string | null; checkRunId: number }
  | { kind: "progress"; checkRunId: number; lines: number }
  | { kind: "completed"; checkRunId: number; app: string | null; outcome: BuildOutcome; tail: LogLine[] };

export class RecordingReporter implements ChecksReporter {
  calls: ReporterCall[] = [];
  private next = 100;

  async queued(build: BuildRecord): Promise<number> {
    this.calls.push({ kind: "queued", buildId: build.id });
    return this.next++;
  }
  async started(run: RunRef): Promise<number> {
    const id = run.checkRunId ?? this.next++;
    this.calls.push({ kind: "started", buildId: run.build.id, app: run.app, checkRunId: id });
    return id;
  }
  async progress(run: RunRef & { checkRunId: number }, tail: LogLine[]): Promise<void> {
    this.calls.push({ kind: "progress", checkRunId: run.checkRunId, lines: tail.length });
  }
  async completed(run: RunRef & { checkRunId: number }, outcome: BuildOutcome, tail: LogLine[]): Promise<void> {
    this.calls.push({ kind: "completed", checkRunId: run.checkRunId, app: run.app, outcome, tail });
  }
  completions() {
    return this.calls.filter((c): c is Extract<ReporterCall, { kind: "completed" }> => c.kind === "completed");
  }
}

/** A checkout that writes the given files into a fresh temp dir. */
export function filesSource(files: Record<string, string>): SourceFetcher & { dirs: string[] } {
  const dirs: string[] = [];
  return {
    dirs,
    async checkout() {
      const dir = await mkdtemp(join(tmpdir(), "ms-src-"));
      dirs.push(dir);
      for (const [p, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, p)), { recursive: true });
        await writeFile(join(dir, p), text);
      }
      return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  };
}

export const fileConfig: ConfigSource = {
  async load(_req, dir) {
    try {
      return parseRepoConfig(await readFile(join(dir, ".github/microship.yml"), "utf8"));
    } catch {
      return null;
    }
  },
};

export function plan(over: Partial<BuildPlan> = {}): BuildPlan {
  return {
    app: null, root: ".", runtime: "nodejs24", provider: "node", version: { value: "24", source: "default" },
    packageManager: { name: "npm", evidence: "package-lock.json" }, installCommand: "npm ci", buildCommand: null, startCommand: "node index.js",
    cacheFiles: ["package.json"], dockerfile: "FROM scratch\n", dockerfilePath: null, dockerignore: null, buildArgs: {}, env: {},
    imageTemplate: null, timeoutSeconds: null, messages: [], ...over,
  };
}

export const fixedPlanner = (plans: BuildPlan[] = [plan()]): Planner => ({
  async plan() {
    return plans.map((p) => ({ ok: true as const, plan: p }));
  },
});

export const emptyArchiver: Archiver = {
  async archive() {
    return { open: () => Readable.from([]), path: "/dev/null", sha256: "0".repeat(64), sizeBytes: 0, fileCount: 0 };
  },
};

export const namer: ImageNamer = {
  target(req) {
    return { imageName: `registry.test/${req.owner}/${req.repo}`, tags: [req.sha] };
  },
};

/** A script logs raw text, or a line already made as a real builder makes it (with its colours). */
export type Script = (input: BuildInput, log: (text: string | LogLine) => void) => Promise<{ digest: string } | never>;

/** A builder whose behaviour each test scripts; honours the abort signal like a real one must. */
export class ScriptedBuilder implements Builder {
  readonly name = "scripted";
  inputs: BuildInput[] = [];
  private readonly script: Script;
  constructor(script: Script) {
    this.script = script;
  }
  describe() {
    return "a scripted test builder";
  }
  build(input: BuildInput): BuildHandle {
    this.inputs.push(input);
    const logs = new LogChannel();
    const result = this.script(input, (text) => logs.push(typeof text === "string" ? { ts: Date.now(), stream: "stdout", text } : text)).then((r) => ({
      imageRef: `${input.imageName}@${r.digest}`, digest: r.digest, tags: input.tags, sizeBytes: 1234,
      provenance: { sourceHash: input.source.sha256, lockfileHashes: {}, baseImageDigest: null, builderVersion: "test" },
      timings: { buildMs: 5, pushMs: 1 },
    })).finally(() => logs.close());
    return { logs, result };
  }
}

export function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
