import type { Builder } from "./builder/builder.ts";
import type { Env } from "./config/env.ts";
import type { Archiver, ImageNamer, Planner } from "./core/ports.ts";
import type { Logger } from "./log/logger.ts";
import { infraError } from "./core/errors.ts";

export interface Parts {
  builder: Builder;
  planner: Planner;
  archiver: Archiver;
  images: ImageNamer;
  close(): Promise<void>;
}

/** Filled in as the detection, archive, registry and builder modules land. */
export async function createDefaultParts(_env: Env, _log: Logger, o: Partial<Parts>): Promise<Parts> {
  const missing = (what: string) => () => {
    throw infraError(`${what} is not wired yet`);
  };
  return {
    builder: o.builder ?? ({ name: "none", describe: () => "none", build: missing("builder") } as unknown as Builder),
    planner: o.planner ?? ({ plan: missing("planner") } as unknown as Planner),
    archiver: o.archiver ?? ({ archive: missing("archiver") } as unknown as Archiver),
    images: o.images ?? ({ target: missing("image naming") } as unknown as ImageNamer),
    close: async () => {},
  };
}
