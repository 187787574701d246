import type { Builder, BuildHandle, BuildInput, BuildOutput } from "../core/builder.ts";
import { cancelledError, type MicroshipError } from "../core/errors.ts";
import { LogChannel } from "./log-lines.ts";
import { BuildRun, type BuildIO } from "./build-run.ts";

export { buildTimedOut, TAIL_LINES, type BuildIO } from "./build-run.ts";

/** What a backend implements: start a build, stream its lines, give its result. */
export interface BuildBackend {
  /** "host", "hypeman" or "microvm". */
  readonly name: string;
  describe(): string;
  /**
   * Runs one build. `input.signal` is the shell's: it aborts with the typed error the build must
   * end with (cancelled, timed out), and the backend then stops and cleans up; what it rejects
   * with after that is replaced by the signal's reason. Lines go to `io`, never to the caller.
   */
  run(input: BuildInput, io: BuildIO): Promise<BuildOutput>;
  /** An error the backend did not type (a missing tool, a failed write), as the build's error. */
  unexpected(err: unknown): MicroshipError;
  /** Frees what the backend holds across builds; the shell has stopped every build first. */
  close?(): Promise<void>;
}

/**
 * The part of every builder that is not about where the build runs (docs/design.md section 5): the log
 * channel, the caller's cancel and the deadline as typed errors, the tail failure messages are
 * made from, and the masking of the build's secrets in all of it. A backend only builds.
 */
export class BuilderShell implements Builder {
  readonly name: string;
  private readonly backend: BuildBackend;
  private readonly running = new Map<BuildRun, Promise<unknown>>();

  constructor(backend: BuildBackend) {
    this.backend = backend;
    this.name = backend.name;
  }

  describe(): string {
    return this.backend.describe();
  }

  build(input: BuildInput): BuildHandle {
    const logs = new LogChannel();
    const run = new BuildRun(input, logs);
    const result = this.backend.run(run.input, run).then(
      (output) => output,
      (err: unknown) => Promise.reject(run.failure(err, (e) => this.backend.unexpected(e))),
    ).finally(() => {
      run.dispose();
      this.running.delete(run);
      logs.close();
    });
    this.running.set(run, result.catch(() => undefined));
    return { logs, result };
  }

  /** Stops the builds still running, waits for them to clean up, then lets the backend go. */
  async close(): Promise<void> {
    const settling = [...this.running].map(([run, settled]) => {
      run.stop(cancelledError("The builder is shutting down."));
      return settled;
    });
    await Promise.all(settling);
    await this.backend.close?.();
  }
}
