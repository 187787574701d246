/**
 * The baseline: a bare Probot app whose push handler does nothing, in its own process like
 * microship, so both are measured across the same process boundary.
 */
import { createServer } from "node:http";
import { createNodeMiddleware, createProbot } from "probot";

const probot = createProbot({ env: { APP_ID: process.env.APP_ID, PRIVATE_KEY: process.env.PRIVATE_KEY, WEBHOOK_SECRET: process.env.WEBHOOK_SECRET, LOG_LEVEL: "warn" } });
const mw = await createNodeMiddleware((app) => app.on("push", async () => {}), { probot });
const server = createServer((req, res) => void mw(req, res, () => res.writeHead(404).end()));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
process.stdout.write(`READY http://127.0.0.1:${(server.address() as { port: number }).port}\n`);
