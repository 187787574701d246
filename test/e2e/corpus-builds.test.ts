import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CACHE, ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startPythonIndex, type PythonIndex } from "../helpers/package-index.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { firstBody, runPushedImage } from "../helpers/run-image.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { streamlitStandIn } from "../helpers/streamlit-stand-in.ts";
import { yarnRelease } from "../helpers/yarn-release.ts";
import { corpusAppFiles } from "../helpers/corpus-app-files.ts";

/**
 * A handful of detection-corpus apps, pushed as they are and built for real with the Dockerfile
 * microship renders for them, then run: each answers with text only its detected start command
 * can produce. They are the ones whose base image exists here (node:24-slim, python:3.11-slim,
 * caddy:2-alpine)
 * and whose packages come from the npm registry or our local Python index.
 */
const CORPUS = new URL("../fixtures/apps/", import.meta.url).pathname;
// Apps that can't live in the detection corpus as they are pushed (their files are made at test time).
const E2E = new URL("../fixtures/e2e/", import.meta.url).pathname;

interface Case {
  app: string;
  /** What GET / answers when the detected start command runs. */
  body: RegExp;
  /** The plan's story, as the check run's summary tells it. */
  summary: RegExp[];
  /** Set in .github/microship.yml, as a team behind its own mirrors would. */
  buildArgs?: (index: PythonIndex) => Record<string, string>;
  /** More paths the running app must answer, and what with. */
  paths?: Record<string, RegExp>;
  /** A path in GET /'s body that must be served too (e.g. a bundle under /_next/static). */
  asset?: RegExp;
  /** What that asset must hold (text only a workspace package of the app writes). */
  assetBody?: RegExp;
  /** The app's directory, when it isn't the corpus's `app`. */
  dir?: string;
  /** Files added at test time, by path. */
  extraFiles?: () => Record<string, string>;
}

// Only the npm registry is reachable here (not repo.yarnpkg.com, where corepack looks yarn up by
// default), through a mirror whose metadata carries no signatures, which corepack refuses unless
// told not to check them. A team behind its own npm mirror sets the same two build args.
const npmMirror = () => ({ COREPACK_NPM_REGISTRY: "https://registry.npmjs.org", COREPACK_INTEGRITY_KEYS: "0" });
// PyPI is out of reach: the local index stands in for the team's internal mirror.
const pythonIndex = (index: PythonIndex) => ({ PIP_INDEX_URL: index.url, PIP_TRUSTED_HOST: index.trustedHost });

