import { clone, isPlainObject, jsonEqual } from '../objects/object.js';

/** A JSON patch operation that cannot be applied; the message names the operation and path. */
export class JsonPatchError extends Error {}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${pointer}": must start with /`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function container(doc: unknown, tokens: string[], pointer: string): unknown {
  let node = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, pointer, false)];
    else if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t];
    else throw new JsonPatchError(`path "${pointer}" does not exist`);
  }
  return node;
}

function arrayIndex(arr: unknown[], token: string, pointer: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) throw new JsonPatchError(`array index ${i} out of range in "${pointer}"`);
  return i;
}

function get(doc: unknown, pointer: string): unknown {
  return container(doc, parsePointer(pointer), pointer);
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  const last = tokens.pop();
  if (last === undefined) throw new JsonPatchError('cannot remove the whole document');
  const parent = container(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, pointer, false), 1)[0];
  if (isPlainObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return value;
  }
  throw new JsonPatchError(`path "${pointer}" does not exist`);
}

function add(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(pointer);
  const last = tokens.pop();
  if (last === undefined) return value;
  const parent = container(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, pointer, !replace);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isPlainObject(parent)) {
    if (replace && !Object.prototype.hasOwnProperty.call(parent, last)) throw new JsonPatchError(`path "${pointer}" does not exist`);
    parent[last] = value;
  } else throw new JsonPatchError(`path "${pointer}": parent is not an object or array`);
  return doc;
}

/** Applies an RFC 6902 JSON patch to a copy of `doc`; all operations apply or none. */
export function jsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new JsonPatchError('a JSON patch must be an array of operations');
  let out = clone(doc);
  patch.forEach((raw: unknown, i) => {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new JsonPatchError(`operation ${i}: "op" and "path" are required strings`);
    }
    const op = raw as unknown as Operation;
    const needValue = (): unknown => {
      if (!('value' in raw)) throw new JsonPatchError(`operation ${i} (${op.op} ${op.path}): "value" is required`);
      return clone(op.value);
    };
    switch (op.op) {
      case 'add': out = add(out, op.path, needValue(), false); break;
      case 'replace': out = add(out, op.path, needValue(), true); break;
      case 'remove': remove(out, op.path); break;
      case 'move': {
        if (typeof op.from !== 'string') throw new JsonPatchError(`operation ${i} (move): "from" is required`);
        const value = remove(out, op.from);
        out = add(out, op.path, value, false);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new JsonPatchError(`operation ${i} (copy): "from" is required`);
        out = add(out, op.path, clone(get(out, op.from)), false);
        break;
      }
      case 'test':
        if (!jsonEqual(get(out, op.path), needValue())) throw new JsonPatchError(`testing value ${op.path} failed`);
        break;
      default:
        throw new JsonPatchError(`operation ${i}: unknown op "${op.op}" (allowed: add, remove, replace, move, copy, test)`);
    }
  });
  return out;
}
