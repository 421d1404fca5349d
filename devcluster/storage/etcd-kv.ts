// A lean client of etcd's KV service (Range, Txn, Compact) and Watch service: gRPC calls over one
// HTTP/2 session with the few protobuf messages they need encoded by hand. Every API request makes
// one of these calls; a general-purpose gRPC stack costs about twice the CPU of etcd's own work per
// call on these machines, which showed as the largest part of the devcluster's create path. Every
// write also reaches the garbage collector's watch, where the etcd3 package's decoding (grpc-js,
// protobufjs) cost about a tenth of a create.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as connectSocket } from 'node:net';
import { unixSocketPath } from './etcd-endpoint.js';

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
}

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  serializable?: boolean;
  keysOnly?: boolean;
}

export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export type Compare =
  | { key: Buffer; target: 'version'; version: number }
  | { key: Buffer; target: 'mod'; modRevision: number };

export type RequestOp =
  | { range: RangeRequest }
  | { put: { key: Buffer; value: Buffer } }
  | { deleteRange: { key: Buffer; prevKv?: boolean } };

export interface ResponseOp {
  range?: RangeResponse;
  /** Previous values of a deleteRange with prevKv. */
  deletedPrevKvs?: KeyValue[];
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

/** A failed call: `code` is the gRPC status (4 = deadline exceeded, 11 = out of range, 14 = unavailable). */
export class EtcdCallError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

// ---- protobuf wire format (only what these messages use) ----

class Writer {
  private readonly parts: Buffer[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length) {
      this.parts.push(Buffer.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(n: number): void {
    while (n > 127) {
      this.scratch.push((n % 128) | 128);
      n = Math.floor(n / 128);
    }
    this.scratch.push(n);
  }

  uint(field: number, n: number | undefined): this {
    if (n === undefined || n === 0) return this;
    return this.uintAlways(field, n);
  }

  /** A varint field written even when 0 (oneof members must be present to count). */
  uintAlways(field: number, n: number): this {
    this.varint(field * 8);
    this.varint(n);
    return this;
  }

  bool(field: number, b: boolean | undefined): this {
    return b ? this.uintAlways(field, 1) : this;
  }

  bytes(field: number, b: Buffer | undefined): this {
    if (b === undefined) return this;
    this.varint(field * 8 + 2);
    this.varint(b.length);
    this.flushScratch();
    this.parts.push(b);
    return this;
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Buffer {
    this.flushScratch();
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
  }
}

/** Calls `onField` for each field of a message; `value` is a number for varints, a slice for length-delimited fields. */
function readFields(buf: Buffer, onField: (field: number, value: number | Buffer) => void): void {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new EtcdCallError(13, 'etcd sent a truncated protobuf message');
      result += (b & 127) * scale;
      if (b < 128) return result;
      scale *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0: onField(field, varint()); break;
      case 1: pos += 8; break;
      case 2: {
        const len = varint();
        onField(field, buf.subarray(pos, pos + len));
        pos += len;
        break;
      }
      case 5: pos += 4; break;
      default: throw new EtcdCallError(13, `etcd sent a protobuf field with wire type ${tag % 8}, which this client does not read`);
    }
  }
}

function rangeRequest(r: RangeRequest): Writer {
  return new Writer().bytes(1, r.key).bytes(2, r.rangeEnd).uint(3, r.limit).uint(4, r.revision).bool(7, r.serializable).bool(8, r.keysOnly);
}

function headerRevision(buf: Buffer): number {
  let revision = 0;
  readFields(buf, (f, v) => {
    if (f === 3 && typeof v === 'number') revision = v;
  });
  return revision;
}

function keyValue(buf: Buffer): KeyValue {
  const kv: KeyValue = { key: Buffer.alloc(0), value: Buffer.alloc(0), createRevision: 0, modRevision: 0 };
  readFields(buf, (f, v) => {
    if (f === 1 && typeof v !== 'number') kv.key = v;
    else if (f === 2 && typeof v === 'number') kv.createRevision = v;
    else if (f === 3 && typeof v === 'number') kv.modRevision = v;
    else if (f === 5 && typeof v !== 'number') kv.value = v;
  });
  return kv;
}

function rangeResponse(buf: Buffer): RangeResponse {
  const res: RangeResponse = { revision: 0, kvs: [], more: false, count: 0 };
  readFields(buf, (f, v) => {
    if (f === 1 && typeof v !== 'number') res.revision = headerRevision(v);
    else if (f === 2 && typeof v !== 'number') res.kvs.push(keyValue(v));
    else if (f === 3) res.more = v === 1;
    else if (f === 4 && typeof v === 'number') res.count = v;
  });
  return res;
}

function txnRequest(compare: Compare[], success: RequestOp[], failure: RequestOp[]): Buffer {
  const w = new Writer();
  for (const c of compare) {
    // Compare: result EQUAL (0, the default) and target VERSION = 0, MOD = 2.
    const cw = new Writer().uint(2, c.target === 'mod' ? 2 : 0).bytes(3, c.key);
    if (c.target === 'mod') cw.uintAlways(6, c.modRevision);
    else cw.uintAlways(4, c.version);
    w.message(1, cw);
  }
  const op = (o: RequestOp): Writer => {
    if ('range' in o) return new Writer().message(1, rangeRequest(o.range));
    if ('put' in o) return new Writer().message(2, new Writer().bytes(1, o.put.key).bytes(2, o.put.value));
    return new Writer().message(3, new Writer().bytes(1, o.deleteRange.key).bool(3, o.deleteRange.prevKv));
  };
  for (const o of success) w.message(2, op(o));
  for (const o of failure) w.message(3, op(o));
  return w.finish();
}

function txnResponse(buf: Buffer): TxnResponse {
  const res: TxnResponse = { revision: 0, succeeded: false, responses: [] };
  readFields(buf, (f, v) => {
    if (f === 1 && typeof v !== 'number') res.revision = headerRevision(v);
    else if (f === 2) res.succeeded = v === 1;
    else if (f === 3 && typeof v !== 'number') {
      const op: ResponseOp = {};
      readFields(v, (of, ov) => {
        if (typeof ov === 'number') return;
        if (of === 1) op.range = rangeResponse(ov);
        else if (of === 3) {
          const prev: KeyValue[] = [];
          readFields(ov, (df, dv) => {
            if (df === 3 && typeof dv !== 'number') prev.push(keyValue(dv));
          });
          op.deletedPrevKvs = prev;
        }
      });
      res.responses.push(op);
    }
  });
  return res;
}

export interface WatchCreateRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  startRevision: number;
  progressNotify?: boolean;
  prevKv?: boolean;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchResponse {
  revision: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  /** Empty in a progress notification (and in the created and canceled answers). */
  events: WatchEvent[];
}

function watchCreateRequest(r: WatchCreateRequest): Buffer {
  const create = new Writer().bytes(1, r.key).bytes(2, r.rangeEnd).uint(3, r.startRevision).bool(4, r.progressNotify).bool(6, r.prevKv);
  return new Writer().message(1, create).finish();
}

function watchEvent(buf: Buffer): WatchEvent {
  const ev: WatchEvent = { type: 'put', kv: keyValue(Buffer.alloc(0)) };
  readFields(buf, (f, v) => {
    if (f === 1) ev.type = v === 1 ? 'delete' : 'put';
    else if (f === 2 && typeof v !== 'number') ev.kv = keyValue(v);
    else if (f === 3 && typeof v !== 'number') ev.prevKv = keyValue(v);
  });
  return ev;
}

export function watchResponse(buf: Buffer): WatchResponse {
  const res: WatchResponse = { revision: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  readFields(buf, (f, v) => {
    if (f === 1 && typeof v !== 'number') res.revision = headerRevision(v);
    else if (f === 3) res.created = v === 1;
    else if (f === 4) res.canceled = v === 1;
    else if (f === 5 && typeof v === 'number') res.compactRevision = v;
    else if (f === 6 && typeof v !== 'number') res.cancelReason = v.toString();
    else if (f === 11 && typeof v !== 'number') res.events.push(watchEvent(v));
  });
  return res;
}

/** Cuts a stream of gRPC length-prefixed messages into messages, whatever the chunks' boundaries. */
export class MessageReader {
  private chunks: Buffer[] = [];
  private length = 0;

  /** The whole messages that `chunk` completes. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.length < 5) return out;
      let head = this.chunks[0] as Buffer;
      if (head.length < 5) head = this.joined();
      const size = 5 + head.readUInt32BE(1);
      if (this.length < size) return out;
      // Joined only once the message is whole: a large message in many chunks is copied once.
      if (head.length < size) head = this.joined();
      out.push(head.subarray(5, size));
      const rest = head.subarray(size);
      this.chunks[0] = rest;
      this.length -= size;
      if (rest.length === 0) this.chunks.shift();
    }
  }

  private joined(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
}

// ---- gRPC over HTTP/2 ----

function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** A call's gRPC status as it arrives: in the trailers, or in the headers of a "trailers-only" error answer. */
function grpcStatus(stream: ClientHttp2Stream): { code?: string; message: string } {
  const status: { code?: string; message: string } = { message: '' };
  const read = (headers: Record<string, unknown>): void => {
    if (headers['grpc-status'] !== undefined) status.code = String(headers['grpc-status']);
    if (headers['grpc-message'] !== undefined) status.message = decodeURIComponent(String(headers['grpc-message']));
  };
  stream.on('response', read);
  stream.on('trailers', read);
  return status;
}

const grpcHeaders = (path: string): Record<string, string> => ({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });

export class EtcdKv {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly endpoint: string, private readonly deadlineMs = 5000) {}

  async range(req: RangeRequest): Promise<RangeResponse> {
    return rangeResponse(await this.unary('/etcdserverpb.KV/Range', rangeRequest(req).finish()));
  }

  async txn(compare: Compare[], success: RequestOp[], failure: RequestOp[]): Promise<TxnResponse> {
    return txnResponse(await this.unary('/etcdserverpb.KV/Txn', txnRequest(compare, success, failure)));
  }

  async compact(revision: number): Promise<void> {
    await this.unary('/etcdserverpb.KV/Compact', new Writer().uint(1, revision).finish());
  }

  /**
   * Opens a Watch stream holding one watch. `onResponse` gets its responses in order; `onEnd`
   * gets why the stream ended (etcd went away, or answered an error), and is not called after
   * the returned cancel.
   */
  watch(req: WatchCreateRequest, onResponse: (res: WatchResponse) => void, onEnd: (err: EtcdCallError) => void): () => void {
    let ended = false;
    const end = (err: EtcdCallError): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    let stream: ClientHttp2Stream;
    try {
      stream = this.connection().request(grpcHeaders('/etcdserverpb.Watch/Watch'));
    } catch (err) {
      queueMicrotask(() => end(new EtcdCallError(14, (err as Error).message)));
      return () => {
        ended = true;
      };
    }
    const reader = new MessageReader();
    const status = grpcStatus(stream);
    stream.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (ended) return;
        let res: WatchResponse;
        try {
          res = watchResponse(message);
        } catch (err) {
          stream.close(constants.NGHTTP2_CANCEL);
          end(err instanceof EtcdCallError ? err : new EtcdCallError(13, (err as Error).message));
          return;
        }
        onResponse(res);
      }
    });
    stream.on('error', (err: Error) => end(new EtcdCallError(14, err.message)));
    stream.on('close', () => end(new EtcdCallError(status.code === undefined || status.code === '0' ? 14 : Number(status.code), status.message || 'the watch stream to etcd closed')));
    // The request side stays open: etcd ends a stream's watches when the stream ends.
    stream.write(grpcFrame(watchCreateRequest(req)));
    return () => {
      ended = true;
      stream.close(constants.NGHTTP2_CANCEL);
    };
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  /** The HTTP/2 session, connected again after etcd went away (a restart ends the old one). */
  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const socket = unixSocketPath(this.endpoint);
    const session = socket === undefined ? connect(this.endpoint) : connect('http://localhost', { createConnection: () => connectSocket(socket) });
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    session.unref();
    this.session = session;
    return session;
  }

