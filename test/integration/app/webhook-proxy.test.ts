import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { startHarness, OWNER, REPO } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";
import { sign } from "../../fakes/webhooks.ts";

// Probot's setup flow registers the app with a smee.io channel as its webhook URL and writes it to
// .env as WEBHOOK_PROXY_URL; microship must then take its webhooks from that channel. This stands
// in for the channel: an event stream that sends each delivery as smee.io does (headers and the
// parsed body in one JSON message).

test("WEBHOOK_PROXY_URL: a push delivered through the channel becomes a check run; the channel's URL stays out of the log", { timeout: 60_000 }, async () => {
  let listener: ServerResponse | null = null;
  let connected!: () => void;
  const opened = new Promise<void>((ok) => (connected = ok));
  const channel = createServer((req, res) => {
    if (req.method !== "GET" || !req.url?.startsWith("/ms-channel-")) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(": ready\n\n");
    listener = res;
    connected();
  });
  await new Promise<void>((ok) => channel.listen(0, "127.0.0.1", ok));
  const channelUrl = `http://127.0.0.1:${(channel.address() as AddressInfo).port}/ms-channel-${randomUUID().slice(0, 8)}`;
  const builder = new ScriptedBuilder(async () => ({ digest: `sha256:${"e".repeat(64)}` }));
  const h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer }, { WEBHOOK_PROXY_URL: channelUrl });
  try {
    const never = new Promise((_, fail) => setTimeout(() => fail(new Error("microship never connected to WEBHOOK_PROXY_URL")), 20_000).unref());
    await Promise.race([opened, never]);
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "feature", files: { "index.js": "1" } });
    const payload = h.pushPayload({ sha });
    const message = {
      "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": sign(h.creds.webhookSecret, JSON.stringify(payload)),
      body: payload, query: {}, timestamp: Date.now(),
    };
    listener!.write(`data: ${JSON.stringify(message)}\n\n`);
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.status === "completed"), 20_000, "a completed check run");
    assert.equal(run.head_sha, sha);
    assert.equal(run.conclusion, "success");
    assert.ok(!h.opLog().includes(channelUrl), "the channel's URL is in the operator log");
  } finally {
    await h.stop();
    channel.closeAllConnections();
    await new Promise((ok) => channel.close(ok));
  }
});
