import { z } from "zod";
import { hypemanBaseUrl } from "./hypeman-base-urls.ts";
import { ingressCa } from "./ingress-ca.ts";

/** The environment contract (the README's configuration table). A bad value stops the app with every problem named. */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
/** A switch: only these four spellings, so a typo ("yes", "ture") stops the start instead of meaning off. */
const flag = z.enum(["true", "false", "1", "0"], { error: "expected true, false, 1 or 0" }).transform((v) => v === "true" || v === "1");

const registryRef = z
  .string()
  .regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._\/-]+)?$/i, "expected host[:port][/prefix], e.g. registry.example.com:5000/team");

export const envSchema = z.object({
  APP_ID: z.string().regex(/^\d+$/, "expected the numeric App ID").optional(),
  PRIVATE_KEY: z.string().min(1).optional(),
  PRIVATE_KEY_PATH: z.string().min(1).optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  GHE_HOST: z.string().min(1).optional(),
  GHE_PROTOCOL: z.enum(["http", "https"]).optional(),
  /** A smee.io channel whose deliveries are forwarded to the webhook route (src/http/webhook-proxy.ts). */
  WEBHOOK_PROXY_URL: z.url({ protocol: /^https?$/, error: "expected the https:// URL of a smee.io channel" }).optional(),
  PORT: port.default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  MICROSHIP_PUBLIC_URL: z.url().optional(),
  MICROSHIP_DATA_DIR: z.string().min(1).default("./data"),
  MICROSHIP_BUILDER: z.enum(["hypeman", "microvm", "host"]).default("microvm"),
  MICROSHIP_REGISTRY: registryRef.optional(),
  MICROSHIP_BASE_IMAGE_MIRROR: registryRef.optional(),
  MICROSHIP_CONCURRENCY: positiveInt.max(64).default(2),
  MICROSHIP_BUILD_TIMEOUT: positiveInt.max(86_400).default(900),
  /** The most a repository's `timeout:` may ask for (the config's own limit is 7200). */
  MICROSHIP_BUILD_TIMEOUT_MAX: positiveInt.max(86_400).default(7_200),
  /**
   * Key for the log pages' capability links. Unset: a random key made once and kept in the data
   * dir. Set it to share links across replicas.
   */
  MICROSHIP_LOG_SECRET: z.string().min(16).optional(),
  /**
   * Key of microship's secret store (AES-256-GCM), base64 of 32 bytes. Unset: a random key made once
   * in the data dir (secrets.key); replicas on DATABASE_URL must share one, or secrets stay off.
   */
  MICROSHIP_SECRETS_KEY: z
    .string()
    .refine((v) => isBase64Key(v), "expected the base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`")
    .optional(),
  /** How long a log link works. */
  MICROSHIP_LOG_LINK_DAYS: positiveInt.max(3_650).default(30),
  /** A finished build's log is deleted this long after the build ended. */
  MICROSHIP_LOG_RETENTION_DAYS: positiveInt.max(3_650).default(30),
  /** Serves /metrics on its own listener (and not on PORT). */
  MICROSHIP_METRICS_PORT: port.optional(),
  /** Where that listener binds: loopback unless said otherwise. */
  MICROSHIP_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** /metrics then asks for `Authorization: Bearer <token>`. */
  MICROSHIP_METRICS_TOKEN: z.string().min(16).optional(),
  /** Bytes of one build's log that are stored (the check run's tail keeps moving past it). */
  MICROSHIP_LOG_MAX_MB: positiveInt.max(10_000).default(50),
  /** A commit whose files add up to more than this (or more files than the next) is refused before checkout. */
  MICROSHIP_SOURCE_MAX_MIB: positiveInt.max(65_536).default(512),
  MICROSHIP_SOURCE_MAX_FILES: positiveInt.max(10_000_000).default(100_000),
  /** Private ranges (CIDR) and exact host:port endpoints a microVM build may reach, comma-separated. */
  MICROSHIP_EGRESS_ALLOW: z.string().default(""),
  /** `per-build`: each QEMU drops to an unprivileged uid of its own; `off` keeps root. */
  MICROSHIP_MICROVM_RUNAS: z.enum(["per-build", "off"]).default("per-build"),
  /** The microvm builder's VM size; Hypeman's defaults. */
  MICROSHIP_MICROVM_CPUS: positiveInt.max(64).default(2),
  MICROSHIP_MICROVM_MEMORY_MIB: positiveInt.min(256).max(262_144).default(2048),
  MICROSHIP_MICROVM_DISK_MIB: positiveInt.min(512).max(1_048_576).default(10_240),
  /** Forces the microvm accelerator; detected from the host otherwise. */
  MICROSHIP_MICROVM_ACCEL: z.enum(["kvm", "tcg"]).optional(),
  /** Where built images run: hypeman, microvm (QEMU microVMs behind microship's own proxy), none. Default: see deployerOf. */
  MICROSHIP_DEPLOYER: z.enum(["hypeman", "microvm", "none"]).optional(),
  /** Deployments answer at `{instance}.<domain>`: a wildcard DNS record sends it to Hypeman's ingress. */
  MICROSHIP_DEPLOY_DOMAIN: z
    .string()
    .max(200)
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, "expected a DNS domain such as preview.example.com")
    .optional(),
  /**
   * Hypeman's ingress (http:// or https://host:port), for microship as the wake layer in front of it: the
   * deploy domain's wildcard DNS then points at microship, which forwards each running instance's
   * requests there (Host kept) and restores one in standby. Set, previews sleep after idle_minutes.
   */
  MICROSHIP_HYPEMAN_INGRESS_URL: z.url({ protocol: /^https?$/, error: "expected http://host:port or https://host:port of Hypeman's ingress" }).optional(),
  /** A PEM file with the private CA of an https ingress's certificate; unset: Node's CA store. Read once, at start. */
  MICROSHIP_HYPEMAN_INGRESS_CA: ingressCa.optional(),
  /** Without the wake layer: Hypeman's ingress terminates TLS for the deploy domain (ACME), and URLs are https://. */
  MICROSHIP_HYPEMAN_INGRESS_TLS: flag.default(false),
  /** Minutes between two passes of the preview reconciler (closed pull requests' and expired previews go). */
  MICROSHIP_RECONCILE_MINUTES: positiveInt.max(1_440).default(5),
  /** One Hypeman server, or several separated by commas that builds are spread over (hypeman-base-urls.ts). */
  HYPEMAN_BASE_URL: hypemanBaseUrl.optional(),
  HYPEMAN_API_KEY: z.string().min(1).optional(),
  /** Postgres as the system of record, shared by every replica; unset: SQLite in the data dir. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s]*$/, "expected a postgres:// or postgresql:// URL")
    .optional(),
  /** The GitHub App's OAuth client, under the names Probot's setup flow writes to .env: they turn the dashboard on. */
  GITHUB_CLIENT_ID: z.string().min(1).max(100).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).max(200).optional(),
  /** `web` serves webhooks, pages and the dashboard and claims no builds; `worker` runs builds and answers only health and metrics; `all` does both. */
  MICROSHIP_ROLE: z.enum(["web", "worker", "all"]).default("all"),
  /** This replica's host, for cache affinity (a scope's builds prefer the host that built it last); default: the OS hostname. */
  MICROSHIP_HOST_ID: z.string().max(100).regex(/^[A-Za-z0-9._-]+$/, "expected letters, digits, '.', '_' or '-'").optional(),
  /** How long (ms) a build is left to the host its cache scope last ran on before any replica takes it; 0: off. Postgres only. */
  MICROSHIP_AFFINITY_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
});

