import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP forwarder in front of a server that can be shut and opened again on the same port: shut,
 * a connection is refused (ECONNREFUSED), as when the server behind it is down, and no byte of the
 * request reaches the server. A test's way to take a Hypeman fake off the network and back.
 */
export interface TcpGate {
  url: string;
  /** Connections the gate let through, since it started. */
  readonly connections: number;
  shut(): Promise<void>;
  open(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let server: Server | null = null;
  let port = 0;
  const listen = async () => {
    const s = createServer((client) => {
      connections++;
      const upstream = createConnection(target);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on("close", () => sockets.delete(sock));
        sock.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
    port = (s.address() as { port: number }).port;
    server = s;
  };
  const shut = async () => {
    const s = server;
    server = null;
    if (!s) return;
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    shut,
    open: () => (server ? Promise.resolve() : listen()),
    close: shut,
  };
}
