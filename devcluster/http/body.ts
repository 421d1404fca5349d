import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from '../objects/status.js';

export const patchTypes = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** The media type of a Content-Type header, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * How deeply a body may nest. The object handling after decoding recurses and overflows its stack
 * somewhere past 2,000 levels, so a deeper body gets a 400 first. kube-apiserver's JSON decoder
 * allows 10,000; no Kubernetes object comes near either.
 */
export const MAX_BODY_DEPTH = 1_000;

/** True when `value` nests arrays and objects more than `max` deep; walks without recursing. */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Decodes a request body as JSON or YAML (by media type); malformed bodies are a 400 naming the problem. */
export function decodeBody(body: Buffer, type: string): unknown {
  const decoded = decodeText(body, type);
  if (nestsDeeperThan(decoded, MAX_BODY_DEPTH)) throw badRequest(`the body nests arrays and objects more than ${MAX_BODY_DEPTH} deep`);
  return decoded;
}

function decodeText(body: Buffer, type: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty; send a JSON or YAML object');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      const docs = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 }) as unknown;
      return docs;
    } catch (err) {
      throw badRequest(`the body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** 415 for a body type the endpoint does not take. */
export function unsupportedMediaType(type: string, accepted: string[]): ApiError {
  return new ApiError(415, `the body of the request was in an unknown format (${type || 'none'}) - accepted media types include: ${accepted.join(', ')}`, 'UnsupportedMediaType');
}
