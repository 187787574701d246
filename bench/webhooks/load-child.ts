/**
 * The load generator, in a process of its own: latency is measured on this process's event loop,
 * and when it shared a process with the GitHub fake, every check run microship wrote during the
 * load stalled that loop and was counted as microship's ack latency.
 *
 * Open loop at a constant rate, as wrk2 does: request i is due at start + i/rate whether or not
 * earlier ones have been answered, and its latency runs from when it was due, so a stalled server
 * (or a stalled generator) is charged for every request it delayed. autocannon's `overallRate`
 * does neither: each connection sends its share of a second back to back when the second starts
 * (200/s over 40 connections arrives as bursts of 40), and its correction for coordinated omission
 * assumes one request per millisecond, inventing samples for every response slower than 1 ms.
 *
 * Input: one JSON argument {url, rate, duration, warmup, body, signature} (seconds); the first
 * `warmup` seconds are sent but not timed. Output: one JSON line.
 */
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

const { url, rate, duration, warmup, body, signature } = JSON.parse(process.argv[2]!) as {
  url: string; rate: number; duration: number; warmup: number; body: string; signature: string;
};
const target = new URL(`${url}/api/github/webhooks`);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-github-event": "push", "x-hub-signature-256": signature };

function send(): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...headers, "x-github-delivery": randomUUID() } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

const latencies: number[] = [];
let ok = 0;
let errors = 0;
/** Every 2xx, warm-up included: the benchmark checks each one was stored exactly once. */
let acknowledged = 0;
const pending: Promise<void>[] = [];
const interval = 1000 / rate;
const total = Math.round(rate * (warmup + duration));
const counted = Math.round(rate * warmup);
const start = performance.now() + 20;
for (let i = 0; i < total; i++) {
  const due = start + i * interval;
  const wait = due - performance.now();
  if (wait >= 1) await sleep(wait);
  pending.push(send().then((status) => {
    if (status >= 200 && status < 300) acknowledged++;
    if (i < counted) return;
    if (status >= 200 && status < 300) {
      ok++;
      latencies.push(performance.now() - due);
    } else errors++;
  }));
}
await Promise.all(pending);
latencies.sort((a, b) => a - b);
const q = (x: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * x))] ?? 0).toFixed(1));
process.stdout.write(`${JSON.stringify({ p50: q(0.5), p99: q(0.99), max: q(1), ok, errors, acknowledged })}\n`);
agent.destroy();
