/** Caddy's official image, a small maintained server for files; runs as any user on a high port. */
export const CADDY_IMAGE = "caddy:2-alpine";
export const STATIC_PORT = "8080";

/**
 * The RUN line that writes the Caddyfile: listen on $PORT (Caddy reads `{$PORT}` from the
 * environment when it starts), no admin API, no HTTPS (the platform in front terminates it), and
 * for a single-page app every path that is no file answered by index.html, so the app's
 * client-side routes load. The config Caddy autosaves goes to XDG_CONFIG_HOME, which the
 * template points at /tmp: the unprivileged user can write nothing else. (`persist_config off`
 * would say it too, but Caddy before 2.7 refuses the option, and base_image may pin one.)
 */
export function caddyfileRun(spa: boolean): string {
  const lines = [
    "{", "\tadmin off", "\tauto_https off", "}",
    ":{$PORT} {", "\troot * /srv", "\tencode gzip", ...(spa ? ["\ttry_files {path} /index.html"] : []), "\tfile_server", "}",
  ];
  return `RUN printf '%s\\n' ${lines.map((l) => `'${l.replace(/\t/g, "    ")}'`).join(" ")} > /etc/caddy/Caddyfile`;
}
