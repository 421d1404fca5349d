// A typed gRPC client of a CRI runtime (runtime.v1 RuntimeService and ImageService) over its
// unix socket, with kubelet's conventions: 16 MiB messages, a deadline per call (2 min; 4 min for
// RunPodSandbox; the grace period plus 2 min for StopContainer; none for PullImage, which is only
// cancelled), quick reconnection after the runtime restarts, and errors that name the call and
// the pod or container it was for.
import { Metadata, credentials, loadPackageDefinition, status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Counter, Histogram, type Registry } from 'prom-client';
import { fileURLToPath } from 'node:url';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStatus,
  ExecSyncResponse,
  Image,
  ImageSpec,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  RuntimeCondition,
  VersionResponse,
} from './types.js';

/** kubelet's runtimeRequestTimeout. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A failed CRI call: `code` is the gRPC status code (5 not found, 4 deadline exceeded, 14 unavailable). */
export class CriError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    readonly details: string,
    /** What the call was for, e.g. `pod default/web-0` or `container 3f2a…`. */
    readonly subject: string | undefined,
  ) {
    super(`CRI ${call}${subject ? ` for ${subject}` : ''} failed: ${details || 'no details'} (${grpcStatus[code] ?? `code ${code}`})`);
    this.name = 'CriError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === grpcStatus.NOT_FOUND;
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof CriError && err.code === grpcStatus.UNAVAILABLE;
}

export interface CriClientOptions {
  /** `unix:///run/containerd/containerd.sock`, or a bare socket path. */
  endpoint: string;
  /** Per-call deadline; default 2 minutes as kubelet. */
  timeoutMs?: number;
  /** Where `kubelet_runtime_operations_*` are registered. */
  registry?: Registry;
}

interface CallOptions {
  /** Names the pod or container in the error. */
  subject?: string;
  /** Deadline of this call in ms; 0 for none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Unary = (request: unknown, metadata: Metadata, options: { deadline?: Date }, callback: (err: ServiceError | null, response: unknown) => void) => { cancel(): void };

interface RuntimeMetrics {
  operations: Counter<'operation_type'>;
  errors: Counter<'operation_type'>;
  duration: Histogram<'operation_type'>;
}

function runtimeMetrics(registry: Registry): RuntimeMetrics {
  const get = <M>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  return {
    operations: get('kubelet_runtime_operations_total', () => new Counter({ name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames: ['operation_type'], registers: [registry] })),
    errors: get('kubelet_runtime_operations_errors_total', () => new Counter({ name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames: ['operation_type'], registers: [registry] })),
    duration: get('kubelet_runtime_operations_duration_seconds', () => new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'Duration in seconds of runtime operations, by operation type.',
      labelNames: ['operation_type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    })),
  };
}

/** kubelet's operation_type label for each call. */
const OPERATION_TYPE: Record<string, string> = {
  Version: 'version',
  Status: 'status',
  RunPodSandbox: 'run_podsandbox',
  StopPodSandbox: 'stop_podsandbox',
  RemovePodSandbox: 'remove_podsandbox',
  PodSandboxStatus: 'podsandbox_status',
  ListPodSandbox: 'list_podsandbox',
  CreateContainer: 'create_container',
  StartContainer: 'start_container',
  StopContainer: 'stop_container',
  RemoveContainer: 'remove_container',
  ListContainers: 'list_containers',
  ContainerStatus: 'container_status',
  ReopenContainerLog: 'reopen_container_log',
  ExecSync: 'exec_sync',
  ImageStatus: 'image_status',
  PullImage: 'pull_image',
  RemoveImage: 'remove_image',
};

let protoPackage: Record<string, new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => Client> | undefined;

function runtimePackage(): NonNullable<typeof protoPackage> {
  if (!protoPackage) {
    const definition = loadSync(fileURLToPath(new URL('./runtime-v1.proto', import.meta.url)), {
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      arrays: true,
      objects: false,
      oneofs: false,
    });
    const loaded = loadPackageDefinition(definition) as unknown as { runtime: { v1: NonNullable<typeof protoPackage> } };
    protoPackage = loaded.runtime.v1;
  }
  return protoPackage;
}

/** `unix:///path` or `/path` → the grpc-js target; anything else is refused with what to use. */
export function criTarget(endpoint: string): string {
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
  if (!path.startsWith('/')) throw new Error(`CRI endpoint "${endpoint}": expected unix:///absolute/path/to.sock (e.g. unix:///run/containerd/containerd.sock)`);
  return `unix://${path}`;
}

/**
 * One connection to a CRI runtime. Calls made while the runtime is down fail with UNAVAILABLE;
 * the channel reconnects by itself (within about a second) once the socket answers again.
 */
export class CriClient {
  readonly endpoint: string;
  private readonly runtime: Client;
  private readonly images: Client;
  private readonly timeoutMs: number;
  private readonly metrics: RuntimeMetrics | undefined;

