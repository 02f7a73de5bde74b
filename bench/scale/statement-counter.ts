// A TCP proxy in front of PostgreSQL that counts the statements its clients send: each simple
// Query ('Q') and each extended-protocol Execute ('E') frontend message is one statement run
// (BEGIN and COMMIT included). pg_stat_statements would say the same, but it needs
// shared_preload_libraries and a server restart; this needs neither and sees only the workers.
import net from 'node:net';

export interface StatementCounter {
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url: string;
  statements(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startStatementCounter(databaseUrl: string): Promise<StatementCounter> {
  const target = new URL(databaseUrl);
  let statements = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const count = frontendCounter((type) => {
      if (type === 0x51 || type === 0x45) statements += 1; // 'Q', 'E'
    });
    client.on('data', (chunk: Buffer) => {
      count(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    statements: () => statements,
    reset: () => void (statements = 0),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Splits a connection's frontend byte stream into messages and reports each one's type. The
 * first message (startup) has no type byte: a length, then the protocol version.
 */
function frontendCounter(onMessage: (type: number) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const header = started ? 5 : 4;
      if (pending.length < header) return;
      const length = started ? pending.readUInt32BE(1) + 1 : pending.readUInt32BE(0);
      if (pending.length < length) return;
      if (started) onMessage(pending[0] ?? 0);
      // An SSL or GSS request is answered before the real startup message follows.
      else if (!(length === 8 && pending.readUInt32BE(4) >= 80877102)) started = true;
      pending = pending.subarray(length);
    }
  };
}