const CASES: Case[] = [
  // npm ci from package-lock.json; the start command comes from the Procfile's web line, not `npm start`.
  { app: "node-procfile", body: /^Procfile web on \d+\n$/, summary: [/npm \(from package-lock\.json\)/, /node server\.js --port \$PORT/] },
  // npm install with no lockfile: express really comes from the registry.
  { app: "node-no-lockfile", body: /^express without a lockfile\n$/, summary: [/npm install/] },
  // The build script writes the file the start command runs.
  { app: "node-build-script", body: /^written by npm run build\n$/, summary: [/npm run build/] },
  // pnpm through corepack, TypeScript compiled by the build script.
  { app: "node-pnpm-build", body: /^compiled by tsc in pnpm run build\n$/, summary: [/pnpm/, /pnpm run build/], buildArgs: npmMirror },
  // yarn 1 through corepack, from yarn.lock.
  { app: "node-yarn-classic", body: /^yarn classic\n$/, summary: [/yarn/], buildArgs: npmMirror },
  // Next.js 16 built with NODE_ENV=production (its prerender fails in development), and run from
  // the standalone server alone: .next/standalone, .next/static and public, started by node server.js.
  { app: "node-next-standalone", body: /next standalone page, built for production/, summary: [/node server\.js/, /standalone/], paths: { "/robots.txt": /^User-agent: \*/ }, asset: /\/_next\/static\/[\w./-]+\.js/ },
  // NestJS: start:prod (`node dist/main`) rather than `nest start`, so the prune after the build is safe.
  { app: "node-nest-start-prod", body: /^hello from a nest app; dev dependencies pruned$/, summary: [/npm run start:prod/] },
  // pip's nested -r and -c: requirements/production.txt, base.txt and constraints.txt reach the
  // install in their places, and gunicorn, named only in a nested file, serves the Flask app.
  { app: "python-nested-requirements", body: /^nested requirements\n$/, summary: [/gunicorn app:app/, /requirements\/production\.txt/], buildArgs: pythonIndex },
  // Python from .python-version, requests from requirements.txt.
  { app: "python-python-version", body: /^requests 2\.\d+\.\d+\n$/, summary: [/python311/, /\.python-version/, /pip/], buildArgs: pythonIndex },
  // A plain HTML site: one Caddy stage serves the files as they are, subdirectory index included.
  { app: "static-plain-html", body: /<h1>Field notes<\/h1>/, summary: [/static/, /Caddy serves the files/], paths: { "/about/": /Notes kept by hand/, "/css/site.css": /font-family/ } },
  // Yarn 4 as `yarn set version` and `yarn patch-commit` leave it: yarnPath names the release under
  // .yarn/releases (the real one, from the npm registry's @yarnpkg/cli-dist), and `ms` is patched;
  // the text shows yarn 4.5.3 ran the start script and the patch reached node_modules.
  {
    app: "yarn4-yarnpath",
    dir: join(E2E, "yarn4-yarnpath"),
    extraFiles: () => ({ ".yarn/releases/yarn-4.5.3.cjs": yarnRelease(CACHE, "4.5.3") }),
    body: /^yarn yarn\/4\.5\.3; one minute is 1 minute \(patched by yarn patch\)\n$/,
    summary: [/yarn \(berry\)/, /yarn install --immutable/, /yarn start/],
    buildArgs: npmMirror,
  },
  // A Streamlit-shaped app: `streamlit run` with the port and address flags, from the console script
  // pip put in the virtualenv. Streamlit itself is out of reach here; see streamlit-stand-in.ts.
  {
    app: "streamlit-app",
    dir: join(E2E, "streamlit-app"),
    body: /<h1>Rain gauge<\/h1><p>Readings from the roof, rerun on every visit\.<\/p><p>Wettest day: Wed \(12 mm\)<\/p>/,
    summary: [/streamlit run streamlit_app\.py --server\.port \$PORT --server\.address 0\.0\.0\.0/, /python311/],
    buildArgs: pythonIndex,
  },
  // A Vite SPA: Node builds it, Caddy serves dist/ only; a client-side route is no file, and gets index.html.
  // A Vite SPA that is a package of a pnpm workspace: installed and built from the workspace root,
  // its `workspace:` package bundled in, and Caddy serving apps/site/dist.
  {
    app: "static-workspace-vite", body: /<title>Lantern<\/title>/, summary: [/static/, /--filter site\.\.\./, /Workspace: `apps\/site`/],
    paths: { "/somewhere/deep": /<title>Lantern<\/title>/ }, asset: /\/assets\/index-[\w-]+\.js/, assetBody: /lantern ui: /, buildArgs: npmMirror,
  },
  { app: "static-vite-spa", body: /trail log, built by vite/, summary: [/static/, /Caddy serves dist\//, /npm run build/], paths: { "/trails/ridge": /trail log, built by vite/ }, asset: /\/assets\/index-[\w-]+\.js/ },
];

let base: BaseImages;
let index: PythonIndex;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  index = await startPythonIndex(["requests", "flask", "gunicorn"], [streamlitStandIn(CACHE)]);
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => index?.stop(), () => base?.stop());
});

// Two apps at a time, as microship builds by default (MICROSHIP_CONCURRENCY=2): one app's
// downloads and start-up overlap the other's compile.
describe("corpus apps, two at a time", { concurrency: 2 }, () => {
  for (const c of CASES) {
    test(`corpus app ${c.app} builds with its rendered Dockerfile and runs its detected start command`, { timeout: 600_000 }, async () => {
      const files = { ...corpusAppFiles(c.dir ?? join(CORPUS, c.app)), ...c.extraFiles?.() };
      if (c.buildArgs) {
        // Appended to the app's own config (a `root:`), which never sets build_args itself.
        files[".github/microship.yml"] = `${files[".github/microship.yml"] ?? ""}build_args:\n${Object.entries(c.buildArgs(index)).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join("")}`;
      }
      const branch = `corpus-${c.app}`;
      const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch, files });
      assert.equal((await h.send("push", h.pushPayload({ sha, branch }))).status, 200);
      const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 540_000, `the build of ${c.app}`);
      const summary = run.output.summary ?? "";
      assert.equal(run.conclusion, "success", `${summary}\n${run.output.text?.slice(-4000)}`);
      for (const re of c.summary) assert.match(summary, re);
      // An ARG the template declares but nobody passes would put buildah's warning in every log.
      assert.doesNotMatch(run.output.text ?? "", /build argument/);

      const { port, container } = await runPushedImage(h.app, `${OWNER}/${REPO}`, summary);
      try {
        const body = await firstBody(port, 60_000);
        assert.match(body, c.body, container.output());
        for (const [path, re] of Object.entries(c.paths ?? {})) {
          const r = await fetch(`http://127.0.0.1:${port}${path}`);
          assert.equal(r.status, 200, `${path}: ${container.output()}`);
          assert.match(await r.text(), re, path);
        }
        if (c.asset) {
          const path = c.asset.exec(body)?.[0];
          assert.ok(path, `no asset in ${body.slice(0, 2000)}`);
          const asset = await fetch(`http://127.0.0.1:${port}${path}`);
          assert.equal(asset.status, 200, path);
          if (c.assetBody) assert.match(await asset.text(), c.assetBody, path);
        }
      } finally {
        await container.stop();
      }
    });
  }
});
