import type { RegistryCredential } from "../../../src/core/ports.ts";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { t as tarList } from "tar";
import type { Builder } from "../../../src/core/builder.ts";
import { jwtProblem, signJwt } from "./jwt.ts";
import { FakeBuild, type FakeEvent } from "./fake-build.ts";
import { FakeDeployApi } from "./fake-deploy-api.ts";
import { FakeResources } from "./fake-resources.ts";
import { startFakeIngress, type FakeIngress } from "./fake-ingress.ts";

/**
 * A Hypeman server on loopback, as its API documents the builds resource (docs/design.md section 5):
 * multipart create (the tarball is really opened and must hold a Dockerfile unless one is sent),
 * queued → building → pushing → ready/failed/cancelled, SSE events with `data:` framing and
 * heartbeats, Bearer JWT (HS256) on every request, `{code, message}` errors. Builds run for real
 * on the given Builder, pushing to `registry`. Faults reproduce what real servers do.
 */
export interface HypemanFakeOptions {
  builder: Builder;
  /** host:port the builds push to. */
  registry: string;
  /** The registry's credential, which the server's builder pushes with (a real server has its own). */
  registryAuth?: RegistryCredential | null;
  jwtSecret?: string;
  heartbeatMs?: number;
  /** Secret values the server holds, by id (a Hypeman operator configures them server-side). */
  secretValues?: Record<string, string>;
}

export interface HypemanFaults {
  /** The next N event streams are cut after this many events. */
  dropStreams: { count: number; afterEvents: number };
  /** The next N event-stream requests are refused with 503. */
  refuseEvents: number;
  /** Log events are held back until the build ends (older servers). */
  logsAtEnd: boolean;
  /** What DELETE answers for a build that already ended (Hypeman answers 500; some proxies 409). */
  cancelFinished: 409 | 500;
  /** The final status event trails the record by this long (a cancel can arrive in between). */
  holdTerminalMs: number;
  /** Every request is answered 503, as by a server in trouble behind its proxy. */
  unavailable: boolean;
  /** The next N creates are answered 500 after the upload. */
  failCreates: number;
}

export interface HypemanFake {
  url: string;
  /** A valid token for HYPEMAN_API_KEY. */
  token(): string;
  builds: Map<string, FakeBuild>;
  /** Every request, in order, for assertions: method, path, multipart field names. */
  requests: Array<{ method: string; path: string; status: number; fields?: Record<string, string> }>;
  faults: HypemanFaults;
  /** Images, instances and ingresses, with their own faults. */
  deploy: FakeDeployApi;
  /** What `GET /resources` reports; running builds are counted in. */
  resources: FakeResources;
  /** Hypeman's ingress: its own listener, routing by Host through `deploy.ingresses`. */
  ingress: FakeIngress;
  close(): Promise<void>;
}

