import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between a client under test and the devcluster, so a test can break the
 * connection the way networks do: `cut()` resets every open connection; `freeze()` keeps them
 * open but silently stops forwarding what the server sends (a dead peer without a reset).
 * New connections work normally unless `freeze({ newConnections: true })` blackholes them too,
 * until `thaw()`. TLS passes through untouched.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  private connections = 0;
  private freezeNew = false;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** Connections accepted so far. */
  accepted(): number {
    return this.connections;
  }

  /** Open connections right now. */
  open(): number {
    return this.pairs.size;
  }

  /** Resets every open connection, as a dropped network path or restarted load balancer would. */
  cut(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding server bytes on every open connection, without closing anything. */
  freeze(options: { newConnections?: boolean } = {}): void {
    for (const p of this.pairs) p.frozen = true;
    this.freezeNew = options.newConnections ?? false;
  }

  /** New connections flow again (frozen open ones stay frozen until cut). */
  thaw(): void {
    this.freezeNew = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    const pair = { client, upstream, frozen: this.freezeNew };
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!pair.frozen) client.write(chunk);
    });
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => {
      if (!pair.frozen) drop();
    });
  }
}
