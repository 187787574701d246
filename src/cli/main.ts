import { planCommand } from "./commands/plan.ts";
import { serveCommand } from "./commands/serve.ts";
import { imagesCommand } from "./commands/images.ts";
import { secretsCommand } from "./commands/secrets.ts";
import { applyDotEnv } from "../config/dot-env.ts";

type Command = (args: string[]) => Promise<number>;

/** Adding a subcommand is one file in commands/ and one line here. */
const COMMANDS: Record<string, { run: Command; help: string }> = {
  plan: { run: planCommand, help: "plan <dir> [--json]   show what microship would build, without GitHub" },
  images: { run: imagesCommand, help: "images build-vm       build the microvm builder's VM image now (else the first build does)" },
  secrets: { run: secretsCommand, help: "secrets set|list|delete <owner/repo> [NAME]   a repository's secrets (set reads the value from stdin)" },
  serve: { run: serveCommand, help: "serve                 run the GitHub App (same as npm start)" },
};

function usage(): string {
  return ["usage: microship <command>", "", ...Object.values(COMMANDS).map((c) => `  microship ${c.help}`)].join("\n");
}

const [name, ...rest] = process.argv.slice(2);
const command = name ? COMMANDS[name] : undefined;
if (!command) {
  console.error(usage());
  process.exit(name && name !== "--help" && name !== "-h" ? 2 : 0);
}
// The server's own settings (its data dir, DATABASE_URL, MICROSHIP_SECRETS_KEY), as npm start reads them.
applyDotEnv();
process.exitCode = await command.run(rest);
