import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { fakeDeployments } from "../fakes/github/deployment-handlers.ts";
import { appCredentials, type AppCredentials } from "../fakes/app-credentials.ts";
import { loadExample, sendWebhook, withRepo } from "../fakes/webhooks.ts";
import { corpusAppFiles } from "../helpers/corpus-app-files.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { PREVIEW_MARKER } from "../../src/github/reporter/preview-comment.ts";

// The product's "done when", as closely as this machine allows: `npm start` with nothing but the
// app's credentials, and a pull request to an installed repo, gives a clickable preview on the PR
// that is gone on close. Unlike microvm-preview-flow (microship in-process, its deployer and
// routes injected), nothing is injected here: the embedded defaults (microvm builder, microvm
// deployer, embedded registry, deploy domain `localhost`, the public URL from the port) are the
// ones wired by src/main.ts. GitHub is the fake; one microVM build and one deploy VM boot.
const ROOT = new URL("../../", import.meta.url).pathname;
const CORPUS = new URL("../fixtures/apps/", import.meta.url).pathname;
const OWNER = "octo-org", REPO = "shop", INSTALLATION = 77, PR = 7;

let base: BaseImages;
let fake: GitHubFake;
let creds: AppCredentials;
let dataDir: string;
let child: ChildProcess | null = null;
let out = "";
let port = 0;

before(async () => {
  base = await ensureBaseImages();
  creds = appCredentials();
  fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: OWNER, repo: REPO, installationId: INSTALLATION });
  dataDir = mkdtempSync(join(tmpdir(), "ms-npm-start-"));
  // The product has no setting for a prepared VM image: it builds one into <data>/builders/microvm/vm
  // (minutes). A symlink to the test cache's, shared with the other microvm tests, stands for
  // "built once before" (were its recipe changed, the new image is built there, as by the other
  // microvm tests); per-build disks, app disks and deploy state stay in this data dir.
  mkdirSync(join(dataDir, "builders", "microvm"), { recursive: true });
  symlinkSync(join(CACHE, "microvm", "vm"), join(dataDir, "builders", "microvm", "vm"));
  // `npm start` itself (prestart checks the host's Debian packages, then `exec node src/main.ts`); npm
  // puts node_modules/.bin first on PATH, so the pinned Node 24 runs it.
  child = spawn("npm", ["start"], {
    cwd: ROOT,
    env: {
      // npm, node, qemu, buildah and friends are found on it, as on an operator's shell.
      PATH: process.env.PATH ?? "",
      APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret,
      GHE_HOST: fake.host, GHE_PROTOCOL: "http",
      // Any free port: the app must learn the one it got for its preview and log URLs.
      PORT: "0",
      // Loopback only: the test machine's other interfaces need not see it.
      HOST: "127.0.0.1",
      // A fresh data dir (the default ./data would be the checkout's own).
      MICROSHIP_DATA_DIR: dataDir,
      // Docker Hub is unreachable here: the corpus app's FROM lines go to the test's stand-ins.
      MICROSHIP_BASE_IMAGE_MIRROR: base.mirror,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a failed test can stop npm and microship together.
    detached: true,
  });
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  port = await new Promise<number>((resolve, reject) => {
    const look = () => {
      const m = /microship listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child!.stdout!.on("data", look);
    child!.stderr!.on("data", look);
    child!.once("exit", (code) => reject(new Error(`npm start exited ${code} before it listened:\n${out}`)));
  });
}, { timeout: 900_000 });

after(() => cleanupAll(
  () => assert.deepEqual(fake?.unknownCalls(), [], "no call outside the OpenAPI subset"),
  () => assert.deepEqual(fake?.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
  () => killGroup("SIGKILL"),
  () => fake?.close(), () => base?.stop(),
  () => dataDir && rmSync(dataDir, { recursive: true, force: true }),
));

/** npm's whole group, even once npm itself has exited: what it started may outlive it. */
function killGroup(signal: NodeJS.Signals): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch { /* already gone */ }
}

function prPayload(action: "opened" | "closed", sha: string, headRef: string): Record<string, any> {
  const p = withRepo(loadExample("pull_request", (e) => e.action === action), { owner: OWNER, repo: REPO, installationId: INSTALLATION });
  p.action = action;
  p.number = PR;
  p.pull_request.number = PR;
  p.pull_request.head.sha = sha;
  p.pull_request.head.ref = headRef;
  p.pull_request.head.repo = { ...p.pull_request.base.repo };
  return p;
}

