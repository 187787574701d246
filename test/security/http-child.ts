/**
 * Shared by the HTTP security tests: microship in a child process (so its RSS is its own), a
 * sampler of that RSS, a /healthz prober, and a POST whose body is made as it is sent.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import type { AppChild } from "../helpers/app-child-process.ts";
export { startAppChild, type AppChild } from "../helpers/app-child-process.ts";

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Samples a child's RSS every 20 ms. Past `killAboveMiB` over the baseline it kills the child, so
 * a test run against unfixed code fails fast instead of taking the machine's memory.
 */
export function watchRss(app: AppChild, killAboveMiB: number) {
  const pid = app.child.pid!;
  const base = rssMiB(pid);
  let peak = base;
  let killed = false;
  const timer = setInterval(() => {
    try {
      const now = rssMiB(pid);
      if (Number.isFinite(now)) peak = Math.max(peak, now);
    } catch {
      return;
    }
    if (peak - base > killAboveMiB && !killed) {
      killed = true;
      app.child.kill("SIGKILL");
    }
  }, 20);
  return {
    base,
    stop() {
      clearInterval(timer);
      return { base, peak, delta: peak - base, killed };
    },
  };
}

export interface HealthTimes {
  count: number;
  max: number;
  p90: number;
}

/** The issue's bound is 100 ms. Most answers must meet it; on a shared two-core machine a
 * scheduler hiccup may delay one, but none may wait as the old code made them (seconds). */
export function assertHealthy(h: HealthTimes, assert: { ok(v: unknown, m?: string): void }): void {
  assert.ok(h.count >= 3, `/healthz was asked only ${h.count} times`);
  assert.ok(h.p90 < 100, `/healthz: 90% of ${h.count} answers within ${h.p90.toFixed(1)} ms, over 100 ms`);
  assert.ok(h.max < 1_000, `/healthz: the slowest answer took ${h.max.toFixed(1)} ms`);
}

/**
 * Asks /healthz every 20 ms from a process of its own, so the test's own work (reading a big
 * answer, sending a big body) does not count as the app's slowness. Keeps the slowest answer;
 * a failed one counts as Infinity.
 */
export function probeHealth(url: string) {
  const script = `
    let on = true;
    process.on("message", () => { on = false; });
    const times = [];
    (async () => {
      await fetch(${JSON.stringify(`${url}/healthz`)}).then((r) => r.text(), () => undefined);
      while (on) {
        const t = performance.now();
        try {
          const res = await fetch(${JSON.stringify(`${url}/healthz`)}, { signal: AbortSignal.timeout(5000) });
          await res.text();
          times.push(res.ok ? performance.now() - t : 1e9);
        } catch { times.push(1e9); }
        await new Promise((r) => setTimeout(r, 20));
      }
      times.sort((a, b) => a - b);
      process.send({ count: times.length, max: times.at(-1), p90: times[Math.floor(times.length * 0.9)] }, () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const result = new Promise<HealthTimes>((resolve) => {
    child.once("message", (m) => resolve(m as HealthTimes));
    child.once("exit", () => resolve({ count: 0, max: Infinity, p90: Infinity }));
  });
  const ready = new Promise((r) => setTimeout(r, 300));
  return {
    /** Resolves once the prober has had time to start and ask at least once. */
    ready,
    async stop() {
      await ready;
      // A second stop (a test's cleanup after it stopped the prober) finds it gone.
      if (child.connected) child.send("stop");
      return result;
    },
  };
}

export interface StreamedPost {
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
  sentBytes: number;
  error: string | null;
}

/**
 * POSTs `bytes` bytes made 64 KiB at a time as the socket takes them, so nothing near their size
 * is ever allocated. With `chunked`, no content-length is sent. Resolves at the answer (the rest
 * is not sent), at an error, or after `timeoutMs`.
 */
export function streamPost(url: string, o: { bytes: number; chunked: boolean; headers: Record<string, string>; timeoutMs: number; first?: Buffer }): Promise<StreamedPost> {
  return new Promise((resolve) => {
    const started = performance.now();
    const filler = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    let settled = false;
    const headers = { ...o.headers, ...(o.chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(o.bytes) }) };
    const req = request(url, { method: "POST", headers });
    const settle = (r: Omit<StreamedPost, "ms" | "sentBytes">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, ms: performance.now() - started, sentBytes: sent });
      req.destroy();
    };
    const timer = setTimeout(() => settle({ status: null, headers: {}, body: "", error: `no answer within ${o.timeoutMs} ms` }), o.timeoutMs);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => settle({ status: res.statusCode!, headers: res.headers, body, error: null }));
      res.on("error", () => settle({ status: res.statusCode!, headers: res.headers, body, error: null }));
    });
    req.on("error", (err) => setTimeout(() => settle({ status: null, headers: {}, body: "", error: err.message }), 200));
    const pump = () => {
      while (!settled && sent < o.bytes) {
        const piece = sent === 0 && o.first ? o.first : filler.subarray(0, Math.min(filler.length, o.bytes - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!settled) req.end();
    };
    pump();
  });
}
