/**
 * The one table of runtime versions microship builds, each with the day its upstream support
 * ends. Every line here has an official `-slim` image on Docker Hub. A version past its end of
 * life is still built (apps don't stop needing to ship), with a warning that names the date.
 *
 * Lower bounds: the generated Node Dockerfile needs npm 7+ (`npm ci --include=dev`) and corepack,
 * so Node 16 is the oldest; uv needs Python 3.8+. Sources: the Node.js release schedule and the
 * Python developer's guide (a month-only date there is written as the month's last day).
 * Update this table when a version is released or its date moves; nothing else lists versions.
 */
export interface RuntimeVersion {
  version: string;
  /** YYYY-MM-DD: the last day of upstream support. */
  endOfLife: string;
  /** A line that gets long-term support (Node's even majors), preferred when a range allows several. */
  lts: boolean;
}

/** One runtime's versions: newest first, and the one used when nothing asks for another. */
export interface RuntimeFamily {
  label: string;
  versions: readonly RuntimeVersion[];
  default: string;
}

export const NODE: RuntimeFamily = {
  label: "Node",
  default: "24",
  versions: [
    { version: "25", endOfLife: "2026-06-01", lts: false },
    { version: "24", endOfLife: "2028-04-30", lts: true },
    { version: "23", endOfLife: "2025-06-01", lts: false },
    { version: "22", endOfLife: "2027-04-30", lts: true },
    { version: "21", endOfLife: "2024-06-01", lts: false },
    { version: "20", endOfLife: "2026-04-30", lts: true },
    { version: "19", endOfLife: "2023-06-01", lts: false },
    { version: "18", endOfLife: "2025-04-30", lts: true },
    { version: "17", endOfLife: "2022-06-01", lts: false },
    { version: "16", endOfLife: "2023-09-11", lts: true },
  ],
};
/** `lts/<codename>` in .nvmrc. */
export const NODE_CODENAMES: Readonly<Record<string, string>> = { gallium: "16", hydrogen: "18", iron: "20", jod: "22", krypton: "24" };

export const PYTHON: RuntimeFamily = {
  label: "Python",
  default: "3.12",
  versions: [
    { version: "3.14", endOfLife: "2030-10-31", lts: true },
    { version: "3.13", endOfLife: "2029-10-31", lts: true },
    { version: "3.12", endOfLife: "2028-10-31", lts: true },
    { version: "3.11", endOfLife: "2027-10-31", lts: true },
    { version: "3.10", endOfLife: "2026-10-31", lts: true },
    { version: "3.9", endOfLife: "2025-10-31", lts: true },
    { version: "3.8", endOfLife: "2024-10-07", lts: true },
  ],
};

/** "16, 17, ... and 25": the versions, oldest first, for messages. */
export function versionList(family: RuntimeFamily): string {
  const all = family.versions.map((v) => v.version).reverse();
  return `${all.slice(0, -1).join(", ")} and ${all.at(-1)}`;
}

/**
 * Among the versions a range allows: the default, else the newest long-term line, else the
 * newest. Fixed by the table, not by today's date, so a plan doesn't change with the calendar.
 */
export function preferredOf(family: RuntimeFamily, allowed: readonly RuntimeVersion[]): string | undefined {
  if (allowed.some((v) => v.version === family.default)) return family.default;
  return (allowed.find((v) => v.lts) ?? allowed[0])?.version;
}

/** The warning for a version past its end of life on `today` (YYYY-MM-DD), or null. */
export function endOfLifeWarning(family: RuntimeFamily, version: string, today: string): string | null {
  const row = family.versions.find((v) => v.version === version);
  if (!row || row.endOfLife >= today) return null;
  return `${family.label} ${version} reached its end of life on ${row.endOfLife} and gets no security fixes; it is built anyway. Move to a supported version such as ${family.label} ${family.default}.`;
}
