import type { Builder } from "./builder.ts";
import type { Store } from "./store.ts";
import type { Deployer, DeploymentReporter } from "./deployer.ts";
import type { DeploymentLocks } from "./deploy/deployment-lock.ts";
import type {
  Archiver, ChecksReporter, ConfigSource, ImageNamer, LinkSigner, Metrics, OpLog, Planner, RegistryCredentials, SecretSource, SourceFetcher,
} from "./ports.ts";
import type { BuildPlan } from "./types.ts";

/** What the stages of a build run with. main.ts wires the real parts; tests pass their own. */
export interface PipelineDeps {
  source: SourceFetcher;
  config: ConfigSource;
  planner: Planner;
  archiver: Archiver;
  builder: Builder;
  reporter: ChecksReporter;
  store: Store;
  images: ImageNamer;
  /** Each build's push credential; absent when the registry takes none from us. */
  registryCredentials?: RegistryCredentials | null;
  secrets: SecretSource | null;
  links: LinkSigner;
  metrics: Metrics;
  log: OpLog;
  /** Parent of the per-build scratch dirs. */
  workDir: string;
  buildTimeoutSeconds: number;
  /** The most a repository's `timeout:` may ask for (MICROSHIP_BUILD_TIMEOUT_MAX); no cap when absent. */
  buildTimeoutMaxSeconds?: number;
  /** The detection story for the summary (what was chosen, from which file, how to override). */
  describePlan?: (plan: BuildPlan) => string;
  /** Bytes of build log stored per build; BuildLog's default when absent. */
  logMaxBytes?: number;
  /** Minimum time between two log-tail updates of one check run (GitHub's limits: 5 s). */
  progressIntervalMs: number;
  /** Runs pushed images; absent or null: nothing deploys. */
  deployer?: Deployer | null;
  /** GitHub's deployments and the preview comment; absent: deploys are only in the check run. */
  deployments?: DeploymentReporter | null;
  /** Never two deploys of one deployment at once (core/deploy/deployment-lock.ts); absent: no lock. */
  deployLocks?: DeploymentLocks | null;
}
