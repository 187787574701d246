import { test } from "node:test";
import assert from "node:assert/strict";
import { listTags, manifestDigest, manifestInfo } from "../../../src/registry/registry-client.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

const DIGEST = `sha256:${"d".repeat(64)}`;

function fakeFetch(routes: Record<string, () => Response>, seen: { url: string; method: string; accept: string | null }[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    seen.push({ url, method: init?.method ?? "GET", accept: new Headers(init?.headers).get("accept") });
    return routes[url]?.() ?? new Response("{}", { status: 404 });
  }) as typeof fetch;
}

test("manifest digest comes from the registry's Docker-Content-Digest, over HTTP on loopback", async () => {
  const seen: { url: string; method: string; accept: string | null }[] = [];
  const f = fakeFetch({ "http://127.0.0.1:5000/v2/o/r/manifests/t": () => new Response(null, { headers: { "docker-content-digest": DIGEST } }) }, seen);
  assert.equal(await manifestDigest("127.0.0.1:5000", "o/r", "t", { fetch: f }), DIGEST);
  assert.equal(seen[0]!.method, "HEAD");
  assert.match(seen[0]!.accept ?? "", /application\/vnd\.oci\.image\.manifest\.v1\+json/);
  assert.equal(await manifestDigest("127.0.0.1:5000", "o/r", "missing", { fetch: f }), null);
});

test("remote registries are spoken to over HTTPS unless told otherwise", async () => {
  const seen: { url: string; method: string; accept: string | null }[] = [];
  const f = fakeFetch({}, seen);
  await manifestDigest("registry.example.com", "o/r", "t", { fetch: f });
  await manifestDigest("registry.internal:5000", "o/r", "t", { fetch: f, plainHttp: true });
  assert.deepEqual(seen.map((s) => s.url), ["https://registry.example.com/v2/o/r/manifests/t", "http://registry.internal:5000/v2/o/r/manifests/t"]);
});

test("manifest size is config plus layers", async () => {
  const manifest = { mediaType: "application/vnd.oci.image.manifest.v1+json", config: { size: 100 }, layers: [{ size: 1000 }, { size: 24 }] };
  const f = fakeFetch({ "http://127.0.0.1:1/v2/o/r/manifests/t": () => Response.json(manifest, { headers: { "docker-content-digest": DIGEST } }) });
  assert.deepEqual(await manifestInfo("127.0.0.1:1", "o/r", "t", { fetch: f }), { digest: DIGEST, mediaType: manifest.mediaType, sizeBytes: 1124 });
});

test("tags list, empty for a missing repository, infra error on a broken registry", async () => {
  const f = fakeFetch({
    "http://127.0.0.1:1/v2/o/r/tags/list": () => Response.json({ name: "o/r", tags: ["a", "b"] }),
    "http://127.0.0.1:1/v2/o/broken/tags/list": () => new Response("oops", { status: 500 }),
  });
  assert.deepEqual(await listTags("127.0.0.1:1", "o/r", { fetch: f }), ["a", "b"]);
  assert.deepEqual(await listTags("127.0.0.1:1", "o/none", { fetch: f }), []);
  await assert.rejects(listTags("127.0.0.1:1", "o/broken", { fetch: f }), (err) => isMicroshipError(err) && err.kind === "infra");
});
