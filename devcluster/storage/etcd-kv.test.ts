import { describe, expect, it } from '@jest/globals';
import { MessageReader, watchResponse } from './etcd-kv.js';

function framed(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

describe('etcd-kv: gRPC messages of a stream', () => {
  it('cuts messages out whatever the chunk boundaries', () => {
    const stream = Buffer.concat([framed(Buffer.from('one')), framed(Buffer.alloc(0)), framed(Buffer.from('three'))]);
    for (let size = 1; size <= stream.length; size++) {
      const reader = new MessageReader();
      const got: string[] = [];
      for (let at = 0; at < stream.length; at += size) got.push(...reader.push(stream.subarray(at, at + size)).map((m) => m.toString()));
      expect(got).toEqual(['one', '', 'three']);
    }
  });

  it('decodes a watch response with a put and a delete', () => {
    // header{revision: 7}, events: [PUT kv{key a, create 5, mod 7, value x}, DELETE kv{key b, mod 7} prev_kv{key b, mod 6, value y}]
    const kv = (key: string, create: number, mod: number, value?: string): Buffer => Buffer.concat([
      Buffer.from([0x0a, key.length]), Buffer.from(key),
      ...(create ? [Buffer.from([0x10, create])] : []), Buffer.from([0x18, mod]),
      ...(value ? [Buffer.from([0x2a, value.length]), Buffer.from(value)] : []),
    ]);
    const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag, body.length]), body]);
    const put = field(0x12, kv('a', 5, 7, 'x'));
    const del = Buffer.concat([Buffer.from([0x08, 1]), field(0x12, kv('b', 0, 7)), field(0x1a, kv('b', 4, 6, 'y'))]);
    const res = watchResponse(Buffer.concat([field(0x0a, Buffer.from([0x18, 7])), field(0x5a, put), field(0x5a, del)]));
    expect(res).toMatchObject({ revision: 7, created: false, canceled: false });
    expect(res.events.map((e) => [e.type, e.kv.key.toString(), e.kv.createRevision, e.kv.modRevision, e.kv.value.toString(), e.prevKv?.value.toString()]))
      .toEqual([['put', 'a', 5, 7, 'x', undefined], ['delete', 'b', 0, 7, '', 'y']]);
  });
});
