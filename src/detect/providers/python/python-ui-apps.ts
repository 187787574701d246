import type { DetectContext } from "../../context.ts";
import { topLevelPythonFiles } from "./python-app-files.ts";

export interface UiAppStart {
  command: string;
  source: string;
}

// The names the starters give the script, tried before any other top-level file.
const NAMED = ["streamlit_app.py", "app.py", "main.py", "Home.py", "Hello.py"];
/** Top-level .py files read when none of the usual names imports the library. */
const MAX_SCANNED = 32;

/**
 * Streamlit and Gradio apps are scripts, not app objects: Streamlit's is run by `streamlit run`
 * with the port and address as flags; Gradio's `launch()` reads its address and port from the
 * environment. Each needs the library among the dependencies and a script that imports it.
 */
export async function uiAppStart(ctx: DetectContext, deps: Set<string>): Promise<UiAppStart | null> {
  if (deps.has("streamlit")) {
    const file = await importing(ctx, "streamlit");
    if (file) return { command: `streamlit run ${file} --server.port $PORT --server.address 0.0.0.0`, source: `a Streamlit app (${ctx.rel(file)} imports streamlit)` };
  }
  if (deps.has("gradio")) {
    const file = await importing(ctx, "gradio");
    if (file) return { command: `env GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=$PORT python ${file}`, source: `a Gradio app (${ctx.rel(file)} imports gradio)` };
  }
  return null;
}

/** The first script that imports `lib` (`import lib`, `import lib as x`, `from lib import ...`). */
async function importing(ctx: DetectContext, lib: string): Promise<string | null> {
  const files = [...new Set([...NAMED, ...(await topLevelPythonFiles(ctx, MAX_SCANNED))])];
  for (const file of files) {
    const text = await ctx.read(file);
    if (text && imports(text, lib)) return file;
  }
  return null;
}

export function imports(text: string, lib: string): boolean {
  return text.split("\n").some((raw) => {
    const words = raw.trim().split(/[\s,]+/);
    return (words[0] === "import" && words.slice(1).some((w) => w === lib || w.startsWith(`${lib}.`))) || (words[0] === "from" && (words[1] === lib || words[1]?.startsWith(`${lib}.`)));
  });
}
