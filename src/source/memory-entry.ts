import { Header, ReadEntry } from "tar";

/**
 * A tar file entry made from bytes in memory, for node-tar's Pack to write like any other.
 * It is how a file microship generates reaches an archive without touching the checkout.
 */
export function memoryEntry(path: string, body: Buffer, mtime: Date): ReadEntry {
  const entry = new ReadEntry(new Header({ path, mode: 0o644, size: body.length, type: "File", mtime }));
  if (body.length > 0) entry.write(body);
  entry.end();
  return entry;
}