export async function startHypemanFake(o: HypemanFakeOptions): Promise<HypemanFake> {
  const secret = o.jwtSecret ?? randomUUID();
  const dir = await mkdtemp(join(tmpdir(), "ms-hypeman-fake-"));
  const builds = new Map<string, FakeBuild>();
  const requests: HypemanFake["requests"] = [];
  const faults: HypemanFaults = { dropStreams: { count: 0, afterEvents: 0 }, refuseEvents: 0, logsAtEnd: false, cancelFinished: 500, holdTerminalMs: 0, unavailable: false, failCreates: 0 };
  const resources = new FakeResources();
  const running = new Set<Promise<void>>();
  const streams = new Set<ServerResponse>();
  const deploy = new FakeDeployApi();
  const ingress = await startFakeIngress(deploy);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const entry: HypemanFake["requests"][number] = { method: req.method ?? "", path: url.pathname, status: 0 };
    requests.push(entry);
    const send = (status: number, body?: unknown) => {
      entry.status = status;
      if (body === undefined) res.writeHead(status).end();
      else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const fail = (status: number, code: string, message: string) => send(status, { code, message });
    if (faults.unavailable) return fail(503, "unavailable", "the server is unavailable");
    const problem = jwtProblem(secret, req.headers.authorization);
    if (problem) return fail(401, "unauthorized", problem);
    if (url.pathname === "/resources" && req.method === "GET") return send(200, resources.answer([...builds.values()].filter((b) => !b.terminal).length));
    if (deploy.handle(req, url, send, fail, res)) return;
    const m = /^\/builds(?:\/([^/]+))?(\/events)?$/.exec(url.pathname);
    if (!m) return fail(404, "not_found", `no route ${req.method} ${url.pathname}`);
    const [, id, events] = m;
    const build = id ? builds.get(id) : undefined;
    if (id && !build) return fail(404, "not_found", `build ${id} not found`);

    if (!id && req.method === "POST") return void create(req, entry, fail, send);
    if (build && !events && req.method === "GET") return send(200, build.record());
    if (build && !events && req.method === "DELETE") {
      if (build.terminal) return fail(faults.cancelFinished, faults.cancelFinished === 409 ? "conflict" : "internal_error", `build ${build.id} is already ${build.status}`);
      build.cancel();
      return send(204);
    }
    if (build && events && req.method === "GET") {
      if (faults.refuseEvents > 0) {
        faults.refuseEvents--;
        return fail(503, "unavailable", "event stream unavailable");
      }
      entry.status = 200;
      return streamEvents(build, url.searchParams.get("follow") === "true", res);
    }
    return fail(405, "method_not_allowed", `${req.method} ${url.pathname}`);
  });

  async function create(req: IncomingMessage, entry: HypemanFake["requests"][number], fail: (s: number, c: string, m: string) => void, send: (s: number, b?: unknown) => void): Promise<void> {
    let form: FormData;
    try {
      form = await new Request("http://fake/builds", { method: "POST", headers: req.headers as Record<string, string>, body: Readable.toWeb(req) as ReadableStream, duplex: "half" } as RequestInit).formData();
    } catch (err) {
      return fail(400, "invalid_request", `expected multipart/form-data: ${(err as Error).message}`);
    }
    const fields: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === "string") fields[k] = v;
    entry.fields = fields;
    if (faults.failCreates > 0) {
      faults.failCreates--;
      return fail(500, "internal_error", "failed to create build");
    }
    const source = form.get("source");
    if (!(source instanceof Blob)) return fail(400, "invalid_request", "source is required");
    const id = randomUUID().replace(/-/g, "").slice(0, 20);
    const path = join(dir, `${id}.tar.gz`);
    const bytes = Buffer.from(await source.arrayBuffer());
    await writeFile(path, bytes);
    let listing: { names: string[]; dockerfile: string | null };
    try {
      listing = await listTar(path);
    } catch {
      return fail(400, "invalid_request", "source is not a tar.gz archive");
    }
    const names = listing.names;
    // As Hypeman does: the tarball's own Dockerfile wins; the field is for sources without one.
    const dockerfile = listing.dockerfile ?? fields.dockerfile ?? null;
    if (!dockerfile) return fail(400, "dockerfile_required", "dockerfile required: none in the request and none at the root of the source");
    let secretIds: string[] = [];
    if (fields.secrets) {
      try {
        secretIds = (JSON.parse(fields.secrets) as Array<{ id: string }>).map((s) => s.id);
      } catch {
        return fail(400, "invalid_request", "secrets must be a JSON array of {id}");
      }
    }
    const build = new FakeBuild(id, {
      dockerfile, imageName: fields.image_name ?? null, cacheScope: fields.cache_scope ?? null,
      timeoutSeconds: Number(fields.timeout_seconds ?? 600), secretIds, runtime: fields.runtime ?? null,
      baseImageDigest: fields.base_image_digest ?? null, fields,
    }, { logsAtEnd: faults.logsAtEnd, holdTerminalMs: faults.holdTerminalMs });
    builds.set(id, build);
    const archive = { open: () => createReadStream(path), path, sha256: createHash("sha256").update(bytes).digest("hex"), sizeBytes: bytes.length, fileCount: names.length };
    const p = build.run(o.builder, archive, o.registry, o.secretValues ?? {}, o.registryAuth ?? null).finally(() => running.delete(p));
    running.add(p);
    send(202, build.record());
  }

  function streamEvents(build: FakeBuild, follow: boolean, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    streams.add(res);
    let written = 0;
    const cut = faults.dropStreams.count > 0 ? faults.dropStreams.afterEvents : Infinity;
    if (cut !== Infinity) faults.dropStreams.count--;
    let unsubscribe = () => {};
    let heartbeat: NodeJS.Timeout | undefined;
    const finish = (destroy: boolean) => {
      unsubscribe();
      clearInterval(heartbeat);
      streams.delete(res);
      if (destroy) res.destroy();
      else res.end();
    };
    const write = (ev: FakeEvent): boolean => {
      if (written >= cut) {
        finish(true);
        return false;
      }
      res.write(`data: ${JSON.stringify(ev)}\n\n`);
      written++;
      return true;
    };
    for (const ev of build.events) if (!write(ev)) return;
    if (!follow || build.terminal) return finish(false);
    unsubscribe = build.subscribe((ev) => {
      if (write(ev) && ev.type === "status" && build.terminal) finish(false);
    });
    heartbeat = setInterval(() => write({ type: "heartbeat", timestamp: new Date().toISOString() }), o.heartbeatMs ?? 30_000);
    res.on("close", () => finish(false));
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token: () => signJwt(secret, { sub: "microship-tests" }),
    builds,
    requests,
    faults,
    deploy,
    resources,
    ingress,
    async close() {
      await ingress.close();
      for (const b of builds.values()) if (!b.terminal) b.cancel();
      await Promise.allSettled([...running]);
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      // The fake owns the builder it runs builds on; closing it lets go of buildah's mounts.
      await o.builder.close?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function listTar(path: string): Promise<{ names: string[]; dockerfile: string | null }> {
  const names: string[] = [];
  let dockerfile: string | null = null;
  await tarList({
    file: path,
    strict: true,
    onReadEntry: (e: { path: string; on(ev: "data", fn: (c: Buffer) => void): void }) => {
      names.push(e.path);
      if (e.path.replace(/^\.\//, "") === "Dockerfile") {
        const chunks: Buffer[] = [];
        e.on("data", (c) => chunks.push(c));
        e.on("end" as "data", () => (dockerfile = Buffer.concat(chunks).toString("utf8")));
      }
    },
  } as never);
  return { names, dockerfile };
}
