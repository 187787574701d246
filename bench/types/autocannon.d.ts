// autocannon ships no types; the benchmark uses only this much of it.
declare module "autocannon" {
  interface Result {
    latency: { p50: number; p99: number };
    "2xx": number;
    non2xx: number;
    errors: number;
  }
  function autocannon(options: Record<string, unknown>): Promise<Result>;
  export default autocannon;
}
