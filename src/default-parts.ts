import { join } from "node:path";
import type { Builder } from "./core/builder.ts";
import type { Env } from "./config/env.ts";
import type { Archiver, ImageNamer, Planner, RegistryCredential, RegistryCredentials } from "./core/ports.ts";
import type { Logger } from "./log/logger.ts";
import { planApps } from "./detect/provider-list.ts";
import { createSourceArchive } from "./source/archive.ts";
import { RegistryImageNamer } from "./registry/image-name.ts";
import { startEmbeddedRegistry } from "./registry/embedded-registry.ts";
import { HostBuilder } from "./builder/host/host-builder.ts";
import { MicroVmBuilder } from "./builder/microvm/microvm-builder.ts";
import { HypemanBuilder } from "./builder/hypeman/hypeman-builder.ts";
import type { Deployer } from "./core/deployer.ts";
import { deployerOf } from "./config/env.ts";
import { hypemanBaseURLs } from "./config/hypeman-base-urls.ts";
import { hypemanParts } from "./deploy/hypeman/hypeman-parts.ts";
import { MicroVmDeployer } from "./deploy/microvm/microvm-deployer.ts";
import type { RouteTable } from "./deploy/proxy/route-table.ts";
import type { RouteSource } from "./deploy/proxy/route-source.ts";
import { deployRoutes } from "./deploy/proxy/deploy-routes.ts";

export interface Parts {
  builder: Builder;
  planner: Planner;
  archiver: Archiver;
  images: ImageNamer;
  registry: string;
  /** microship's own credential for the embedded registry (null for MICROSHIP_REGISTRY). */
  registryAuth: RegistryCredential | null;
  /** Issues each build's push credential for the embedded registry; null for MICROSHIP_REGISTRY. */
  registryCredentials: RegistryCredentials | null;
  /** Runs what was built (MICROSHIP_DEPLOYER); null: nothing deploys. */
  deployer: Deployer | null;
  /** microship's own deploy proxy routes (the microvm deployer's, or the Hypeman wake layer's); null when nothing deploys there. */
  deployRoutes: RouteTable | RouteSource | null;
  close(): Promise<void>;
}

/** Where the microvm builder keeps its VM image and per-build disks. */
export const microvmDataDir = (env: Env) => join(env.MICROSHIP_DATA_DIR, "builders", "microvm");

const isLoopback = (hostPort: string) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(hostPort.split("/")[0]!);

