/** Caddy's official image, a small maintained server for files; runs as any user on a high port. */
export const CADDY_IMAGE = "caddy:2-alpine";
export const STATIC_PORT = "8080";

/**
 * The RUN line that writes the Caddyfile: listen on $PORT (Caddy reads `{$PORT}` from the
 * environment when it starts), no admin API, no HTTPS (the platform in front terminates it), no
 * autosaved config (the image's user can't write it), and for a single-page app every path
 * that is no file answered by index.html, so the app's client-side routes load.
 */
export function caddyfileRun(spa: boolean): string {
  const lines = [
    "{", "\tadmin off", "\tauto_https off", "\tpersist_config off", "}",
    ":{$PORT} {", "\troot * /srv", "\tencode gzip", ...(spa ? ["\ttry_files {path} /index.html"] : []), "\tfile_server", "}",
  ];
  return `RUN printf '%s\\n' ${lines.map((l) => `'${l.replace(/\t/g, "    ")}'`).join(" ")} > /etc/caddy/Caddyfile`;
}
