import type { OpLog } from "../../src/core/ports.ts";
import type { DeployTarget } from "../../src/core/deploy/deploy-target.ts";
import { deploymentName, vmInstanceName } from "../../src/deploy/microvm/deployment-name.ts";
import type { SavedVm } from "../../src/deploy/microvm/saved-vm.ts";

export const preview = (n: number): DeployTarget => ({ kind: "preview", environment: `preview/pr-${n}`, slug: `pr-${n}`, transient: true, production: false });
export const production: DeployTarget = { kind: "environment", environment: "production", slug: "production", transient: false, production: true };

/** A saved VM this deployer could have made (its name and instance follow the naming rules). */
export function savedVm(o: { target?: DeployTarget; digestByte?: string; state?: SavedVm["state"]; createdAt?: string; qemu?: SavedVm["qemu"] } = {}): SavedVm {
  const target = o.target ?? preview(7);
  const digest = `sha256:${(o.digestByte ?? "ab").repeat(32)}`;
  const name = deploymentName({ owner: "octo", repo: "shop", app: null, target });
  return {
    v: 1, name, instance: vmInstanceName(name, digest), state: o.state ?? "running", owner: "octo", repo: "shop", app: null, target,
    installationId: 77, sha: "a".repeat(40), imageRef: `127.0.0.1:5000/octo/shop@${digest}`, digest, port: 3000, health: "/",
    idleMinutes: 30, expiresAt: "2030-01-01T00:00:00.000Z", createdAt: o.createdAt ?? "2026-01-01T00:00:00.000Z", qemu: o.qemu ?? null,
  };
}

/** A log that keeps its warnings' messages and fields, for tests that expect one. */
export function warnLog(): OpLog & { warnings: string[] } {
  const warnings: string[] = [];
  const log = { warnings, info() {}, debug() {}, error() {}, warn: (o: unknown, msg?: string) => warnings.push(`${msg ?? ""} ${JSON.stringify(o)}`), child: () => log };
  return log;
}
