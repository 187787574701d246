import { createServer, type Socket } from "node:net";
import type { LogLine } from "../../core/builder.ts";
import { LineSplitter } from "../log-lines.ts";

export interface LogChannelServer {
  /** Resolves once the guest's log port has closed (QEMU gone) and every line is out, or after `ms`. */
  drained(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The build log's own channel: a virtio serial port QEMU connects to this unix socket. Unlike the
 * emulated UART of the serial console, which drops bytes when the host reads slowly, virtio-serial
 * holds the guest's writes back until we have read, so a 100,000-line log arrives whole.
 */
export async function listenLogChannel(path: string, onLine: (line: LogLine) => void): Promise<LogChannelServer> {
  const splitter = new LineSplitter("stdout", onLine);
  const sockets = new Set<Socket>();
  let sawConnection = false;
  let ended!: () => void;
  const allEnded = new Promise<void>((resolve) => (ended = resolve));
  const server = createServer((socket) => {
    sawConnection = true;
    sockets.add(socket);
    socket.on("data", (c: Buffer) => splitter.write(c));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) ended();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return {
    async drained(ms) {
      if (sawConnection) await Promise.race([allEnded, new Promise((r) => setTimeout(r, ms).unref())]);
      splitter.end();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
