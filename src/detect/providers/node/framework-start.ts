import type { DetectContext } from "../../context.ts";

export interface FrameworkStart {
  command: string;
  source: string;
  /** Appended to the runtime stage's ENV line, e.g. " HOST=0.0.0.0". */
  env?: string;
}

interface Framework {
  name: string;
  /** Every one of these must be a dependency or devDependency. */
  needs: string[];
  start(ctx: DetectContext, exec: string): Promise<Omit<FrameworkStart, "source">>;
  why: string;
}

/**
 * Frameworks whose production server is a file their build writes, not a `start` script: the
 * starters of SvelteKit, Nuxt and Astro have none, or one that runs the dev server.
 */
const FRAMEWORKS: Framework[] = [
  { name: "SvelteKit", needs: ["@sveltejs/kit", "@sveltejs/adapter-node"], why: "adapter-node writes its server to build/", start: async () => ({ command: "node build" }) },
  { name: "Nuxt", needs: ["nuxt"], why: "its build writes the Nitro server to .output/", start: async () => ({ command: "node .output/server/index.mjs" }) },
  { name: "Nitro", needs: ["nitropack"], why: "its build writes the server to .output/", start: async () => ({ command: "node .output/server/index.mjs" }) },
  // The node adapter listens on localhost unless HOST says otherwise.
  { name: "Astro", needs: ["astro", "@astrojs/node"], why: "the node adapter writes a standalone server to dist/server/", start: async () => ({ command: "node ./dist/server/entry.mjs", env: " HOST=0.0.0.0" }) },
  { name: "React Router", needs: ["@react-router/serve"], why: "react-router-serve serves the server build", start: async (_c, exec) => ({ command: `${exec} react-router-serve ./build/server/index.js` }) },
  {
    name: "Remix", needs: ["@remix-run/serve"], why: "remix-serve serves the server build",
    // Remix on Vite builds to build/server/; the classic compiler to build/.
    start: async (ctx, exec) => ({ command: `${exec} remix-serve ${(await ctx.firstExisting(["vite.config.ts", "vite.config.js", "vite.config.mjs"])) ? "./build/server/index.js" : "./build/index.js"}` }),
  },
];

/** The production start of a framework the app depends on, when it has one; `exec` runs a local binary. */
export async function frameworkStart(ctx: DetectContext, pkg: Record<string, any>, exec: string): Promise<FrameworkStart | null> {
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  for (const fw of FRAMEWORKS) {
    if (!fw.needs.every((n) => Object.hasOwn(deps, n))) continue;
    const start = await fw.start(ctx, exec);
    return { ...start, source: `${fw.name} (${fw.needs.join(" and ")} in ${ctx.rel("package.json")}; ${fw.why})` };
  }
  return null;
}

// `<binary> <subcommand>` pairs (or a binary alone) that start a development server.
const DEV_SERVERS: Record<string, string[] | true> = {
  astro: ["dev"], nuxt: ["dev"], nuxi: ["dev"], next: ["dev"], remix: ["dev"], "react-router": ["dev"], "svelte-kit": ["dev"],
  "react-scripts": ["start"], "vue-cli-service": ["serve"], ng: ["serve"], vite: true, "webpack-dev-server": true, "webpack-serve": true,
};

/** The dev server a script starts (`astro dev`, `react-scripts start`, `vite`), or null. Words only: no regex on the script. */
export function devServerOf(script: string): string | null {
  for (const segment of script.split("&&")) {
    const words = segment.trim().split(/\s+/).filter((w) => w && !w.includes("="));
    const [bin, sub] = words[0] === "npx" ? words.slice(1) : words;
    if (!bin || !Object.hasOwn(DEV_SERVERS, bin)) continue;
    const subs = DEV_SERVERS[bin]!;
    if (subs === true) {
      // `vite` alone (or `vite dev`/`vite serve`) is the dev server; `vite build`/`vite preview` are not.
      if (!sub || sub.startsWith("-") || sub === "dev" || sub === "serve") return `${bin}${sub && !sub.startsWith("-") ? ` ${sub}` : ""}`;
    } else if (sub && subs.includes(sub)) return `${bin} ${sub}`;
  }
  return null;
}
