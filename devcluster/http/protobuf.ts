// kubectl's typed clients (`kubectl create configmap|secret|namespace|serviceaccount|role|...`,
// `kubectl auth can-i`) send bodies as Kubernetes protobuf, and so do helm's deletes (DeleteOptions).
// This decodes that wire format for the built-in kinds those commands create, into the same
// JSON objects the JSON path takes.

type Scalar = 'string' | 'bytes' | 'bool' | 'int' | 'time';
interface Field {
  name: string;
  type: Scalar | Message | { map: 'string' | 'bytes' };
  repeated?: boolean;
}
interface Message {
  fields: Record<number, Field>;
}

const msg = (fields: Record<number, Field>): Message => ({ fields });

const ownerReference = msg({
  5: { name: 'apiVersion', type: 'string' },
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
});

const objectMeta = msg({
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int' },
  11: { name: 'labels', type: { map: 'string' } },
  12: { name: 'annotations', type: { map: 'string' } },
  13: { name: 'ownerReferences', type: ownerReference, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
});

const policyRule = msg({
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'apiGroups', type: 'string', repeated: true },
  3: { name: 'resources', type: 'string', repeated: true },
  4: { name: 'resourceNames', type: 'string', repeated: true },
  5: { name: 'nonResourceURLs', type: 'string', repeated: true },
});

const binding = msg({
  1: { name: 'metadata', type: objectMeta },
  2: { name: 'subjects', type: msg({ 1: { name: 'kind', type: 'string' }, 2: { name: 'apiGroup', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'namespace', type: 'string' } }), repeated: true },
  3: { name: 'roleRef', type: msg({ 1: { name: 'apiGroup', type: 'string' }, 2: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' } }) },
});

const role = msg({
  1: { name: 'metadata', type: objectMeta },
  2: { name: 'rules', type: policyRule, repeated: true },
});

const objectReference = msg({
  1: { name: 'kind', type: 'string' },
  2: { name: 'namespace', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'fieldPath', type: 'string' },
});

const kinds: Record<string, Message> = {
  'v1/Namespace': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'spec', type: msg({ 1: { name: 'finalizers', type: 'string', repeated: true } }) },
  }),
  'v1/ConfigMap': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'data', type: { map: 'string' } },
    3: { name: 'binaryData', type: { map: 'bytes' } },
    4: { name: 'immutable', type: 'bool' },
  }),
  'v1/Secret': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'data', type: { map: 'bytes' } },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: { map: 'string' } },
    5: { name: 'immutable', type: 'bool' },
  }),
  'v1/ServiceAccount': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'secrets', type: objectReference, repeated: true },
    3: { name: 'imagePullSecrets', type: msg({ 1: { name: 'name', type: 'string' } }), repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  }),
  'authorization.k8s.io/v1/SelfSubjectAccessReview': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'spec', type: msg({
      1: { name: 'resourceAttributes', type: msg({ 1: { name: 'namespace', type: 'string' }, 2: { name: 'verb', type: 'string' }, 3: { name: 'group', type: 'string' }, 4: { name: 'version', type: 'string' }, 5: { name: 'resource', type: 'string' }, 6: { name: 'subresource', type: 'string' }, 7: { name: 'name', type: 'string' } }) },
      2: { name: 'nonResourceAttributes', type: msg({ 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } }) },
    }) },
  }),
  'authorization.k8s.io/v1/SelfSubjectRulesReview': msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'spec', type: msg({ 1: { name: 'namespace', type: 'string' } }) },
  }),
  'rbac.authorization.k8s.io/v1/Role': role,
  'rbac.authorization.k8s.io/v1/ClusterRole': role,
  'rbac.authorization.k8s.io/v1/RoleBinding': binding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': binding,
};

/** meta/v1 DeleteOptions, which a client sends in the group version of the resource it deletes. */
const deleteOptions = msg({
  1: { name: 'gracePeriodSeconds', type: 'int' },
  2: { name: 'preconditions', type: msg({ 1: { name: 'uid', type: 'string' }, 2: { name: 'resourceVersion', type: 'string' } }) },
  3: { name: 'orphanDependents', type: 'bool' },
  4: { name: 'propagationPolicy', type: 'string' },
  5: { name: 'dryRun', type: 'string', repeated: true },
});

/** A protobuf body that cannot be decoded; the message says why. */
export class ProtobufError extends Error {}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtobufError('varint too long');
    }
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtobufError('truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

function decodeMessage(buf: Buffer, desc: Message): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = Number(r.varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    const field = desc.fields[no];
    if (!field) {
      r.skip(wire);
      continue;
    }
    const value = decodeField(r, wire, field);
    if (typeof field.type === 'object' && 'map' in field.type) {
      const [k, v] = value as [string, unknown];
      out[field.name] = { ...(out[field.name] as Record<string, unknown> | undefined), [k]: v };
    } else if (field.repeated) {
      out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    } else out[field.name] = value;
  }
  return out;
}

function decodeField(r: Reader, wire: number, field: Field): unknown {
  const t = field.type;
  if (t === 'bool') return r.varint() !== 0n;
  if (t === 'int') return Number(BigInt.asIntN(64, r.varint()));
  if (wire !== 2) throw new ProtobufError(`field ${field.name}: unexpected wire type ${wire}`);
  const bytes = r.bytes();
  if (t === 'string') return bytes.toString('utf8');
  if (t === 'bytes') return bytes.toString('base64');
  if (t === 'time') {
    const ts = decodeMessage(bytes, msg({ 1: { name: 'seconds', type: 'int' }, 2: { name: 'nanos', type: 'int' } }));
    return new Date(Number(ts.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if ('map' in t) {
    const entry = decodeMessage(bytes, msg({ 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: t.map } }));
    return [entry.key ?? '', entry.value ?? (t.map === 'string' ? '' : '')];
  }
  return decodeMessage(bytes, t);
}

/** Decodes a `application/vnd.kubernetes.protobuf` body into a JSON object with apiVersion and kind. */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) throw new ProtobufError('missing the Kubernetes protobuf magic prefix');
  const unknown = decodeMessage(body.subarray(4), msg({
    1: { name: 'typeMeta', type: msg({ 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } }) },
    2: { name: 'raw', type: 'bytes' },
  }));
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const key = `${typeMeta.apiVersion ?? ''}/${typeMeta.kind ?? ''}`;
  const desc = kinds[key] ?? (typeMeta.kind === 'DeleteOptions' ? deleteOptions : undefined);
  if (!desc) throw new ProtobufError(`protobuf bodies of ${key} are not supported here; send JSON or YAML`);
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, desc) };
}
