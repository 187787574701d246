export async function serveCommand(): Promise<number> {
  const { main } = await import("../../main.ts");
  await main();
  return 0;
}
