/**
 * Writes schema/microship.schema.json, the JSON Schema editors use for .github/microship.yml,
 * from the zod schema in src/core/repo-config.ts. Re-run it whenever that schema changes
 * (a test fails until you do):
 *   npm run schema
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { repoConfigSchema } from "../src/core/repo-config.ts";

export const SCHEMA_FILE = new URL("../schema/microship.schema.json", import.meta.url);

/** The JSON Schema, as the text the committed file must have. */
export function repoConfigJsonSchemaText(): string {
  const { $schema, title, description, properties, ...rest } = z.toJSONSchema(repoConfigSchema, { io: "input", target: "draft-2020-12" }) as Record<string, any>;
  const schema = {
    $schema,
    title,
    description,
    ...rest,
    properties: {
      // Probot's `_extends` is taken out before the zod schema sees the file (src/github/), but
      // an editor sees it as a key of the file, so the schema must allow it.
      _extends: {
        type: "string",
        description: "Take defaults from another repository's .github/microship.yml: `.github` (same owner) or `owner/repo`.",
      },
      ...properties,
    },
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, repoConfigJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE.pathname.split("/").slice(-2).join("/")}`);
}
