/**
 * One installation's writes to GitHub, one at a time, most urgent first.
 *
 * GitHub asks integrations to space an installation's content-creating requests a second apart,
 * and Octokit's throttling does so in arrival order. With several builds of one installation
 * running, their live log tails then filled that queue, and a new push's `queued` check run
 * waited behind all of them. Here a write waits in our queue instead, and only the next one
 * to go is handed to Octokit, so a check run being created or concluded goes ahead of any
 * number of waiting log tails. A tail that waits is still sent: each build has one at a time.
 */
export type WritePriority = "now" | "background";

interface Waiting {
  priority: WritePriority;
  start(): void;
}

export class WriteLane {
  private busy = false;
  private readonly waiting: Waiting[] = [];

  run<T>(priority: WritePriority, write: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        priority,
        start: () => {
          write().then(resolve, reject).finally(() => {
            this.busy = false;
            this.next();
          });
        },
      });
      this.next();
    });
  }

  /** Writes not yet handed to Octokit. */
  get pending(): number {
    return this.waiting.length;
  }

  private next(): void {
    if (this.busy || this.waiting.length === 0) return;
    const urgent = this.waiting.findIndex((w) => w.priority === "now");
    const [job] = this.waiting.splice(urgent === -1 ? 0 : urgent, 1);
    this.busy = true;
    job!.start();
  }
}
