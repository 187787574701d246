import { z } from "zod";
import { isValidName } from "../../core/deploy/instance-name.ts";
import { deploymentName, isInstanceOf } from "./deployment-name.ts";

const text = (max: number) => z.string().min(1).max(max);
const date = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), "not a date");

/** One VM as the state dir keeps it (its env apart, encrypted): what list() shows and what boots it again. */
export const savedVmSchema = z.object({
  v: z.literal(1),
  name: text(63),
  instance: text(80),
  /** "starting" until its health passed and the route moved to it (or a wake made it serve again). */
  state: z.enum(["starting", "running"]),
  owner: text(100),
  repo: text(100),
  app: text(100).nullable(),
  target: z.object({
    kind: z.enum(["preview", "environment"]),
    environment: text(255),
    slug: text(255),
    transient: z.boolean(),
    production: z.boolean(),
  }).strict(),
  installationId: z.number().int().positive(),
  sha: text(100),
  imageRef: text(1000),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  port: z.number().int().min(1).max(65535),
  health: text(1000).refine((p) => p.startsWith("/"), "not a path"),
  idleMinutes: z.number().int().min(0).max(1_000_000).nullable(),
  expiresAt: date.nullable(),
  createdAt: date,
  release: z.string().max(10_000).optional(),
  /** The QEMU that served it, to kill one a killed microship left running (pid and /proc start time: pid reuse safe). */
  qemu: z.object({
    pid: z.number().int().min(2).max(2 ** 22),
    startTime: z.string().regex(/^[0-9]{1,20}$/),
    /** Its temporary dirs, removed once a stale QEMU is killed (stale-qemu.ts checks each is one of ours). */
    dirs: z.array(z.string().max(500)).max(2).optional(),
  }).strict().nullable(),
}).strict();

export type SavedVm = z.infer<typeof savedVmSchema>;

export const MAX_ENV_VARS = 1000;
export const envSchema = z.record(z.string().min(1).max(1000), z.string().max(64 * 1024)).refine((e) => Object.keys(e).length <= MAX_ENV_VARS, "too many variables");

/**
 * Why a saved VM is not one this deployer could have made: its name and instance must be exactly
 * what deploymentName and vmInstanceName give for its key and digest, or a redeploy's fresh
 * generation of that digest (so a planted file can't take another deployment's route or name a
 * file outside the state dir). Null when it is.
 */
export function namingProblem(s: SavedVm): string | null {
  if (!isValidName(s.name)) return "the name is not a valid host label";
  if (deploymentName({ owner: s.owner, repo: s.repo, app: s.app, target: s.target }) !== s.name) return "the name does not match its owner, repo, app and target";
  if (!isInstanceOf(s.instance, s.name, s.digest)) return "the instance does not match its name and digest";
  return null;
}
