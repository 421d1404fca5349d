// Writes an assignment's status to its /status subresource only when it changed since the
// agent last wrote (or, before any write, since what the cache shows), with a merge patch of
// just the changed fields. A crash-looping pod therefore writes once per state it passes through,
// not once per sync, and a restarted agent that finds the status as it left it writes nothing.
import type { NodeAssignment, NodeAssignmentStatus } from '../../api/index.js';
import type { KubeClient } from '../../kube/client.js';
import { isNotFound } from '../../kube/errors.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { deepEqual, mergePatchBetween } from '../../kube/status.js';

export const FIELD_MANAGER = 'shopfloor-agent';

export class StatusWriter {
  private readonly written = new Map<string, { uid: string; status: NodeAssignmentStatus }>();
  /** Status writes made, for tests and the benchmark to count. */
  writes = 0;

  constructor(private readonly client: KubeClient) {}

  /** The status as last written by this agent (or as the cache has it), to build the next one on. */
  current(key: string, assignment: NodeAssignment): NodeAssignmentStatus | undefined {
    const uid = assignment.metadata.uid ?? '';
    const mine = this.written.get(key);
    return mine && mine.uid === uid ? mine.status : assignment.status;
  }

  /** Writes `status` unless it equals the current one. Resolves false when the object is gone. */
  async write(key: string, assignment: NodeAssignment, status: NodeAssignmentStatus, signal?: AbortSignal): Promise<boolean> {
    const uid = assignment.metadata.uid ?? '';
    const base = this.current(key, assignment) ?? {};
    if (deepEqual(base, status)) return true;
    const patch = mergePatchBetween(base, status);
    try {
      await this.client.patchStatus(NODE_ASSIGNMENTS, assignment.metadata.name ?? '', { status: patch }, { namespace: assignment.metadata.namespace, fieldManager: FIELD_MANAGER, signal });
    } catch (err) {
      this.written.delete(key);
      if (isNotFound(err)) return false;
      throw err;
    }
    this.writes++;
    this.written.set(key, { uid, status });
    return true;
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
