import { mkdir, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { x as untar } from "tar";
import type { BuildInput } from "../../core/builder.ts";
import { writeRegistriesConf, type BuildahEnv } from "../buildah/buildah-env.ts";
import { toolEnv } from "../buildah/buildah-command.ts";
import { writeAuthFile } from "../buildah/scope-storage.ts";
import { fromRegistries, isLoopbackRegistry, registryHost } from "../../registry/registry-host.ts";

/** What one host build runs with, all inside its own work dir. */
export interface HostWorkdir {
  /** buildah's environment: the scope's storage, this build's HOME, registries and credential. */
  env: Record<string, string>;
  authFile: string;
  /** The unpacked source. */
  context: string;
  dockerfile: string;
  /** `--secret id=…,src=…` for each secret, each in a file only we can read. */
  secretArgs: string[];
}

/** Fills `work` with what buildah needs: config, credential, context, Dockerfile and secrets. */
export async function prepareHostWorkdir(work: string, input: BuildInput, scope: BuildahEnv, insecureRegistries: string[]): Promise<HostWorkdir> {
  const registriesConf = join(work, "registries.conf");
  const insecure = [...insecureRegistries, ...[...fromRegistries(input.dockerfile), registryHost(input.imageName)].filter(isLoopbackRegistry)];
  writeRegistriesConf(registriesConf, insecure);
  // The push credential goes in a file, never in argv, which every process can read in /proc.
  const authFile = join(work, "auth.json");
  await writeAuthFile(authFile, input.registryAuth ? { [registryHost(input.imageName)]: input.registryAuth } : {});
  const env = toolEnv(scope, { HOME: work, CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRIES_CONFIG_PATH: registriesConf, REGISTRY_AUTH_FILE: authFile });
  const context = join(work, "context");
  await mkdir(context);
  await untar({ file: input.source.path, cwd: context, strict: true, preservePaths: false });
  // Always the text we were given, even when the archive has its own Dockerfile.
  const dockerfile = join(work, "Dockerfile.microship");
  await writeFile(dockerfile, input.dockerfile);
  const secretArgs: string[] = [];
  for (const s of input.secrets) {
    const f = join(work, `secret-${createHash("sha256").update(s.id).digest("hex").slice(0, 12)}`);
    await writeFile(f, s.value, { mode: 0o600 });
    secretArgs.push("--secret", `id=${s.id},src=${f}`);
  }
  return { env, authFile, context, dockerfile, secretArgs };
}
