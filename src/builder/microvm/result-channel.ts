import { createServer, type Server, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { parseAgentResult, type AgentResult } from "./agent-result.ts";

// The agent writes one short line; anything far longer is not ours.
const MAX_LINE = 64 * 1024;

export interface ResultChannel {
  /** The first result line, parsed as it arrives; null if the guest never sent one. */
  readonly result: AgentResult | null;
  /** Why the first line was not a valid result, when it wasn't. */
  readonly problem: string | null;
  /** Resolves when a result (or an invalid line) arrives. */
  readonly settled: Promise<void>;
  close(): Promise<void>;
}

/**
 * The host end of the guest's `microship.result` virtio port: a unix socket QEMU connects to.
 * It is parsed as a stream, line by line, and only the first line counts: the contract is
 * exactly one result line, and nothing on it is ever taken from the log.
 */
export async function listenResultChannel(path: string, o: { onExtraLine?: (line: string) => void } = {}): Promise<ResultChannel> {
  let result: AgentResult | null = null;
  let problem: string | null = null;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const decoder = new StringDecoder("utf8");
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += decoder.write(chunk);
      let nl = pending.indexOf("\n");
      while (nl !== -1) {
        onLine(pending.slice(0, nl).replace(/\r$/, ""));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
      if (pending.length > MAX_LINE) {
        onLine(pending.slice(0, MAX_LINE));
        pending = "";
      }
    });
    socket.on("error", () => undefined);
  });
  const onLine = (line: string) => {
    if (line.trim() === "") return;
    if (result || problem) {
      o.onExtraLine?.(line);
      return;
    }
    const parsed = parseAgentResult(line);
    if (parsed.ok) result = parsed.value;
    else problem = parsed.problem;
    settle();
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return {
    get result() {
      return result;
    },
    get problem() {
      return problem;
    },
    settled,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
