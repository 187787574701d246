import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Wheel } from "./debian-wheels.ts";
import { zipStore } from "./zip-store.ts";

/**
 * Streamlit is neither on this machine's reachable registries (no PyPI) nor packaged by Debian,
 * so the Streamlit e2e installs this stand-in instead: a wheel named `streamlit` with the real
 * one's console script (`streamlit = streamlit.web.cli:main`) and command line (`streamlit run
 * SCRIPT --server.port P --server.address A`), which reruns the script on every request, as
 * Streamlit does, and serves what its `st.*` calls wrote. It proves what microship decides (the
 * dependency from the index, the script found, the flags, the console script on PATH in the
 * runtime image), not Streamlit's own UI. Its version carries a `+standin` local label, which a
 * plain `streamlit>=1.30` requirement accepts and no real release has.
 */
const VERSION = "1.40.1+standin";

const INIT = `"""Stand-in for Streamlit's st.* API: each call adds an element to the page being rendered."""
import html

_elements = []


def _add(tag, body):
    _elements.append("<%s>%s</%s>" % (tag, html.escape(str(body)), tag))


def title(body):
    _add("h1", body)


def header(body):
    _add("h2", body)


def write(*args):
    for a in args:
        _add("p", a)


def caption(body):
    _add("small", body)
`;

const CLI = `"""Stand-in for \`streamlit run\`: the flags the real CLI takes for the address and port."""
import argparse
import http.server
import runpy
import sys

import streamlit


def _render(script):
    streamlit._elements.clear()
    runpy.run_path(script, run_name="__main__")
    return "<!DOCTYPE html><html><body>%s</body></html>" % "".join(streamlit._elements)


def main():
    parser = argparse.ArgumentParser(prog="streamlit")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("script")
    run.add_argument("--server.port", dest="port", type=int, default=8501)
    run.add_argument("--server.address", dest="address", default="localhost")
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/_stcore/health":
                body = b"ok"
            else:
                body = _render(args.script).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    print("You can now view your Streamlit app in your browser at http://%s:%d" % (args.address, args.port), flush=True)
    http.server.ThreadingHTTPServer((args.address, args.port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
`;

/** The stand-in wheel, written under `cacheDir`, for startPythonIndex's extra wheels. */
export function streamlitStandIn(cacheDir: string): Wheel {
  const distInfo = `streamlit-${VERSION}.dist-info`;
  const entries: { name: string; data: Buffer }[] = [
    { name: "streamlit/__init__.py", data: Buffer.from(INIT) },
    { name: "streamlit/web/__init__.py", data: Buffer.from("") },
    { name: "streamlit/web/cli.py", data: Buffer.from(CLI) },
    { name: `${distInfo}/METADATA`, data: Buffer.from(`Metadata-Version: 2.1\nName: streamlit\nVersion: ${VERSION}\nSummary: microship's test stand-in for Streamlit's command line\n\n`) },
    { name: `${distInfo}/WHEEL`, data: Buffer.from("Wheel-Version: 1.0\nGenerator: microship-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n") },
    { name: `${distInfo}/entry_points.txt`, data: Buffer.from("[console_scripts]\nstreamlit = streamlit.web.cli:main\n") },
  ];
  const record = entries.map((e) => `${e.name},sha256=${createHash("sha256").update(e.data).digest("base64url")},${e.data.length}`);
  entries.push({ name: `${distInfo}/RECORD`, data: Buffer.from(`${[...record, `${distInfo}/RECORD,,`].join("\n")}\n`) });
  const bytes = zipStore(entries);
  const dir = join(cacheDir, "streamlit-stand-in");
  mkdirSync(dir, { recursive: true });
  const file = `streamlit-${VERSION}-py3-none-any.whl`;
  const path = join(dir, file);
  writeFileSync(path, bytes);
  return { project: "streamlit", file, path, sha256: createHash("sha256").update(bytes).digest("hex") };
}
