import type { OpLog, RegistryCredential } from "../../core/ports.ts";
import type { VmUserMode } from "../../builder/microvm/vm-user.ts";
import type { RouteTable } from "../proxy/route-table.ts";

export interface MicroVmDeployerOptions {
  /** The microvm builder's data dir: the VM image is shared; app disks go to <dataDir>/deploy/images. */
  dataDir: string;
  /** Where app disks are kept, one per image digest (default <dataDir>/deploy/images). */
  appDiskDir?: string;
  /**
   * Where each VM's record is kept across restarts (default <dataDir>/deploy/state; its env key
   * beside it). One process owns it, and the app disk dir with it (state-dir-lock.ts): a second
   * deployer on it, in this process or another, throws StateDirInUseError; close() gives it up.
   */
  stateDir?: string;
  /** microship's proxy routes (src/deploy/proxy/route-table.ts). */
  routes: RouteTable;
  log?: OpLog;
  /** To pull from the embedded registry; null for MICROSHIP_REGISTRY (the host's own auth then). */
  registryAuth?: RegistryCredential | null;
  insecureRegistries?: string[];
  accelerator?: string;
  /** Per app VM (default 1 vCPU, 1024 MiB). */
  cpus?: number;
  memoryMiB?: number;
  /** MICROSHIP_EGRESS_ALLOW, as for builds. */
  egressAllow?: string;
  runAs?: VmUserMode;
  /** How long a new version may take to answer its health path (default 300 s: TCG boots are slow). */
  healthTimeoutMs?: number;
  /** How long deploy.release may run in its one-off VM, boot included (default 10 min). */
  releaseTimeoutMs?: number;
  bootTimeoutMs?: number;
  /** How long the old VM keeps serving the requests it has after the route moved (default 2 s). */
  drainMs?: number;
  imageProgress?: (line: string) => void;
  onVmStart?: (pid: number, instance: string) => void;
  /** How often previews are checked for idleness (default 60 s), and the wait after a failed wake (default 30 s). */
  idleCheckMs?: number;
  wakeBackoffMs?: number;
}
