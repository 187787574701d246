import { randomUUID } from "node:crypto";
import type { BuildRequest } from "../../src/core/types.ts";

/** A BuildRequest for store and pipeline tests; webhook-level tests use real payloads instead. */
export function buildRequest(over: Partial<BuildRequest> = {}): BuildRequest {
  return {
    deliveryId: randomUUID(),
    trigger: "push",
    installationId: 1,
    owner: "octo",
    repo: "app",
    defaultBranch: "main",
    sha: "a".repeat(40),
    branch: "feature",
    pr: null,
    fetchRef: null,
    noCache: false,
    requestedBy: "octocat",
    changedPaths: null,
    rerun: false,
    ...over,
  };
}

export const sha = (c: string) => c.repeat(40).slice(0, 40);
