// A fake API client for unit tests (tests only): a real API server cannot be made to fail one
// chosen write on demand. It records every write and answers each with success, or with the
// error a test scheduled for it. A patch answers the object the test put, patched. Reads are
// not faked: the code under test reads its caches.
import { KubeClient } from './client.js';
import { KubeApiError } from './errors.js';
import type { ResourceType } from './resource.js';
import { unreachableKubeConfig } from './test-fixtures.js';
import type { KubeObject } from './types.js';

export type FakeVerb = 'create' | 'patch' | 'patchStatus' | 'delete';

const REASONS: Record<number, string> = { 404: 'NotFound', 409: 'Conflict', 500: 'InternalError' };

export class FakeApiClient extends KubeClient {
  /** Every write, as `verb name` (a patch with its body as JSON). */
  readonly calls: string[] = [];
  private readonly failures = new Map<string, KubeApiError[]>();
  private readonly objects = new Map<string, KubeObject>();

  constructor() {
    super(unreachableKubeConfig());
  }

  /** What a patch of `obj`'s name starts from. */
  put(obj: KubeObject): void {
    this.objects.set(obj.metadata?.name ?? '', obj);
  }

  /**
   * The next `times` writes `verb` of `name` answer `code` (404 NotFound, 409 Conflict, 500, or
   * 409 AlreadyExists when `reason` says so).
   */
  fail(verb: FakeVerb, name: string, code: number, options: { reason?: string; times?: number; message?: string } = {}): void {
    const reason = options.reason ?? REASONS[code] ?? 'InternalError';
    const errors = this.failures.get(`${verb} ${name}`) ?? [];
    for (let i = 0; i < (options.times ?? 1); i++) errors.push(new KubeApiError(code, reason, { reason, code, message: options.message ?? `${reason} (scheduled by the test)` }, verb.toUpperCase(), name));
    this.failures.set(`${verb} ${name}`, errors);
  }

  override create<T extends KubeObject>(_r: ResourceType, obj: T): Promise<T> {
    return this.answer('create', obj.metadata?.name ?? '', undefined, () => obj);
  }

  override patch<T extends KubeObject>(_r: ResourceType, name: string, patch: unknown): Promise<T> {
    return this.answer('patch', name, patch, () => this.patched<T>(name, patch));
  }

  override patchStatus<T extends KubeObject>(_r: ResourceType, name: string, patch: unknown): Promise<T> {
    return this.answer('patchStatus', name, patch, () => this.patched<T>(name, patch));
  }

  override delete(_r: ResourceType, name: string): Promise<KubeObject> {
    return this.answer('delete', name, undefined, () => ({}));
  }

  private answer<T>(verb: FakeVerb, name: string, body: unknown, result: () => T): Promise<T> {
    this.calls.push(body === undefined ? `${verb} ${name}` : `${verb} ${name} ${JSON.stringify(body)}`);
    const error = this.failures.get(`${verb} ${name}`)?.shift();
    return error ? Promise.reject(error) : Promise.resolve(result());
  }

  /** The object put under `name` with the top-level fields of `patch` replacing its own, and its metadata merged in. */
  private patched<T>(name: string, patch: unknown): T {
    const old = this.objects.get(name) ?? { metadata: { name } };
    const p = (patch ?? {}) as { metadata?: Record<string, unknown> };
    const next = { ...old, ...p, metadata: { ...old.metadata, ...p.metadata } } as KubeObject;
    this.objects.set(name, next);
    return next as T;
  }
}
