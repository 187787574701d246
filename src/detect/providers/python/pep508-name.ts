/** PEP 508 names are at most this long in practice; a longer run of name characters is not a name. */
const MAX_NAME = 200;

const isNameChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * The project name a requirement starts with (`psycopg2>=2.9`, `Django [bcrypt] ; python_version>"3"`),
 * normalised as PEP 503 does: lower case, runs of `-_.` as one `-`. A single left-to-right scan,
 * no regex, so a hostile line costs its length. Null for an option (`-r x`), a URL, a comment,
 * or a name that doesn't start and end with a letter or digit.
 */
export function requirementName(line: string): string | null {
  let i = 0;
  while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
  const start = i;
  while (i < line.length && i - start <= MAX_NAME && isNameChar(line.charCodeAt(i))) i++;
  const end = i;
  if (end === start || end - start > MAX_NAME) return null;
  if (!isAlnum(line.charCodeAt(start)) || !isAlnum(line.charCodeAt(end - 1))) return null;
  // `name:` or `name/...` is a URL or a path, not a requirement.
  const next = line[end];
  if (next === ":" || next === "/") return null;
  return normalizeName(line.slice(start, end));
}

/** PEP 503 normalisation, by a scan: `Foo__Bar.baz` is `foo-bar-baz`. */
export function normalizeName(name: string): string {
  let out = "";
  let sep = false;
  for (const ch of name.toLowerCase()) {
    if (ch === "-" || ch === "_" || ch === ".") sep = true;
    else {
      if (sep && out) out += "-";
      sep = false;
      out += ch;
    }
  }
  return out;
}
