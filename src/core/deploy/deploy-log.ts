import { BuildLog } from "../build-log.ts";
import type { Store } from "../store.ts";

/** What the deployer's lines of one image deploy may add to a build's log (the deployer bounds them too). */
export const DEPLOY_LOG_MAX_BYTES = 512 * 1024;

/**
 * The lines of a deploy of an earlier image, appended to the log of the build that made it (the
 * page its deployment's `log_url` opens), scrubbed of secrets as any build log line. The
 * deployer's lines stop at DEPLOY_LOG_MAX_BYTES with one line saying so; microship's own few
 * (the header, how it ended) always go in, so every deploy may add little more than that.
 */
export class DeployLog {
  private readonly log: BuildLog;
  private bytes = 0;
  private cut = false;

  constructor(store: Store, buildId: string, onError: (err: unknown) => void) {
    // Room for the cap, the note and microship's own lines: BuildLog's own cap never bites.
    this.log = new BuildLog(store, buildId, { maxBytes: DEPLOY_LOG_MAX_BYTES * 2, onError });
  }

  /** A line from the deployer (a release command's output among them). */
  line(text: string): void {
    if (this.cut) return;
    this.bytes += Buffer.byteLength(text) + 1;
    if (this.bytes <= DEPLOY_LOG_MAX_BYTES) return this.log.system(text);
    this.cut = true;
    this.log.system(`The rest of this deploy's output was cut: it passed ${DEPLOY_LOG_MAX_BYTES / 1024} KiB.`);
  }

  /** microship's own line. */
  system(text: string): void {
    this.log.system(text.slice(0, 2_000));
  }

  flush(): Promise<void> {
    return this.log.flush();
  }
}