  private unary(path: string, message: Buffer): Promise<Buffer> {
    const frame = grpcFrame(message);
    return new Promise((resolve, reject) => {
      let req;
      try {
        req = this.connection().request(grpcHeaders(path));
      } catch (err) {
        reject(new EtcdCallError(14, (err as Error).message));
        return;
      }
      const chunks: Buffer[] = [];
      const status = grpcStatus(req);
      let settled = false;
      const finish = (err?: EtcdCallError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.close(constants.NGHTTP2_CANCEL);
          reject(err);
          return;
        }
        if (status.code !== '0') {
          reject(new EtcdCallError(Number(status.code ?? 2), status.message || `etcd answered ${path} without a gRPC status`));
          return;
        }
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (body.length < 5) {
          reject(new EtcdCallError(13, `etcd answered ${path} without a message`));
          return;
        }
        resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
      };
      const timer = setTimeout(() => finish(new EtcdCallError(4, `etcd did not answer ${path} within ${this.deadlineMs} ms (deadline exceeded)`)), this.deadlineMs);
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => finish());
      req.on('error', (err: Error) => finish(new EtcdCallError(14, err.message)));
      req.on('close', () => finish(status.code === undefined ? new EtcdCallError(14, `the connection to etcd closed during ${path}`) : undefined));
      req.end(frame);
    });
  }
}
