import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples") as { name: string; examples: Record<string, any>[] }[];

/** A real example payload from @octokit/webhooks-examples, deep-copied so a test may adjust it. */
export function loadExample(event: string, predicate: (p: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === event)?.examples.find(predicate);
  if (!found) throw new Error(`no @octokit/webhooks-examples payload for ${event} matching the predicate`);
  return structuredClone(found);
}

export interface Coordinates {
  owner: string;
  repo: string;
  installationId: number;
  defaultBranch?: string;
  /** GitHub's repository id (the GitHub fake's, `fake.state.repo(owner, repo).id`); absent: the example's own. */
  repositoryId?: number;
}

/** Points an example at the test's repo and installation; nothing else in it changes. */
export function withRepo<T extends Record<string, any>>(payload: T, c: Coordinates): T {
  const repo = payload.repository;
  if (repo) {
    repo.name = c.repo;
    repo.full_name = `${c.owner}/${c.repo}`;
    if (repo.owner) {
      repo.owner.login = c.owner;
      if ("name" in repo.owner) repo.owner.name = c.owner;
    }
    repo.default_branch = c.defaultBranch ?? "main";
    if (c.repositoryId !== undefined) repo.id = c.repositoryId;
    if ("master_branch" in repo) repo.master_branch = c.defaultBranch ?? "main";
  }
  for (const side of ["head", "base"] as const) {
    const r = payload.pull_request?.[side]?.repo;
    if (r && side === "base") {
      if (c.repositoryId !== undefined) r.id = c.repositoryId;
      r.name = c.repo;
      r.full_name = `${c.owner}/${c.repo}`;
      r.owner.login = c.owner;
    }
  }
  (payload as Record<string, any>).installation = { id: c.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return payload;
}

export function sign(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface SendOptions {
  event: string;
  payload?: unknown;
  rawBody?: string | Buffer;
  secret: string;
  deliveryId?: string;
  signature?: string;
}

/** Signs the raw body with the webhook secret and POSTs it as GitHub does. */
export async function sendWebhook(url: string, o: SendOptions): Promise<{ status: number; deliveryId: string; body: string }> {
  const body = o.rawBody ?? JSON.stringify(o.payload);
  const deliveryId = o.deliveryId ?? randomUUID();
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/fake",
      "x-github-event": o.event,
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "1",
      "x-hub-signature-256": o.signature ?? sign(o.secret, body),
    },
    body,
  });
  return { status: res.status, deliveryId, body: await res.text() };
}