const send = (payload: Record<string, any>) => sendWebhook(`http://127.0.0.1:${port}/api/github/webhooks`, { event: "pull_request", payload, secret: creds.webhookSecret });
const deployments = () => fakeDeployments(fake.state).filter((d) => d.environment === `preview/pr-${PR}`);
const lastState = (d: { statuses: { state: string }[] }) => d.statuses.at(-1)?.state;
const previewComments = () => fake.state.comments.filter((c) => c.issue_number === PR && c.body.startsWith(PREVIEW_MARKER));

/** QEMU processes whose command line names this data dir (their disks and sockets live in it). */
function qemusOfDataDir(): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const argv = readFileSync(`/proc/${n}/cmdline`, "utf8").split("\0");
      return argv.some((a) => a.includes("qemu-system")) && argv.some((a) => a.includes(dataDir));
    } catch {
      return false;
    }
  }).map(Number);
}

// glibc does not resolve *.localhost (browsers do, to loopback): the request goes to 127.0.0.1 with the preview's Host, as a browser's would.
function viaHost(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, timeout: 60_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject).on("timeout", () => req.destroy(new Error(`GET / with Host ${host} timed out`)));
    req.end();
  });
}

test("npm start, then a pull request: a clickable preview on the PR, served through microship's own port; closed, it is gone", { timeout: 900_000 }, async () => {
  const headRef = `pr-${PR}`;
  const sha = fake.commit({ owner: OWNER, repo: REPO, branch: headRef, files: corpusAppFiles(join(CORPUS, "static-plain-html")) });
  fake.setPullRequest({ owner: OWNER, repo: REPO, number: PR, headSha: sha, headRef });
  assert.equal((await send(prPayload("opened", sha, headRef))).status, 200);

  const d = await fake.waitFor(() => deployments().find((x) => ["success", "failure", "error"].includes(lastState(x) ?? "")), 840_000, "the preview deployment to settle");
  const runs = fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha);
  const why = `${runs.map((r) => `${r.name}: ${r.conclusion}\n${r.output.summary}\n${r.output.text?.slice(-2000)}`).join("\n")}\n--- microship's output:\n${out.slice(-4000)}`;
  assert.equal(lastState(d), "success", why);
  const status = d.statuses.at(-1)!;
  const url = status.environment_url ?? "";
  assert.match(url, new RegExp(`^http://pr-${PR}-shop-[0-9a-f]{6}\\.localhost:${port}$`), "the preview's URL carries the port microship really listens on");
  assert.ok(status.log_url?.startsWith(`http://localhost:${port}/builds/`), `the log link is microship's own page on its real port: ${status.log_url}`);
  // Plain `localhost` resolves everywhere (unlike its subdomains): the link is followed as it is.
  const logPage = await fetch(status.log_url!);
  assert.equal(logPage.status, 200, "the deployment's log link opens");
  const done = await fake.waitFor(() => runs.length > 0 && fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha).every((r) => r.status === "completed") && fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha), 60_000, "the check runs to complete");
  assert.ok(done.length > 0);
  for (const r of done) assert.equal(r.conclusion, "success", `${r.name}: ${r.output.summary}`);
  assert.match(done.map((r) => r.output.summary).join("\n"), /QEMU microvm/, "built by the default builder");

  const comments = await fake.waitFor(() => previewComments().some((c) => c.body.includes(url)) && previewComments(), 60_000, "the preview comment");
  assert.equal(comments.length, 1, "exactly one preview comment on the PR");
  const page = await viaHost(new URL(url).host);
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /<h1>Field notes<\/h1>/, "the corpus app's own page");
  assert.equal(qemusOfDataDir().length, 1, "the build VM is gone; one deploy VM serves the preview");

  assert.equal((await send(prPayload("closed", sha, headRef))).status, 200);
  await fake.waitFor(() => deployments().every((x) => lastState(x) === "inactive"), 120_000, "the deployment to become inactive");
  await fake.waitFor(() => qemusOfDataDir().length === 0, 120_000, "no QEMU of this data dir");
  const gone = await viaHost(new URL(url).host);
  assert.equal(gone.status, 404);
  assert.match(gone.body, /No deployment here/, "microship's own not-found page");

  // To npm, as a process manager stops it: npm passes the signal on to microship.
  const exited = new Promise<number | null>((ok) => child!.once("exit", (code) => ok(code)));
  child!.kill("SIGTERM");
  assert.equal(await exited, 0, out.slice(-4000));
  assert.deepEqual(qemusOfDataDir(), []);
  // A happy path logs no error and no Node warning (a NaN timer, say, from a default left unset).
  assert.doesNotMatch(out, /"level":(50|60)|\(node:\d+\) \w*Warning/, out.slice(-4000));
});
