/**
 * Python packages that need the system's compiler, headers or shared libraries, and the Debian
 * packages that provide them (the official python:*-slim images are Debian). `build` goes into
 * the build stage only, where pip compiles; `runtime` into the final image, where the compiled
 * module (or a pure-Python binding) loads the library. Names are normalised (see pep508-name.ts).
 *
 * Not listed, on purpose: packages whose manylinux wheels cover every Python line microship
 * builds (lxml, cffi, cryptography, numpy, Pillow, psycopg2-binary, psycopg[binary]): pip
 * installs those without a compiler, and adding one would only slow every build.
 */
export const NATIVE_PACKAGES: Readonly<Record<string, { build: string[]; runtime: string[] }>> = {
  // No wheels on PyPI: built against libpq, which pg_config (libpq-dev) locates.
  psycopg2: { build: ["build-essential", "libpq-dev"], runtime: ["libpq5"] },
  // psycopg 3 without its binary extra is pure Python and loads libpq at run time.
  psycopg: { build: [], runtime: ["libpq5"] },
  // Built against MariaDB's client library, found by pkg-config.
  mysqlclient: { build: ["build-essential", "pkg-config", "libmariadb-dev"], runtime: ["libmariadb3"] },
  // No wheels on PyPI: compiled with its own build script.
  uwsgi: { build: ["build-essential"], runtime: [] },
  pycairo: { build: ["build-essential", "pkg-config", "libcairo2-dev"], runtime: ["libcairo2"] },
  // Wheels exist, but they load the ODBC driver manager from the system.
  pyodbc: { build: [], runtime: ["unixodbc"] },
};

export interface NativeNeeds {
  /** The dependencies that asked for system packages, sorted. */
  because: string[];
  build: string[];
  runtime: string[];
}

/** The Debian packages the app's dependencies need, each list sorted and without repeats. */
export function nativeNeeds(deps: Iterable<string>): NativeNeeds {
  const because = new Set<string>();
  const build = new Set<string>();
  const runtime = new Set<string>();
  for (const dep of deps) {
    const entry = Object.hasOwn(NATIVE_PACKAGES, dep) ? NATIVE_PACKAGES[dep] : undefined;
    if (!entry) continue;
    because.add(dep);
    for (const p of entry.build) build.add(p);
    for (const p of entry.runtime) runtime.add(p);
  }
  return { because: [...because].sort(), build: [...build].sort(), runtime: [...runtime].sort() };
}

/** One `apt-get install` RUN line, or "" when there is nothing to install. */
export function aptInstall(packages: string[]): string {
  if (packages.length === 0) return "";
  return `RUN apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")} && rm -rf /var/lib/apt/lists/*`;
}
