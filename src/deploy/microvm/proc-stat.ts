import { readFileSync } from "node:fs";

export interface ProcStat {
  comm: string;
  state: string;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  startTime: string;
}

/** /proc/<pid>/stat, or null when there is no such process (or no /proc). */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8").slice(0, 4096);
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(" ");
  const startTime = rest[19];
  return startTime && /^[0-9]{1,20}$/.test(startTime) ? { comm: text.slice(open + 1, close), state: rest[0] ?? "", startTime } : null;
}

/** This boot's id: a start time in ticks since boot means nothing after a reboot. "" without /proc. */
export function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().slice(0, 64);
  } catch {
    return "";
  }
}
