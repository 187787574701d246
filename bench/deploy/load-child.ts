/**
 * The load generator for the proxy part of bench/deploy, in a process of its own so its event
 * loop is not the proxy's (the proxy runs in the benchmark's main process, as in microship).
 *
 * Closed loop: `connections` workers each send a GET, wait for the answer, send the next, for
 * `duration` seconds. The question is capacity (how many requests per second each path carries),
 * not latency at a given rate: an open-loop generator needs a rate chosen below capacity, and
 * would then measure the rate it was given. Both paths get the same generator, connections and
 * duration, so their ratio is what the benchmark reports.
 *
 * Input: one JSON argument {port, host, path, connections, duration, warmup} (seconds; host is the
 * Host header). Output: one JSON line {ok, errors, rps, p50, p99} (latencies in ms, timed part only).
 */
import { Agent, request } from "node:http";

const { port, host, path, connections, duration, warmup } = JSON.parse(process.argv[2]!) as {
  port: number; host: string; path: string; connections: number; duration: number; warmup: number;
};
const agent = new Agent({ keepAlive: true, maxSockets: connections });

function get(): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ agent, host: "127.0.0.1", port, path, headers: { host }, timeout: 30_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

const latencies: number[] = [];
let ok = 0;
let errors = 0;
const start = performance.now();
const timedFrom = start + warmup * 1000;
const end = timedFrom + duration * 1000;
await Promise.all(Array.from({ length: connections }, async () => {
  while (performance.now() < end) {
    const t = performance.now();
    const status = await get();
    if (t < timedFrom) continue;
    if (status >= 200 && status < 300) {
      ok++;
      latencies.push(performance.now() - t);
    } else errors++;
  }
}));
latencies.sort((a, b) => a - b);
const q = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10;
process.stdout.write(`${JSON.stringify({ ok, errors, rps: Math.round(ok / duration), p50: q(0.5), p99: q(0.99) })}\n`);
agent.destroy();