export type Env = z.infer<typeof envSchema>;

/** Base64 (standard alphabet, padded) of exactly 32 bytes: 44 characters, checked without a regex. */
function isBase64Key(v: string): boolean {
  if (v.length !== 44 || !v.endsWith("=") || v.endsWith("==")) return false;
  const decoded = Buffer.from(v, "base64");
  return decoded.length === 32 && decoded.toString("base64") === v;
}

export class EnvError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
    this.problems = problems;
  }
}

/** Empty strings count as unset: `.env` files often carry `FOO=`. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new EnvError(parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  if (env.MICROSHIP_BUILDER === "hypeman" && !env.HYPEMAN_BASE_URL) {
    problems.push("HYPEMAN_BASE_URL: required when MICROSHIP_BUILDER=hypeman");
  }
  if (env.MICROSHIP_METRICS_PORT && env.MICROSHIP_METRICS_PORT === env.PORT) {
    problems.push("MICROSHIP_METRICS_PORT: must differ from PORT (it is a listener of its own)");
  }
  if (deployerOf(env) === "hypeman" && !env.HYPEMAN_BASE_URL) problems.push("HYPEMAN_BASE_URL: required when MICROSHIP_DEPLOYER=hypeman");
  if (deployerOf(env) === "hypeman" && !env.MICROSHIP_DEPLOY_DOMAIN) problems.push("MICROSHIP_DEPLOY_DOMAIN: required when MICROSHIP_DEPLOYER=hypeman");
  if (env.MICROSHIP_HYPEMAN_INGRESS_URL && deployerOf(env) !== "hypeman") problems.push("MICROSHIP_HYPEMAN_INGRESS_URL: only with the hypeman deployer (MICROSHIP_DEPLOYER=hypeman)");
  if (env.MICROSHIP_HYPEMAN_INGRESS_CA && !env.MICROSHIP_HYPEMAN_INGRESS_URL?.startsWith("https:")) problems.push("MICROSHIP_HYPEMAN_INGRESS_CA: only with an https:// MICROSHIP_HYPEMAN_INGRESS_URL");
  if (env.MICROSHIP_HYPEMAN_INGRESS_TLS && deployerOf(env) !== "hypeman") problems.push("MICROSHIP_HYPEMAN_INGRESS_TLS: only with the hypeman deployer (MICROSHIP_DEPLOYER=hypeman)");
  if (env.MICROSHIP_HYPEMAN_INGRESS_TLS && env.MICROSHIP_HYPEMAN_INGRESS_URL) {
    problems.push("MICROSHIP_HYPEMAN_INGRESS_TLS: not with MICROSHIP_HYPEMAN_INGRESS_URL (microship is then in front and its MICROSHIP_PUBLIC_URL says the scheme)");
  }
  if (env.MICROSHIP_ROLE !== "all" && !env.DATABASE_URL) {
    problems.push(`MICROSHIP_ROLE: ${env.MICROSHIP_ROLE} splits microship across replicas that share DATABASE_URL; without it, one process must do both (all, the default): a web replica's builds would never run, and a worker would get no deliveries`);
  }
  if (env.DATABASE_URL && !env.MICROSHIP_REGISTRY) {
    problems.push(
      "MICROSHIP_REGISTRY: required with DATABASE_URL: replicas sharing one database must push to one registry, and the embedded registry lives in a single replica's data dir",
    );
  }
  // Probot would check signatures against its public default ("development"): anyone could send webhooks.
  if (hasAppCredentials(env) && !env.WEBHOOK_SECRET) problems.push("WEBHOOK_SECRET: required with APP_ID and a private key (the app's webhook secret, as set on GitHub)");
  if (Boolean(env.GITHUB_CLIENT_ID) !== Boolean(env.GITHUB_CLIENT_SECRET)) {
    problems.push("GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET: set both (the dashboard's sign-in) or neither");
  }
  if (problems.length > 0) throw new EnvError(problems);
  return env;
}

/**
 * The deployer in force: MICROSHIP_DEPLOYER, else the builder's kind: microvm with the microvm
 * builder, hypeman with the hypeman builder once MICROSHIP_DEPLOY_DOMAIN says where, none for host.
 */
export function deployerOf(env: Env): "hypeman" | "microvm" | "none" {
  if (env.MICROSHIP_DEPLOYER) return env.MICROSHIP_DEPLOYER;
  if (env.MICROSHIP_BUILDER === "microvm") return "microvm";
  if (env.MICROSHIP_BUILDER === "hypeman" && env.MICROSHIP_DEPLOY_DOMAIN) return "hypeman";
  return "none";
}

export function hasAppCredentials(env: Env): boolean {
  return Boolean(env.APP_ID && (env.PRIVATE_KEY || env.PRIVATE_KEY_PATH));
}

/** MICROSHIP_PUBLIC_URL, else http://localhost on the port listened on (PORT=0 takes a free one, known only once listening). */
export function publicUrl(env: Env, listeningPort: number = env.PORT): string {
  return (env.MICROSHIP_PUBLIC_URL ?? `http://localhost:${listeningPort}`).replace(/\/+$/, "");
}
