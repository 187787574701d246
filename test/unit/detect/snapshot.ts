import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Compares text with a committed snapshot file, exactly. UPDATE_SNAPSHOTS=1 rewrites the file
 * instead; review the diff before committing it.
 */
export function assertSnapshot(file: string, actual: string, where: string): void {
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${where}: no snapshot ${file}; run with UPDATE_SNAPSHOTS=1 to write it`);
  assert.equal(actual, readFileSync(file, "utf8"), `${where}: the rendered Dockerfile differs from its snapshot (UPDATE_SNAPSHOTS=1 rewrites it)`);
}