  constructor(options: CriClientOptions) {
    this.endpoint = options.endpoint;
    const target = criTarget(options.endpoint);
    const pkg = runtimePackage();
    const channelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // A restarted runtime is back within a second or two; the default backoff (up to 120 s)
      // would leave the agent blind long after.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
    };
    this.runtime = new pkg.RuntimeService!(target, credentials.createInsecure(), channelOptions);
    // Both services on one channel: grpc-js shares the subchannel for the same target and options.
    this.images = new pkg.ImageService!(target, credentials.createInsecure(), channelOptions);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.metrics = options.registry ? runtimeMetrics(options.registry) : undefined;
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }

  version(): Promise<VersionResponse> {
    return this.call(this.runtime, 'Version', { version: 'v1' });
  }

  /** The runtime's conditions (RuntimeReady, NetworkReady). */
  async status(): Promise<RuntimeCondition[]> {
    const r = await this.call<{ status?: { conditions: RuntimeCondition[] } }>(this.runtime, 'Status', {});
    return r.status?.conditions ?? [];
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler: string | undefined, subject: string): Promise<string> {
    const r = await this.call<{ podSandboxId: string }>(this.runtime, 'RunPodSandbox', { config, runtimeHandler: runtimeHandler ?? '' }, { subject, timeoutMs: 2 * this.timeoutMs });
    return r.podSandboxId;
  }

  async stopPodSandbox(id: string, subject = `sandbox ${id}`): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { podSandboxId: id }, { subject });
  }

  async removePodSandbox(id: string, subject = `sandbox ${id}`): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { podSandboxId: id }, { subject });
  }

  async podSandboxStatus(id: string, subject = `sandbox ${id}`): Promise<PodSandboxStatus> {
    const r = await this.call<{ status: PodSandboxStatus }>(this.runtime, 'PodSandboxStatus', { podSandboxId: id }, { subject });
    return r.status;
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const r = await this.call<{ items: PodSandbox[] }>(this.runtime, 'ListPodSandbox', { filter });
    return r.items;
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, subject: string): Promise<string> {
    const r = await this.call<{ containerId: string }>(this.runtime, 'CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig }, { subject });
    return r.containerId;
  }

  async startContainer(id: string, subject = `container ${id}`): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { containerId: id }, { subject });
  }

  /** Stops with `graceSeconds` between SIGTERM and SIGKILL; the deadline leaves 2 minutes beyond it. */
  async stopContainer(id: string, graceSeconds: number, subject = `container ${id}`): Promise<void> {
    await this.call(this.runtime, 'StopContainer', { containerId: id, timeout: graceSeconds }, { subject, timeoutMs: this.timeoutMs + graceSeconds * 1000 });
  }

  async removeContainer(id: string, subject = `container ${id}`): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { containerId: id }, { subject });
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const r = await this.call<{ containers: Container[] }>(this.runtime, 'ListContainers', { filter });
    return r.containers;
  }

  async containerStatus(id: string, subject = `container ${id}`): Promise<ContainerStatus> {
    const r = await this.call<{ status: ContainerStatus }>(this.runtime, 'ContainerStatus', { containerId: id }, { subject });
    return r.status;
  }

  async reopenContainerLog(id: string): Promise<void> {
    await this.call(this.runtime, 'ReopenContainerLog', { containerId: id }, { subject: `container ${id}` });
  }

  /** Runs `cmd` in the container; the runtime ends it after `timeoutSeconds` (0: no limit). */
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    // The call's own deadline leaves the runtime a few seconds to report its timeout first.
    return this.call(this.runtime, 'ExecSync', { containerId: id, cmd, timeout: timeoutSeconds }, { subject: `container ${id}`, timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 + 5_000 : this.timeoutMs });
  }

  /** The image when the runtime has it, else undefined. */
  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    const r = await this.call<{ image: Image | null }>(this.images, 'ImageStatus', { image }, { subject: `image ${image.image}` });
    return r.image ?? undefined;
  }

  /** Pulls with no deadline (a large image takes as long as it takes); `signal` cancels it. */
  async pullImage(image: ImageSpec, auth: AuthConfig | undefined, signal?: AbortSignal): Promise<string> {
    const r = await this.call<{ imageRef: string }>(this.images, 'PullImage', { image, ...(auth ? { auth } : {}) }, { subject: `image ${image.image}`, timeoutMs: 0, ...(signal ? { signal } : {}) });
    return r.imageRef;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await this.call(this.images, 'RemoveImage', { image }, { subject: `image ${image.image}` });
  }

  private call<R>(client: Client, method: string, request: unknown, options: CallOptions = {}): Promise<R> {
    const op = OPERATION_TYPE[method] ?? method;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const stopTimer = this.metrics?.duration.startTimer({ operation_type: op });
    this.metrics?.operations.inc({ operation_type: op });
    return new Promise<R>((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
      const onAbort = (): void => call.cancel();
      const call = fn(request, new Metadata(), timeoutMs > 0 ? { deadline: new Date(Date.now() + timeoutMs) } : {}, (err, response) => {
        options.signal?.removeEventListener('abort', onAbort);
        stopTimer?.();
        if (err) {
          this.metrics?.errors.inc({ operation_type: op });
          reject(new CriError(method, err.code ?? grpcStatus.UNKNOWN, err.details || err.message, options.subject));
        } else {
          resolve(response as R);
        }
      });
      if (options.signal?.aborted) call.cancel();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
