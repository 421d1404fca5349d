import http from 'node:http';
import https from 'node:https';
import { isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

/**
 * An https agent whose connections go through an HTTP CONNECT tunnel (a kubeconfig
 * `proxy-url`, http:// or https://, with optional user:password). TLS to the API server runs
 * inside the tunnel, so the proxy sees only the host and port.
 */
export class ConnectProxyAgent extends https.Agent {
  private readonly proxy: URL;

  constructor(proxyUrl: string, options: https.AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.proxy = new URL(proxyUrl);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    if (!callback) throw new Error('ConnectProxyAgent opens tunnels asynchronously and needs the callback form of createConnection');
    // The agent reads no stream when the callback reports an error.
    const done = callback as (err: Error | null, stream?: Duplex) => void;
    const host = options.host ?? options.hostname ?? 'localhost';
    const target = `${isIPv6(host) ? `[${host}]` : host}:${options.port ?? 443}`;
    const headers: http.OutgoingHttpHeaders = { Host: target };
    if (this.proxy.username) {
      const credentials = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const secure = this.proxy.protocol === 'https:';
    const connect = (secure ? https : http).request({
      host: this.proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.proxy.port || (secure ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    const where = `proxy ${this.proxy.host} (kubeconfig proxy-url)`;
    connect.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`${where} refused CONNECT ${target}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      done(null, tls.connect({ ...(options as tls.ConnectionOptions), socket }));
    });
    connect.once('error', (err) => done(new Error(`${where}: cannot open a tunnel to ${target}: ${err.message}`)));
    connect.end();
    return undefined;
  }
}
