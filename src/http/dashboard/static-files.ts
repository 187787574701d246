import { readFileSync } from "node:fs";
import type { Express } from "express";

const DIR = new URL("./static/", import.meta.url);
const TYPES: Record<string, string> = { css: "text/css; charset=utf-8", js: "text/javascript; charset=utf-8" };

/** The dashboard's few files, read once at start and named here: no path from a request reaches the disk. */
const FILES = ["dashboard.css", "build-log.js", "build-list.js"] as const;

export function addStaticFiles(app: Express): void {
  const files = new Map(FILES.map((name) => [name, readFileSync(new URL(name, DIR))]));
  app.get("/static/:name", (req, res, next) => {
    const name = String(req.params.name);
    const body = files.get(name as (typeof FILES)[number]);
    if (!body) return next();
    res.status(200).set({ "content-type": TYPES[name.split(".").pop()!]!, "cache-control": "public, max-age=300" }).send(body);
  });
}
