import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { LogLine } from "../../core/builder.ts";
import { LineSplitter } from "../log-lines.ts";
import { infraError } from "../../core/errors.ts";
import { listenResultChannel } from "./result-channel.ts";
import { listenLogChannel } from "./log-channel.ts";
import type { AgentResult } from "./agent-result.ts";

export interface RunVmOptions {
  qemu?: string;
  args: string[];
  /** Where QEMU connects the guest's result port; the host listens there first. */
  resultSocket: string;
  /** Where QEMU connects the guest's log port; its lines go to onLine too. */
  logSocket: string;
  /** Every line of the serial console, as it arrives. */
  onLine(line: LogLine): void;
  /** Aborting kills QEMU at once. */
  signal: AbortSignal;
  /** The outer deadline: QEMU can pause instead of exiting, so it is killed by pid then. */
  deadlineMs: number;
  /**
   * How long the guest may take to reach its init's "booted" line. A kernel that stalls early
   * prints nothing and would otherwise hold the build until the outer deadline.
   */
  bootDeadlineMs?: number;
  /** How long the guest may take to power off once it has reported. */
  exitGraceMs?: number;
  onStart?(pid: number): void;
  /** A second result line breaks the contract; the operator hears of it. */
  onExtraResultLine?(line: string): void;
}

export type KilledBy = "abort" | "boot" | "deadline" | "after-result";

/** What the initramfs's init prints once the disks are mounted (images/microvm/init.sh). */
const BOOTED = /^microvm: booted in /;

export interface VmOutcome {
  result: AgentResult | null;
  /** Why the result line was unusable, if one came. */
  problem: string | null;
  exitCode: number | null;
  killedBy: KilledBy | null;
  /** QEMU's own complaints, for the operator. */
  stderrTail: string;
}

/** Boots one builder VM and waits for it to end, one way or another. Never leaves QEMU running. */
export async function runVm(o: RunVmOptions): Promise<VmOutcome> {
  const channel = await listenResultChannel(o.resultSocket, { onExtraLine: o.onExtraResultLine });
  let bootTimer: NodeJS.Timeout | null = null;
  const booted = () => {
    if (bootTimer) clearTimeout(bootTimer);
    bootTimer = null;
  };
  const logChannel = await listenLogChannel(o.logSocket, (l) => {
    booted();
    o.onLine(l);
  });
  const child = spawn(o.qemu ?? "qemu-system-x86_64", o.args, { stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid) o.onStart?.(child.pid);
  let killedBy: KilledBy | null = null;
  let done = false;
  const kill = (why: KilledBy) => {
    if (killedBy || child.exitCode !== null || child.signalCode !== null) return;
    killedBy = why;
    child.kill("SIGKILL");
  };
  const serial = new LineSplitter("stdout", (l) => {
    if (BOOTED.test(l.text)) booted();
    o.onLine(l);
  });
  child.stdout.on("data", (c: Buffer) => serial.write(c));
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));

  const onAbort = () => kill("abort");
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener("abort", onAbort, { once: true });
  const deadline = setTimeout(() => kill("deadline"), Math.min(o.deadlineMs, 2 ** 31 - 1));
  if (o.bootDeadlineMs !== undefined && o.bootDeadlineMs < o.deadlineMs) bootTimer = setTimeout(() => kill("boot"), o.bootDeadlineMs);
  let grace: NodeJS.Timeout | null = null;
  void channel.settled.then(() => {
    if (!done) grace = setTimeout(() => kill("after-result"), o.exitGraceMs ?? 10_000);
  });

  try {
    const exitCode = await qemuExit(child);
    serial.end();
    // The log port's last lines (a release VM's exit marker) may still be in the socket: read them all.
    await logChannel.drained(2_000);
    // A result written just before the power-off may still be in flight on the socket.
    if (!killedBy || killedBy === "after-result") await Promise.race([channel.settled, sleep(500)]);
    return { result: channel.result, problem: channel.problem, exitCode, killedBy, stderrTail: stderr.trim() };
  } finally {
    done = true;
    o.signal.removeEventListener("abort", onAbort);
    clearTimeout(deadline);
    booted();
    if (grace) clearTimeout(grace);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await channel.close();
    await logChannel.close();
  }
}

/** QEMU's exit code once its output is closed; a QEMU that can't start is the host's fault. */
function qemuExit(child: ChildProcess): Promise<number | null> {
  return new Promise<number | null>((resolve, reject) => {
    child.once("error", (err) => {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      reject(infraError(missing ? "QEMU (qemu-system-x86_64) is not installed on this host." : `QEMU did not start: ${err.message}`, {
        title: "QEMU missing",
        hint: "Install it with scripts/host-deps.sh (Debian: apt-get install qemu-system-x86 qemu-utils).",
        cause: err,
      }));
    });
    child.once("close", (code) => resolve(code));
  });
}
