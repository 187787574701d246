import { test } from "node:test";
import assert from "node:assert/strict";
import { hypemanDeployUrls } from "../../../src/deploy/hypeman/deploy-urls.ts";

const host = "shop-pr-1-abc.preview.example.com";

test("without the wake layer, Hypeman's ingress serves the URLs: http, or https when it terminates TLS, on default ports", () => {
  assert.equal(hypemanDeployUrls({ ingressTls: false, wakeLayer: false }).url(host), `http://${host}`);
  assert.equal(hypemanDeployUrls({ ingressTls: true, wakeLayer: false }).url(host), `https://${host}`);
  // microship's own public URL says nothing about a host it doesn't serve.
  const direct = hypemanDeployUrls({ ingressTls: false, wakeLayer: false, publicUrl: "https://ci.example.com:8443" });
  direct.listening(3000);
  assert.equal(direct.url(host), `http://${host}`);
});

test("with the wake layer, microship serves the URLs: MICROSHIP_PUBLIC_URL's scheme and port, else http on the port it listens on", () => {
  assert.equal(hypemanDeployUrls({ ingressTls: false, wakeLayer: true, publicUrl: "https://ci.example.com" }).url(host), `https://${host}`);
  const odd = hypemanDeployUrls({ ingressTls: false, wakeLayer: true, publicUrl: "https://ci.example.com:8443/" });
  odd.listening(3000);
  assert.equal(odd.url(host), `https://${host}:8443`, "the public URL's port, not the one listened on behind it");
  assert.equal(hypemanDeployUrls({ ingressTls: false, wakeLayer: true, publicUrl: "http://ci.example.com:80" }).url(host), `http://${host}`);
  assert.equal(hypemanDeployUrls({ ingressTls: false, wakeLayer: true, publicUrl: "http://ci.example.com:443" }).url(host), `http://${host}:443`);
  const bare = hypemanDeployUrls({ ingressTls: false, wakeLayer: true });
  bare.listening(4100);
  assert.equal(bare.url(host), `http://${host}:4100`);
  bare.listening(80);
  assert.equal(bare.url(host), `http://${host}`);
});
