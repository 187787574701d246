import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CACHE } from "./base-images.ts";
import { debianWheels, normalize, type Wheel } from "./debian-wheels.ts";

export interface PythonIndex {
  /** PEP 503 "simple" index root, for PIP_INDEX_URL (ends with /simple/). */
  url: string;
  /** For PIP_TRUSTED_HOST: the index is plain HTTP. */
  trustedHost: string;
  /** The projects served, PEP 503-normalised. */
  projects: string[];
  stop(): Promise<void>;
}

/**
 * A PEP 503 package index on 127.0.0.1 that stands in for PyPI, serving pure-Python wheels made
 * from Debian's packages (see debian-wheels.ts). Builds inside buildah's chroot share the host's
 * network, so `pip install` there reaches it with PIP_INDEX_URL and PIP_TRUSTED_HOST.
 *
 *   const index = await startPythonIndex(["flask", "gunicorn"]);
 *
 * `extra` adds wheels made otherwise (a stand-in for a project Debian doesn't package).
 */
export async function startPythonIndex(packages: string[], extra: Wheel[] = []): Promise<PythonIndex> {
  const wheels = [...debianWheels(packages, join(CACHE, "python-wheels")), ...extra];
  const byProject = new Map<string, Wheel[]>();
  for (const w of wheels) byProject.set(w.project, [...(byProject.get(w.project) ?? []), w]);
  const byFile = new Map(wheels.map((w) => [w.file, w]));
  const html = (body: string) => `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"></head><body>\n${body}</body></html>\n`;

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (path === "/simple/" || path === "/simple") {
      return send(200, "text/html", html([...byProject.keys()].sort().map((p) => `<a href="/simple/${p}/">${p}</a><br>\n`).join("")));
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(path)?.[1];
    if (project) {
      // pip normalises names itself, but a client may ask for Flask or flask_foo.
      const list = byProject.get(normalize(project));
      if (!list) return send(404, "text/plain", "not found\n");
      return send(200, "text/html", html(list.map((w) => `<a href="/files/${w.file}#sha256=${w.sha256}">${w.file}</a><br>\n`).join("")));
    }
    const file = /^\/files\/([^/]+)$/.exec(path)?.[1];
    const wheel = file ? byFile.get(file) : undefined;
    if (wheel) return send(200, "application/octet-stream", readFileSync(wheel.path));
    send(404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    trustedHost: "127.0.0.1",
    projects: [...byProject.keys()].sort(),
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
