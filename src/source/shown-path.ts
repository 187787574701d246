/**
 * A repository path as it may appear in a message: bytes that are not UTF-8 and control
 * characters shown as \xNN, so a hostile name can neither break the check run's markdown nor
 * hide what it is.
 */
export function shownPath(name: Buffer | string): string {
  const bytes = typeof name === "string" ? Buffer.from(name, "utf8") : name;
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len > 0 ? bytes.subarray(i, i + len) : null;
    if (seq && seq.length === len && (len === 1 || Buffer.from(seq.toString("utf8"), "utf8").equals(seq))) {
      out += len === 1 && (b < 0x20 || b === 0x7f || b === 0x60) ? hex(b) : seq.toString("utf8");
      i += len;
    } else {
      out += hex(b);
      i += 1;
    }
  }
  return out;
}

const hex = (b: number) => `\\x${b.toString(16).padStart(2, "0")}`;
