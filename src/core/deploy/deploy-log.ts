import { BuildLog } from "../build-log.ts";
import type { Store } from "../store.ts";

/** What the deployer's lines of one image deploy may add to a build's log (the deployer bounds them too). */
export const DEPLOY_LOG_MAX_BYTES = 512 * 1024;

/**
 * How big a build's log may grow with every later deploy of its image added: past it, a deploy
 * writes nothing there (its GitHub status still says how it went), so deploying one image again
 * and again can't grow one log without end.
 */
export const LOG_WITH_DEPLOYS_MAX_BYTES = 64 * 1024 * 1024;

/** Kept for microship's own few lines of one deploy (each cut to 2,000 characters). */
const OWN_LINES_BYTES = 16 * 1024;

/**
 * The lines of a deploy of an earlier image, appended to the log of the build that made it (the
 * page its deployment's `log_url` opens), scrubbed of secrets as any build log line. The
 * deployer's lines stop at DEPLOY_LOG_MAX_BYTES with one line saying so; microship's own few
 * (the header, how it ended) always go in, so every deploy may add little more than that.
 */
export class DeployLog {
  private readonly log: BuildLog;
  private readonly budget: number;
  private readonly full: boolean;
  private bytes = 0;
  private cut = false;

  /** Opens the build's log for one deploy, with what room the log has left (`maxTotalBytes`, for tests). */
  static async open(store: Store, buildId: string, onError: (err: unknown) => void, maxTotalBytes = LOG_WITH_DEPLOYS_MAX_BYTES): Promise<DeployLog> {
    // The stored size; if the store can't say, its writes will fail too and be reported there.
    const stored = await store.logTail(buildId, 0).then((t) => t.totalBytes, () => 0);
    return new DeployLog(store, buildId, onError, maxTotalBytes - stored);
  }

  private constructor(store: Store, buildId: string, onError: (err: unknown) => void, room: number) {
    this.full = room < OWN_LINES_BYTES;
    this.budget = Math.max(0, Math.min(DEPLOY_LOG_MAX_BYTES, room - OWN_LINES_BYTES));
    // Room for the cap, the note and microship's own lines: BuildLog's own cap never bites.
    this.log = new BuildLog(store, buildId, { maxBytes: DEPLOY_LOG_MAX_BYTES * 2, onError });
  }

  /** A line from the deployer (a release command's output among them). */
  line(text: string): void {
    if (this.cut || this.full) return;
    this.bytes += Buffer.byteLength(text) + 1;
    if (this.bytes <= this.budget) return this.log.system(text);
    this.cut = true;
    this.log.system(`The rest of this deploy's output was cut: it passed ${Math.floor(this.budget / 1024)} KiB.`);
  }

  /** microship's own line. */
  system(text: string): void {
    if (!this.full) this.log.system(text.slice(0, 2_000));
  }

  flush(): Promise<void> {
    return this.log.flush();
  }
}
