/**
 * SIGTERM or SIGINT stops microship once, then exits 0. Further signals during the stop are
 * ignored: Ctrl-C under `npm start` arrives twice (the terminal's to the whole group, and npm's
 * passing it on), and the second must not kill the process in the middle of stopping its VMs.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping microship`);
    await stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
