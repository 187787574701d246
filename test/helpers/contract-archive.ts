import { createHash } from "node:crypto";
import { createReadStream, readFileSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import type { SourceArchive } from "../../src/core/builder.ts";

const FIXTURE = new URL("../fixtures/builder/app/", import.meta.url).pathname;

export interface ContractArchive {
  source: SourceArchive;
  /** Hex sha256 of the fixture's package-lock.json, as provenance must report it. */
  lockfileSha256: string;
  remove(): Promise<void>;
}

/** The contract's source: test/fixtures/builder/app as a tar.gz, with a decoy Dockerfile of its own. */
export async function contractArchive(): Promise<ContractArchive> {
  const dir = await mkdtemp(join(tmpdir(), "ms-contract-src-"));
  const path = join(dir, "source.tar.gz");
  const files = readdirSync(FIXTURE).sort();
  await tarCreate({ gzip: true, cwd: FIXTURE, file: path, portable: true, noMtime: true }, files);
  const bytes = readFileSync(path);
  return {
    source: {
      open: () => createReadStream(path),
      path,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sizeBytes: statSync(path).size,
      fileCount: files.length,
    },
    lockfileSha256: createHash("sha256").update(readFileSync(join(FIXTURE, "package-lock.json"))).digest("hex"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
