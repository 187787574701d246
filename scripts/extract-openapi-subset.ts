/**
 * Extracts the GitHub REST operations microship calls from `@octokit/openapi` (about 385 MB
 * installed, so it is not a dependency) into test/fixtures/github/openapi-subset.json, which the
 * GitHub fake validates every request against. Re-run it when the app calls a new endpoint:
 *   npm run openapi:subset
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PACKAGE_VERSION = "23.0.2";
const OUT = new URL("../test/fixtures/github/openapi-subset.json", import.meta.url);

/** Every operation the app, Probot or the tests' Octokit calls. */
export const OPERATIONS = [
  "GET /app",
  "GET /app/installations",
  "POST /app/installations/{installation_id}/access_tokens",
  "GET /repos/{owner}/{repo}/installation",
  "GET /repos/{owner}/{repo}",
  "POST /repos/{owner}/{repo}/check-runs",
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
  "GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
  "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
  "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}",
  "GET /repos/{owner}/{repo}/contents/{path}",
  "POST /repos/{owner}/{repo}/deployments",
  "GET /repos/{owner}/{repo}/deployments",
  "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
  // The dashboard, with a user's own token (GitHub App user-to-server).
  "GET /user",
  "GET /user/installations",
  "GET /user/installations/{installation_id}/repositories",
];

const DROP = new Set(["description", "example", "examples", "externalDocs", "summary", "x-github", "x-octokit", "tags", "deprecated", "title"]);

/** Drops prose and vendor metadata, but never a schema property that happens to share a name (title, summary, description). */
function strip(value: unknown, inProperties = false): unknown {
  if (Array.isArray(value)) return value.map((v) => strip(v));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!inProperties && DROP.has(k)) continue;
    out[k] = strip(v, !inProperties && k === "properties");
  }
  return out;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "openapi-"));
  try {
    execFileSync("npm", ["pack", `@octokit/openapi@${PACKAGE_VERSION}`, "--silent"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("tar", ["-xzf", `octokit-openapi-${PACKAGE_VERSION}.tgz`, "package/generated/api.github.com.deref.json"], { cwd: dir });
    const spec = JSON.parse(readFileSync(join(dir, "package/generated/api.github.com.deref.json"), "utf8"));
    const operations: Record<string, unknown> = {};
    for (const key of OPERATIONS) {
      const [method, path] = key.split(" ") as [string, string];
      const op = spec.paths?.[path]?.[method.toLowerCase()];
      if (!op) throw new Error(`${key} is not in @octokit/openapi ${PACKAGE_VERSION}`);
      const ok = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith("2"));
      operations[key] = strip({
        operationId: op.operationId,
        parameters: op.parameters ?? [],
        requestBody: op.requestBody?.content?.["application/json"]?.schema ?? null,
        requestBodyRequired: op.requestBody?.required ?? false,
        response: ok ? { status: Number(ok[0]), schema: (ok[1] as any)?.content?.["application/json"]?.schema ?? null } : null,
      });
    }
    const subset = { source: "@octokit/openapi", packageVersion: PACKAGE_VERSION, specVersion: spec.info?.version ?? null, operations };
    writeFileSync(OUT, JSON.stringify(subset, null, 1) + "\n");
    console.log(`wrote ${Object.keys(operations).length} operations from @octokit/openapi ${PACKAGE_VERSION}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) main();
