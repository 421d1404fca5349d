import { request } from 'node:https';
import type { TestCluster } from '../harness/test-cluster.js';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One raw HTTPS request to the devcluster (trusting its CA), for what typed clients cannot send. */
export function http(
  c: TestCluster,
  method: string,
  path: string,
  opts: { body?: string | Buffer; contentType?: string; token?: string | null; accept?: string; /** Told the body so far as it streams (a watch). */ onText?: (text: string) => void } = {},
): Promise<HttpResult> {
  const cluster = c.kubeConfig.getCurrentCluster();
  const ca = Buffer.from(cluster?.caData ?? '', 'base64');
  const url = new URL(path, c.url);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? c.token : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (opts.contentType) headers['Content-Type'] = opts.contentType;
  if (opts.accept) headers.Accept = opts.accept;
  // Node frames DELETE bodies only with an explicit length.
  if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        opts.onText?.(Buffer.concat(chunks).toString());
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