/** The embedded defaults: detection, archive, registry and builder, each replaceable by a test. */
export async function createDefaultParts(env: Env, log: Logger, o: Partial<Omit<Parts, "registry" | "registryAuth" | "registryCredentials" | "close">>): Promise<Parts> {
  const dataDir = env.MICROSHIP_DATA_DIR;
  const embedded = env.MICROSHIP_REGISTRY ? null : await startEmbeddedRegistry({ dataDir, log });
  const registry = env.MICROSHIP_REGISTRY ?? embedded!.address;
  const insecure = [registry, env.MICROSHIP_BASE_IMAGE_MIRROR ?? ""].map((r) => r.split("/")[0]!).filter((r) => r && isLoopback(r));

  const planner: Planner = { plan: (dir, config) => planApps(dir, config, { baseImageMirror: env.MICROSHIP_BASE_IMAGE_MIRROR ?? null }) };
  const archiver: Archiver = {
    archive(appDir, plan, outPath) {
      // Hypeman builds the tarball's root Dockerfile, so the chosen one goes there, in the stream.
      return createSourceArchive(appDir, {
        outPath, dockerignore: plan.dockerignore, dockerfile: plan.dockerfile, appRoot: plan.contextRoot ?? plan.root,
        maxBytes: env.MICROSHIP_SOURCE_MAX_MIB * 1024 * 1024, maxFiles: env.MICROSHIP_SOURCE_MAX_FILES,
      });
    },
  };
  const builder = o.builder ?? createBuilder(env, log, join(dataDir, "builders"), insecure);
  log.info({ builder: builder.name, registry }, `builds run on: ${builder.describe()}; images go to ${registry}`);
  // loadEnv insists on HYPEMAN_BASE_URL and MICROSHIP_DEPLOY_DOMAIN with this deployer; deploys go to the first server, builds are spread over all.
  const hypeman = o.deployer === undefined && deployerOf(env) === "hypeman"
    ? hypemanParts({ baseURL: hypemanBaseURLs(env.HYPEMAN_BASE_URL!)[0]!, apiKey: env.HYPEMAN_API_KEY, domain: env.MICROSHIP_DEPLOY_DOMAIN!, ingressUrl: env.MICROSHIP_HYPEMAN_INGRESS_URL, ingressCa: env.MICROSHIP_HYPEMAN_INGRESS_CA, ingressTls: env.MICROSHIP_HYPEMAN_INGRESS_TLS, publicUrl: env.MICROSHIP_PUBLIC_URL, log })
    : null;
  const routes = o.deployRoutes !== undefined ? o.deployRoutes : deployerOf(env) === "microvm" ? deployRoutes({ domain: env.MICROSHIP_DEPLOY_DOMAIN, publicUrl: env.MICROSHIP_PUBLIC_URL }) : hypeman?.wakeRoutes ?? null;
  let deployer: Deployer | null;
  try {
    deployer = o.deployer !== undefined ? o.deployer : hypeman?.deployer ?? createDeployer(env, log, { routes: routes as RouteTable | null, registryAuth: embedded?.auth ?? null, insecure });
  } catch (err) {
    // Refused (another microship owns the deploy state): what already started stops with it.
    await builder.close?.();
    await embedded?.stop();
    throw err;
  }
  return {
    builder,
    planner: o.planner ?? planner,
    archiver: o.archiver ?? archiver,
    images: o.images ?? new RegistryImageNamer(registry),
    registry,
    registryAuth: embedded?.auth ?? null,
    registryCredentials: embedded?.credentials ?? null,
    deployer,
    deployRoutes: routes,
    async close() {
      await deployer?.close?.();
      await builder.close?.();
      await embedded?.stop();
    },
  };
}

function createBuilder(env: Env, log: Logger, dir: string, insecureRegistries: string[]): Builder {
  switch (env.MICROSHIP_BUILDER) {
    case "microvm":
      return new MicroVmBuilder({
        dataDir: microvmDataDir(env),
        log,
        cpus: env.MICROSHIP_MICROVM_CPUS,
        memoryMiB: env.MICROSHIP_MICROVM_MEMORY_MIB,
        diskMiB: env.MICROSHIP_MICROVM_DISK_MIB,
        accelerator: env.MICROSHIP_MICROVM_ACCEL,
        insecureRegistries,
        egressAllow: env.MICROSHIP_EGRESS_ALLOW,
        runAs: env.MICROSHIP_MICROVM_RUNAS,
      });
    case "hypeman":
      // loadEnv insists on HYPEMAN_BASE_URL with this builder.
      return new HypemanBuilder({ baseURL: hypemanBaseURLs(env.HYPEMAN_BASE_URL!), apiKey: env.HYPEMAN_API_KEY, log });
    case "host":
      return new HostBuilder({ dir: join(dir, "host"), insecureRegistries });
  }
}

function createDeployer(env: Env, log: Logger, m: { routes: RouteTable | null; registryAuth: RegistryCredential | null; insecure: string[] }): Deployer | null {
  switch (deployerOf(env)) {
    case "microvm":
      return new MicroVmDeployer({
        dataDir: microvmDataDir(env), routes: m.routes!, log, registryAuth: m.registryAuth, insecureRegistries: m.insecure,
        accelerator: env.MICROSHIP_MICROVM_ACCEL, egressAllow: env.MICROSHIP_EGRESS_ALLOW, runAs: env.MICROSHIP_MICROVM_RUNAS,
      });
    case "hypeman": // made above, with its wake layer
    case "none":
      return null;
  }
}
