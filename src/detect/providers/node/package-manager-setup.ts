/**
 * Dockerfile lines that make a package manager available. Corepack keeps the managers it
 * downloads in COREPACK_HOME; the runtime stage copies that directory instead of downloading
 * again at container start, and must not look for a newer version on every start.
 */
const COREPACK_HOME = "/usr/local/share/corepack";

export function corepackSetup(install: string | null): { build: string; runtime: string } {
  const env = `ENV COREPACK_HOME=${COREPACK_HOME} COREPACK_ENABLE_DOWNLOAD_PROMPT=0`;
  return {
    build: `${env}\nRUN corepack enable${install ? ` && corepack install -g ${install}` : ""}`,
    runtime: `${env} COREPACK_DEFAULT_TO_LATEST=0\nCOPY --from=build ${COREPACK_HOME} ${COREPACK_HOME}\nRUN corepack enable`,
  };
}

/** Corepack doesn't manage bun; npm installs it, at the version packageManager pins if any. */
export function bunSetup(version: string | null): string {
  return `RUN --mount=type=cache,target=/root/.npm npm install -g bun@${version ?? "latest"}`;
}
