import { describe, expect, it } from '@jest/globals';
import { decodeKubernetesProtobuf, ProtobufError } from './protobuf.js';

// Encodes protobuf by hand (the tests must not trust the decoder to check itself).
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
};
const field = (no: number, bytes: Buffer): Buffer => Buffer.from([...varint((no << 3) | 2), ...varint(bytes.length), ...bytes]);
const str = (no: number, s: string): Buffer => field(no, Buffer.from(s));

describe('Kubernetes protobuf bodies', () => {
  it('decodes a ConfigMap as kubectl create configmap sends it', () => {
    const meta = Buffer.concat([str(1, 'cm1'), str(3, 'default'), field(11, Buffer.concat([str(1, 'app'), str(2, 'web')]))]);
    const raw = Buffer.concat([field(1, meta), field(2, Buffer.concat([str(1, 'key'), str(2, 'value')]))]);
    const unknown = Buffer.concat([field(1, Buffer.concat([str(1, 'v1'), str(2, 'ConfigMap')])), field(2, raw)]);
    const body = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]);
    expect(decodeKubernetesProtobuf(body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: 'default', labels: { app: 'web' } }, data: { key: 'value' } });
  });

  it("decodes DeleteOptions in any group version, as helm's deletes send them", () => {
    const raw = Buffer.concat([str(4, 'Background'), field(2, str(1, 'u-1'))]);
    const unknown = Buffer.concat([field(1, Buffer.concat([str(1, 'apps/v1'), str(2, 'DeleteOptions')])), field(2, raw)]);
    expect(decodeKubernetesProtobuf(Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]))).toEqual({ apiVersion: 'apps/v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: 'u-1' } });
  });

  it('refuses bodies without the magic prefix or of unsupported kinds', () => {
    expect(() => decodeKubernetesProtobuf(Buffer.from('{}'))).toThrow(ProtobufError);
    const unknown = field(1, Buffer.concat([str(1, 'apps/v1'), str(2, 'Deployment')]));
    expect(() => decodeKubernetesProtobuf(Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]))).toThrow('protobuf bodies of apps/v1/Deployment are not supported here; send JSON or YAML');
  });
});
