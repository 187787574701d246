import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipStore } from "./zip-store.ts";

/**
 * Pure-Python wheels made from Debian's installed python3-* packages, for a package index that
 * stands in for PyPI (unreachable here). Debian strips install requirements from its egg-info,
 * so a wheel's Requires-Dist comes from the Debian package's Depends instead. C speedups are
 * left out: the packages we serve (markupsafe among them) fall back to pure Python.
 */
const SITE = "/usr/lib/python3/dist-packages";
// In every Python image already (pip's own dependencies); never served.
const PROVIDED = new Set(["python3-setuptools", "python3-pkg-resources", "python3-pip", "python3-wheel", "python3-distutils"]);

export interface Wheel {
  /** PEP 503 normalised project name. */
  project: string;
  file: string;
  path: string;
  sha256: string;
}

interface Dist {
  deb: string;
  debVersion: string;
  name: string;
  version: string;
  infoDir: string;
  files: string[];
  requires: string[];
}

export const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/** Wheels for the named projects and everything they depend on, built once into `cacheDir`. */
export function debianWheels(projects: string[], cacheDir: string): Wheel[] {
  const seen = new Map<string, Dist>();
  const queue = projects.map(debPackageOf);
  while (queue.length > 0) {
    const deb = queue.shift()!;
    if (seen.has(deb)) continue;
    const dist = distOf(deb);
    seen.set(deb, dist);
    queue.push(...pythonDepends(deb));
  }
  for (const d of seen.values()) d.requires = pythonDepends(d.deb).map((dep) => seen.get(dep)!.name);
  return [...seen.values()].map((d) => buildWheel(d, cacheDir));
}

function dpkg(args: string[]): string {
  return execFileSync("dpkg-query", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

function installed(deb: string): boolean {
  try {
    return dpkg(["-W", "-f=${Status}", deb]) === "install ok installed";
  } catch {
    return false;
  }
}

function debPackageOf(project: string): string {
  const info = readdirSync(SITE).find((f) => /\.(egg|dist)-info$/.test(f) && normalize(f.replace(/-\d.*$/, "")) === normalize(project));
  if (!info) throw new Error(`no Debian package provides the Python project ${project}: install python3-${normalize(project)} (see scripts/host-deps.sh)`);
  return dpkg(["-S", join(SITE, info)]).split(":")[0]!.trim();
}

/** Debian dependencies that are Python projects we can serve; the interpreter and pip's own are skipped. */
function pythonDepends(deb: string): string[] {
  const out: string[] = [];
  for (const group of dpkg(["-W", "-f=${Depends}", deb]).split(",")) {
    const alts = group.split("|").map((a) => a.replace(/\(.*?\)/g, "").replace(/:any$/, "").trim()).filter(Boolean);
    if (alts.some((a) => a === "python3")) continue;
    const pick = alts.find((a) => a.startsWith("python3-") && !PROVIDED.has(a) && installed(a) && hasDist(a));
    if (pick) out.push(pick);
  }
  return [...new Set(out)];
}

function siteFiles(deb: string): string[] {
  return dpkg(["-L", deb]).split("\n").filter((f) => f.startsWith(`${SITE}/`)).map((f) => f.slice(SITE.length + 1));
}

function hasDist(deb: string): boolean {
  return siteFiles(deb).some((f) => /^[^/]+\.(egg|dist)-info$/.test(f));
}

function distOf(deb: string): Dist {
  const files = siteFiles(deb);
  const infoDir = files.find((f) => /^[^/]+\.(egg|dist)-info$/.test(f))!;
  const meta = readFileSync(join(SITE, infoDir, infoDir.endsWith(".egg-info") ? "PKG-INFO" : "METADATA"), "utf8");
  const header = (k: string) => new RegExp(`^${k}: (.*)$`, "m").exec(meta)?.[1]?.trim() ?? "";
  return { deb, debVersion: dpkg(["-W", "-f=${Version}", deb]), name: header("Name"), version: header("Version"), infoDir, files, requires: [] };
}

function buildWheel(d: Dist, cacheDir: string): Wheel {
  const esc = d.name.replace(/[-_.]+/g, "_");
  const file = `${esc}-${d.version}-py3-none-any.whl`;
  const dir = join(cacheDir, `${d.deb}_${d.debVersion.replace(/[^A-Za-z0-9.+~-]/g, "_")}_${createHash("sha256").update(d.requires.join(",")).digest("hex").slice(0, 8)}`);
  const path = join(dir, file);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${path}.partial`, wheelBytes(d, esc));
    renameSync(`${path}.partial`, path);
  }
  return { project: normalize(d.name), file, path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
}

function wheelBytes(d: Dist, esc: string): Buffer {
  const distInfo = `${esc}-${d.version}.dist-info`;
  const entries: { name: string; data: Buffer }[] = [];
  for (const f of d.files.sort()) {
    if (f === d.infoDir || f.startsWith(`${d.infoDir}/`) || f.includes("__pycache__/") || f.endsWith(".so")) continue;
    const abs = join(SITE, f);
    if (statSync(abs).isFile()) entries.push({ name: f, data: readFileSync(abs) });
  }
  const metadata = ["Metadata-Version: 2.1", `Name: ${d.name}`, `Version: ${d.version}`, `Summary: ${d.name} from Debian's ${d.deb} ${d.debVersion}`, ...d.requires.map((r) => `Requires-Dist: ${r}`), "", ""].join("\n");
  entries.push({ name: `${distInfo}/METADATA`, data: Buffer.from(metadata) });
  entries.push({ name: `${distInfo}/WHEEL`, data: Buffer.from("Wheel-Version: 1.0\nGenerator: microship-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n") });
  for (const extra of ["entry_points.txt", "top_level.txt"]) {
    const p = join(SITE, d.infoDir, extra);
    if (existsSync(p)) entries.push({ name: `${distInfo}/${extra}`, data: readFileSync(p) });
  }
  const record = entries.map((e) => `${e.name},sha256=${createHash("sha256").update(e.data).digest("base64url")},${e.data.length}`);
  record.push(`${distInfo}/RECORD,,`);
  entries.push({ name: `${distInfo}/RECORD`, data: Buffer.from(`${record.join("\n")}\n`) });
  return zipStore(entries);
}
