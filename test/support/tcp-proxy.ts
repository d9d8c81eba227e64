import net from 'node:net';

/** A forwarded connection: the socket from the client and the one to the target. */
interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

/**
 * A loopback TCP proxy in front of PostgreSQL or Redis, for tests of what a
 * client sees when the network fails. It listens on 127.0.0.1 (an ephemeral port) and can
 * - `blackHole()`: stop forwarding on every open connection, in both
 *   directions, without closing anything (a half-open connection: the client
 *   writes, nothing ever comes back, not even an answer to its FIN);
 * - `dropAll()`: destroy every open connection (a database restart as the
 *   client sees it);
 * - `loseNextReply()`: on every open connection, throw away the next bytes the
 *   target sends and destroy the connection (a request that ran whose answer
 *   never arrived);
 * - `refuse()` / `accept()`: close new connections at once, or forward them again;
 * - `swallowNew()`: accept new connections and keep them open and silent (with
 *   `blackHole()`, a network partition: nothing reaches the target, nothing fails);
 * - `stopListening()` / `listenAgain()`: refuse new connections in the kernel
 *   (ECONNREFUSED: a server that is down), or take them again on the same port.
 * New connections after `blackHole()` are forwarded normally.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly links = new Set<Link>();
  /** Black-holed connections: kept open and silent until `dropAll` or `close`. */
  private readonly holes: Link[] = [];
  private refusing = false;
  private swallowing = false;
  /** Connections taken by `swallowNew()`: open, never forwarded, until `dropAll` or `close`. */
  private readonly swallowed: net.Socket[] = [];
  private boundPort = 0;
  /** Connections accepted and forwarded since the proxy started. */
  accepted = 0;
  /** Connections closed at once because the proxy was refusing. */
  refused = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.onConnection(client));
  }

  /** Starts a proxy to the host and port of `targetUrl` (a postgres:// URL, or a redis:// one with its port). */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    proxy.boundPort = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  /** The port the proxy listens on (kept while it does not). */
  get port(): number {
    return this.boundPort;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** Connections open through the proxy now. */
  get open(): number {
    return this.links.size;
  }

  /** Black-holed and swallowed connections whose client has not let go of its socket (a goodbye alone does not close it). */
  get held(): number {
    return [...this.holes.map((link) => link.client), ...this.swallowed].filter((client) => !client.destroyed).length;
  }

  /** Stops forwarding on every open connection, both ways, and keeps the sockets open. */
  blackHole(): void {
    for (const { client, upstream } of this.links) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      // Read and discard: the client's writes are acknowledged by our kernel, as on a real half-open path.
      client.removeAllListeners('data').on('data', () => undefined);
      // Nor is the client's goodbye answered: across a partition its FIN never reaches the server.
      client.allowHalfOpen = true;
      upstream.pause();
    }
    this.holes.push(...this.links);
    this.links.clear();
  }

  /** Destroys every open connection (forwarded, black-holed and swallowed). */
  dropAll(): void {
    for (const client of this.swallowed.splice(0)) client.destroy();
    for (const { client, upstream } of [...this.links, ...this.holes.splice(0)]) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
  }

  /** On every open connection, the next bytes from the target are thrown away and the connection is destroyed. */
  loseNextReply(): void {
    for (const link of this.links) {
      link.upstream.unpipe(link.client);
      link.upstream.once('data', () => {
        link.client.destroy();
        link.upstream.destroy();
      });
      // unpipe() paused it: a 'data' listener alone would not start the flow again.
      link.upstream.resume();
    }
  }

  /** New connections are closed at once until `accept()`. */
  refuse(): void {
    this.refusing = true;
  }

  /** New connections are forwarded again. */
  accept(): void {
    this.refusing = false;
    this.swallowing = false;
  }

  /** New connections are accepted and kept open, silent, never forwarded, until `accept()`. */
  swallowNew(): void {
    this.swallowing = true;
  }

  /** New connections are refused by the kernel (ECONNREFUSED) until `listenAgain()`; open ones are left as they are. */
  stopListening(): void {
    this.server.close();
  }

  /** Listens again on the same port. */
  async listenAgain(): Promise<void> {
    const port = this.boundPort;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    this.dropAll();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.refusing) {
      this.refused++;
      client.destroy();
      return;
    }
    if (this.swallowing) {
      // Read and discard, as blackHole() does: the client's writes are taken, nothing answers (nor its FIN).
      client.on('data', () => undefined);
      client.allowHalfOpen = true;
      this.swallowed.push(client);
      return;
    }
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    upstream.on('error', () => undefined);
    const link = { client, upstream };
    this.links.add(link);
    const forget = (): void => {
      if (!this.links.delete(link)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget);
    upstream.on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
