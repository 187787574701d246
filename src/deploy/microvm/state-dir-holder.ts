import { fstatSync, fsyncSync, ftruncateSync, readlinkSync, readSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import { bootId, procStat } from "./proc-stat.ts";

/**
 * Who holds a state dir's lock, as its holder wrote it into the lock file. Only ever used to NAME
 * the holder in a refusal: the flock says whether there is one (state-dir-lock.ts). A pid means
 * something only in its own pid namespace (another container sharing the data dir has its own),
 * so the namespace, host name and boot go with it.
 */
export const holderSchema = z.object({
  v: z.literal(2),
  pid: z.number().int().min(1).max(2 ** 22),
  startTime: z.string().regex(/^[0-9]{0,20}$/),
  bootId: z.string().regex(/^[0-9a-f-]{0,64}$/),
  pidNs: z.string().regex(/^(pid:\[[0-9]{1,20}\])?$/),
  host: z.string().regex(/^[A-Za-z0-9._-]{0,64}$/),
}).strict();
export type Holder = z.infer<typeof holderSchema>;

const MAX_RECORD = 1024;

export function selfHolder(): Holder {
  let pidNs = "";
  try {
    pidNs = readlinkSync("/proc/self/ns/pid").slice(0, 40);
  } catch {
    // No /proc: the record names the pid alone.
  }
  const host = hostname().slice(0, 64);
  const boot = bootId();
  return {
    v: 2,
    pid: process.pid,
    startTime: procStat(process.pid)?.startTime ?? "",
    bootId: /^[0-9a-f-]{0,64}$/.test(boot) ? boot : "",
    pidNs: /^pid:\[[0-9]{1,20}\]$/.test(pidNs) ? pidNs : "",
    host: /^[A-Za-z0-9._-]{0,64}$/.test(host) ? host : "",
  };
}

/** The record in the open lock file (bounded); null when it is empty (a clean stop), garbage or too big. */
export function readHolder(fd: number): Holder | null {
  try {
    const size = fstatSync(fd).size;
    if (size === 0 || size > MAX_RECORD) return null;
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, 0);
    const got = holderSchema.safeParse(JSON.parse(buf.subarray(0, n).toString("utf8")));
    return got.success ? got.data : null;
  } catch {
    return null;
  }
}

/** Replaces the record in place: the file itself is never replaced (see state-dir-lock.ts). */
export function writeHolder(fd: number, h: Holder | null): void {
  ftruncateSync(fd, 0);
  if (h) writeSync(fd, JSON.stringify(h), 0);
  fsyncSync(fd);
}

/** The holder as an operator should read it in the refusal. */
export function describeHolder(h: Holder | null, me: Holder): string {
  if (!h) return "another process (its record in the lock file is not written yet, or unreadable)";
  const sameNs = h.pidNs !== "" && h.pidNs === me.pidNs && h.bootId === me.bootId;
  if (sameNs && h.pid === me.pid && h.startTime === me.startTime) return `this very process (pid ${h.pid}) through another deployer`;
  if (sameNs || (h.pidNs === "" && me.pidNs === "")) return `another microship process, pid ${h.pid}`;
  return `another microship process, pid ${h.pid} in another pid namespace${h.host ? ` on host ${h.host}` : ""} (another container sharing this data dir?)`;
}
