/**
 * Preloaded (--import) into the benchmark's server processes: measures each request inside the
 * server, from its first byte to the response handed to the kernel, and the event loop's delay.
 * On SIGUSR2 it prints `TIMING {json}` on stdout and starts over, so the benchmark can tell time
 * spent in the server from time spent queueing between processes on a busy machine.
 */
import dc from "node:diagnostics_channel";
import { monitorEventLoopDelay } from "node:perf_hooks";

let loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const starts = new WeakMap<object, number>();
let durations: number[] = [];
dc.subscribe("http.server.request.start", (m) => starts.set((m as { request: object }).request, performance.now()));
dc.subscribe("http.server.response.finish", (m) => {
  const s = starts.get((m as { request: object }).request);
  if (s !== undefined) durations.push(performance.now() - s);
});
process.on("SIGUSR2", () => {
  const d = durations.sort((a, b) => a - b);
  const q = (x: number) => Number((d[Math.min(d.length - 1, Math.floor(d.length * x))] ?? 0).toFixed(2));
  const ms = (ns: number) => Number((ns / 1e6).toFixed(1));
  process.stdout.write(`TIMING ${JSON.stringify({ n: d.length, p50: q(0.5), p99: q(0.99), max: q(1), loopP99: ms(loop.percentile(99)), loopMax: ms(loop.max) })}\n`);
  durations = [];
  loop.disable();
  loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
});
