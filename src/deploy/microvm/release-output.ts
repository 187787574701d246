import { cutAt } from "../../core/log-text.ts";
import { releaseExitCode } from "./release-script.ts";

/** Lines streamed to the build log as they come, then the last ones kept for the end. */
const LIVE_LINES = 150;
const TAIL_LINES = 50;
/** The length of each line in the build log, and the lines quoted in an error. */
const MAX_LINE = 2_000;
const ERROR_LINES = 15;
// What the VM's init prints on the serial console, not the command.
const INIT_LINE = /^microvm: (?:booted in |agent exited with status )/;

export interface ReleaseOutputOptions {
  /** This run's nonce: only its marker line reports the exit code. */
  nonce: string;
  /** The deploy's env: its values (secrets among them) are masked in what is shown. */
  env: Record<string, string>;
  log(text: string): void;
}

/**
 * The release VM's console as the user sees it: every line masked and cut, the first LIVE_LINES
 * streamed into the build log at once, after that only the last TAIL_LINES (logged at the end,
 * with how many were left out). The marker line with this run's nonce is taken as the exit
 * code, never shown; lines after it (a process the command left behind) are dropped.
 */
export class ReleaseOutput {
  private readonly o: ReleaseOutputOptions;
  private readonly secrets: string[];
  private code: number | null = null;
  private shown = 0;
  private held: string[] = [];
  private skipped = 0;
  private recent: string[] = [];

  constructor(o: ReleaseOutputOptions) {
    this.o = o;
    // Longest first: a value that contains another is masked whole.
    this.secrets = Object.entries(o.env).filter(([k, v]) => k !== "PORT" && v.length >= 4).map(([, v]) => v).sort((a, b) => b.length - a.length);
  }

  /** The command's exit code, once its marker line has come. */
  get exitCode(): number | null {
    return this.code;
  }

  line(text: string): void {
    if (this.code !== null) return;
    const code = releaseExitCode(text, this.o.nonce);
    if (code !== null) {
      this.code = code;
      return;
    }
    // Blank lines say nothing (and the marker is sent after one, to end an open last line).
    if (INIT_LINE.test(text) || text.trim() === "") return;
    const shown = this.cut(this.mask(text));
    this.recent.push(shown);
    if (this.recent.length > ERROR_LINES) this.recent.shift();
    if (this.shown < LIVE_LINES) {
      this.shown++;
      this.o.log(`release | ${shown}`);
      return;
    }
    this.held.push(shown);
    if (this.held.length > TAIL_LINES) {
      this.held.shift();
      this.skipped++;
    }
  }

  /** Logs the held tail; call once, when the VM has ended. */
  flush(): void {
    if (this.skipped > 0) this.o.log(`release | … ${this.skipped} lines left out …`);
    for (const l of this.held) this.o.log(`release | ${l}`);
    this.held = [];
  }

  /** The last lines, masked, for an error message. */
  lastLines(): string {
    return this.recent.join("\n");
  }

  private mask(text: string): string {
    let out = text;
    for (const v of this.secrets) if (out.includes(v)) out = out.split(v).join("***");
    return out;
  }

  private cut(text: string): string {
    return text.length <= MAX_LINE ? text : `${text.slice(0, cutAt(text, MAX_LINE))} …`;
  }
}
