import type { Readable } from "node:stream";
import { SecretRuleError } from "../../core/secrets/secret-rules.ts";

/**
 * A secret's value from stdin, read to its end but never past `maxBytes` (plus a line ending):
 * more is refused without being held. One trailing newline is dropped, as `echo` and a typed
 * line add one; anything else is kept as sent. A terminal is told what to do, on stderr.
 */
export async function readValue(input: Readable & { isTTY?: boolean }, maxBytes: number): Promise<string> {
  if (input.isTTY) process.stderr.write("Type or paste the value, then a new line and Ctrl-D:\n");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > maxBytes + 2) {
      input.destroy();
      throw new SecretRuleError(`a secret's value is at most 48 KiB (${maxBytes} bytes); stdin held more`);
    }
    chunks.push(b);
  }
  let text = Buffer.concat(chunks).toString("utf8");
  if (text.endsWith("\r\n")) text = text.slice(0, -2);
  else if (text.endsWith("\n")) text = text.slice(0, -1);
  return text;
}
