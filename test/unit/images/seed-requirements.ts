import { DockerfileParser, type Instruction } from "dockerfile-ast";

/**
 * What every builder image must have, row by row from the seed's "Required Components" and
 * "Environment Variables" tables (images/README.md), each with the fix the seed's
 * troubleshooting table gives for the failure its absence causes.
 */

export interface Problem {
  requirement: string;
  hint: string;
}

interface Parsed {
  instructions: Instruction[];
  /** Stage names (or indexes) whose image is moby/buildkit:rootless. */
  buildkitStages: Set<string>;
}

interface Requirement {
  requirement: string;
  hint: string;
  met(d: Parsed): boolean;
}

const BUILDKIT_IMAGE = /^moby\/buildkit:rootless$/;

const copies = (d: Parsed, o: { fromBuildkit: boolean; src: string; dest: string }) =>
  d.instructions.some((i) => {
    if (i.getKeyword() !== "COPY") return false;
    const from = (i as unknown as { getFromFlag(): { getValue(): string | null } | null }).getFromFlag()?.getValue() ?? null;
    if (o.fromBuildkit ? !(from !== null && d.buildkitStages.has(from)) : from !== null) return false;
    const args = i.getArguments().map((a) => a.getValue());
    return args.length === 2 && args[0] === o.src && args[1] === o.dest;
  });

const env = (d: Parsed, name: string): string | undefined => {
  let value: string | undefined;
  for (const i of d.instructions) {
    if (i.getKeyword() !== "ENV") continue;
    for (const p of (i as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties()) {
      if (p.getName() === name) value = unquote(p.getValue() ?? "");
    }
  }
  return value;
};

const unquote = (v: string) => (/^"(.*)"$/.exec(v) ?? /^'(.*)'$/.exec(v))?.[1] ?? v;

const runs = (d: Parsed) => d.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? "");

const fromBuildkit = (bin: string, dest = bin): Requirement => ({
  requirement: `${dest.split("/").pop()} at ${dest}, from moby/buildkit:rootless${bin === dest ? "" : ` (as ${bin.split("/").pop()})`}`,
  hint: dest === "/usr/bin/runc"
    ? "`runc: not found`: copy buildkit-runc to /usr/bin/runc (COPY --from=buildkit /usr/bin/buildkit-runc /usr/bin/runc)"
    : `copy ${bin} from the moby/buildkit:rootless stage to ${dest} (COPY --from=buildkit ${bin} ${dest}); the agent calls that exact path`,
  met: (d) => copies(d, { fromBuildkit: true, src: bin, dest }),
});

const envIs = (name: string, value: string, hint: string): Requirement => ({
  requirement: `ENV ${name}=${JSON.stringify(value)}`,
  hint,
  met: (d) => env(d, name) === value,
});

export const REQUIREMENTS: readonly Requirement[] = [
  {
    requirement: "a moby/buildkit:rootless stage",
    hint: "start with `FROM moby/buildkit:rootless AS buildkit`: BuildKit's binaries are copied from it",
    met: (d) => d.buildkitStages.size > 0,
  },
  fromBuildkit("/usr/bin/buildctl"),
  fromBuildkit("/usr/bin/buildctl-daemonless.sh"),
  fromBuildkit("/usr/bin/buildkitd"),
  fromBuildkit("/usr/bin/buildkit-runc", "/usr/bin/runc"),
  {
    requirement: "builder-agent at /usr/bin/builder-agent, from the build context",
    hint: "copy Hypeman's agent binary in from the build context: COPY builder-agent /usr/bin/builder-agent",
    met: (d) => copies(d, { fromBuildkit: false, src: "builder-agent", dest: "/usr/bin/builder-agent" }),
  },
  {
    requirement: "the fuse-overlayfs package",
    hint: "`fuse-overlayfs: not found`: add fuse-overlayfs to the image (apk add fuse-overlayfs, or apt-get install fuse-overlayfs)",
    met: (d) => runs(d).some((r) => /\b(apk add|apt-get install|apt install)\b[\s\S]*\bfuse-overlayfs\b/.test(r)),
  },
  {
    requirement: "a non-root user builder with uid 1000",
    hint: "`permission denied` on buildkit: create the builder user with uid 1000 and its home (adduser -D -u 1000 builder, or useradd -m -u 1000 builder)",
    met: (d) => runs(d).some((r) => /\b(adduser|useradd)\b[^&;|]*\s-u\s*1000\b[^&;|]*\bbuilder\b/.test(r)),
  },
  envIs("HOME", "/home/builder", "`permission denied` on buildkit: set ENV HOME=/home/builder so BuildKit's state lives in the builder's home"),
  envIs("XDG_RUNTIME_DIR", "/home/builder/.local/share", "set ENV XDG_RUNTIME_DIR=/home/builder/.local/share: rootless BuildKit keeps its runtime state there"),
  envIs("BUILDKITD_FLAGS", "", "`can't enable NoProcessSandbox without Rootless`: set BUILDKITD_FLAGS=\"\" (cgroups are mounted in the VM)"),
  {
    requirement: "USER builder",
    hint: "`permission denied` on buildkit: run as the non-root builder user (USER builder as the last USER)",
    met: (d) => d.instructions.filter((i) => i.getKeyword() === "USER").at(-1)?.getArgumentsContent()?.trim() === "builder",
  },
  {
    requirement: 'ENTRYPOINT ["/usr/bin/builder-agent"]',
    hint: 'the agent is the entrypoint: ENTRYPOINT ["/usr/bin/builder-agent"]',
    met: (d) => {
      const e = d.instructions.filter((i) => i.getKeyword() === "ENTRYPOINT").at(-1);
      return e?.getArguments().map((a) => a.getValue()).join(" ") === '["/usr/bin/builder-agent"]';
    },
  },
];

/** Every requirement the Dockerfile misses, with the seed's hint for it. */
export function checkBuilderImage(dockerfile: string): Problem[] {
  const ast = DockerfileParser.parse(dockerfile);
  const buildkitStages = new Set<string>();
  ast.getFROMs().forEach((f, index) => {
    if (BUILDKIT_IMAGE.test(f.getImage() ?? "")) {
      buildkitStages.add(String(index));
      const stage = f.getBuildStage();
      if (stage) buildkitStages.add(stage);
    }
  });
  const parsed: Parsed = { instructions: ast.getInstructions(), buildkitStages };
  return REQUIREMENTS.filter((r) => !r.met(parsed)).map(({ requirement, hint }) => ({ requirement, hint }));
}
