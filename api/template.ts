// The pod template a NodeWorkload declares and a NodeAssignment carries to its node: the
// containers the agent runs through CRI, their probes, volumes and restart policy.
import { z } from 'zod';
import { dnsLabel, nonNegativeInt, portName, portNumber, portNumberOrName, positiveInt, protocol, quantity, stringMap } from './fields.js';
import { parseQuantity } from './quantity.js';

const probeTiming = {
  initialDelaySeconds: nonNegativeInt('Seconds after the container starts before the first probe.').default(0),
  periodSeconds: positiveInt('Seconds between probes.').default(10),
  timeoutSeconds: positiveInt('Seconds after which one probe times out.').default(1),
  successThreshold: positiveInt('Consecutive successes after a failure for the probe to pass (1 for liveness and startup probes).').default(1),
  failureThreshold: positiveInt('Consecutive failures for the probe to fail.').default(3),
};

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket'] as const;

export const probeSchema = z
  .object({
    exec: z
      .object({ command: z.array(z.string()).min(1, { error: 'must name a command' }).describe('Command run inside the container; exit 0 is success.') })
      .optional()
      .describe('Probe by running a command in the container.'),
    httpGet: z
      .object({
        path: z.string().default('/').describe('HTTP path to GET.'),
        port: portNumberOrName('Container port number or name to connect to.'),
        host: z.string().optional().describe('Host to connect to; defaults to the pod IP.'),
        scheme: z.enum(['HTTP', 'HTTPS'], { error: 'must be one of HTTP, HTTPS' }).default('HTTP').describe('HTTP or HTTPS.'),
        httpHeaders: z
          .array(z.object({ name: z.string().min(1).describe('Header name.'), value: z.string().describe('Header value.') }))
          .optional()
          .describe('Extra request headers.'),
      })
      .optional()
      .describe('Probe with an HTTP GET; a status from 200 to 399 is success.'),
    tcpSocket: z
      .object({ port: portNumberOrName('Container port number or name to connect to.'), host: z.string().optional().describe('Host to connect to; defaults to the pod IP.') })
      .optional()
      .describe('Probe by opening a TCP connection.'),
    ...probeTiming,
  })
  .superRefine((probe, ctx) => {
    const set = PROBE_HANDLERS.filter((h) => probe[h] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `must set exactly one of exec, httpGet, tcpSocket (found ${set.length === 0 ? 'none' : set.join(', ')})`,
      });
    }
  })
  .describe('A health check: exactly one of exec, httpGet, tcpSocket, with Kubernetes timing fields.');

const resourceList = z
  .object({
    cpu: quantity('CPU, in cores or millicores (e.g. 500m).').optional(),
    memory: quantity('Memory, in bytes with an optional suffix (e.g. 128Mi).').optional(),
  })
  .describe('Amounts of cpu and memory.');

export const containerPortSchema = z
  .object({
    name: portName('Name other fields refer to, such as a service targetPort.').optional(),
    containerPort: portNumber('Port the container listens on.'),
    protocol,
  })
  .describe('A port the container listens on.');

export const containerSchema = z
  .object({
    name: dnsLabel('Container name, unique in the template.'),
    image: z.string({ error: 'must be an image reference such as busybox:1.36' }).min(1, { error: 'must be an image reference such as busybox:1.36' }).describe('Image reference.'),
    imagePullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'], { error: 'must be one of Always, IfNotPresent, Never' })
      .optional()
      .describe('When to pull the image: Always, IfNotPresent or Never. Defaults to Always for the latest tag, else IfNotPresent.'),
    command: z.array(z.string()).optional().describe('Entrypoint; replaces the image\'s ENTRYPOINT.'),
    args: z.array(z.string()).optional().describe('Arguments; replace the image\'s CMD.'),
    env: z
      .array(
        z.object({
          name: z
            .string()
            .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, { error: 'must be an environment variable name: letters, digits, "_", "-" or ".", not starting with a digit' })
            .describe('Variable name.'),
          value: z.string().default('').describe('Variable value.'),
        }),
      )
      .optional()
      .describe('Environment variables.'),
    ports: z.array(containerPortSchema).optional().describe('Ports the container listens on.'),
    resources: z
      .object({ requests: resourceList.optional(), limits: resourceList.optional() })
      .optional()
      .describe('Resources the scheduler reserves (requests) and the runtime enforces (limits).'),
    livenessProbe: probeSchema.optional().describe('Restarts the container when it fails.'),
    readinessProbe: probeSchema.optional().describe('Takes the replica out of its service while it fails.'),
    startupProbe: probeSchema.optional().describe('Holds the other probes until it succeeds.'),
    volumeMounts: z
      .array(
        z.object({
          name: dnsLabel('Name of a volume in the template.'),
          mountPath: z.string().startsWith('/', { error: 'must be an absolute path' }).describe('Absolute path in the container.'),
          readOnly: z.boolean().optional().describe('Mount read-only.'),
        }),
      )
      .optional()
      .describe('Volumes mounted into the container.'),
  })
  .describe('A container the agent runs.');

export const volumeSchema = z
  .object({
    name: dnsLabel('Volume name, unique in the template.'),
    emptyDir: z
      .object({
        medium: z.enum(['', 'Memory'], { error: 'must be "" (node disk) or Memory' }).optional().describe('"" for node disk, Memory for tmpfs.'),
        sizeLimit: quantity('Largest size the volume may reach.').optional(),
      })
      .optional()
      .describe('A scratch directory that lives as long as the replica.'),
    hostPath: z
      .object({
        path: z.string().startsWith('/', { error: 'must be an absolute path' }).describe('Absolute path on the node.'),
        type: z
          .enum(['', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate'], { error: 'must be one of "", Directory, DirectoryOrCreate, File, FileOrCreate' })
          .optional()
          .describe('What must exist at the path.'),
      })
      .optional()
      .describe('A file or directory of the node.'),
  })
  .describe('A volume: exactly one of emptyDir, hostPath.');

export const templateSchema = z
  .object({
    labels: stringMap('Labels for the replicas.').optional(),
    containers: z.array(containerSchema).min(1, { error: 'must list at least one container' }).describe('Containers of each replica.'),
    restartPolicy: z
      .enum(['Always', 'OnFailure', 'Never'], { error: 'must be one of Always, OnFailure, Never' })
      .default('Always')
      .describe('When the agent restarts exited containers: Always, OnFailure or Never.'),
    terminationGracePeriodSeconds: nonNegativeInt('Seconds between SIGTERM and SIGKILL when a replica stops.').default(30),
    runtimeClassName: dnsLabel('Runtime handler the node\'s container runtime runs the replica with (e.g. runc, crun); the runtime\'s default when unset.').optional(),
    volumes: z.array(volumeSchema).optional().describe('Volumes the containers may mount.'),
  })
  .describe('What each replica runs.');

export type Probe = z.output<typeof probeSchema>;
export type Container = z.output<typeof containerSchema>;
export type ContainerPort = z.output<typeof containerPortSchema>;
export type Volume = z.output<typeof volumeSchema>;
export type Template = z.output<typeof templateSchema>;
export type TemplateInput = z.input<typeof templateSchema>;

type Path = (string | number)[];
type Issue = { path: Path; message: string };

/** Rules across the template's fields that a field schema alone cannot check. */
export function templateIssues(t: TemplateInput): Issue[] {
  const issues: Issue[] = [];
  const containerNames = new Map<string, number>();
  const portNames = new Map<string, string>();
  const portNumbers = new Map<string, string>();
  const volumeNames = new Set<string>();

  t.volumes?.forEach((v, i) => {
    if (volumeNames.has(v.name)) issues.push({ path: ['volumes', i, 'name'], message: `duplicate volume name "${v.name}": names must be unique` });
    volumeNames.add(v.name);
    const sources = ['emptyDir', 'hostPath'].filter((s) => v[s as 'emptyDir' | 'hostPath'] !== undefined);
    if (sources.length !== 1) {
      issues.push({ path: ['volumes', i], message: `must set exactly one of emptyDir, hostPath (found ${sources.length ? sources.join(', ') : 'none'})` });
    }
  });

  t.containers.forEach((c, ci) => {
    const first = containerNames.get(c.name);
    if (first !== undefined) issues.push({ path: ['containers', ci, 'name'], message: `duplicate container name "${c.name}" (also containers[${first}]): names must be unique` });
    else containerNames.set(c.name, ci);

    c.ports?.forEach((p, pi) => {
      const here = `containers[${ci}].ports[${pi}]`;
      if (p.name !== undefined) {
        const other = portNames.get(p.name);
        if (other) issues.push({ path: ['containers', ci, 'ports', pi, 'name'], message: `duplicate port name "${p.name}" (also ${other}): port names must be unique across containers` });
        else portNames.set(p.name, here);
      }
      const key = `${p.containerPort}/${p.protocol ?? 'TCP'}`;
      const other = portNumbers.get(key);
      if (other) issues.push({ path: ['containers', ci, 'ports', pi, 'containerPort'], message: `duplicate port ${key} (also ${other}): containers share one network namespace` });
      else portNumbers.set(key, here);
    });

    c.volumeMounts?.forEach((m, mi) => {
      if (!volumeNames.has(m.name)) {
        issues.push({ path: ['containers', ci, 'volumeMounts', mi, 'name'], message: `no volume named "${m.name}" in volumes: mount one of ${[...volumeNames].join(', ') || '(no volumes declared)'}` });
      }
    });

    for (const kind of ['cpu', 'memory'] as const) {
      const req = c.resources?.requests?.[kind];
      const lim = c.resources?.limits?.[kind];
      if (req === undefined || lim === undefined) continue;
      const r = parseQuantity(req);
      const l = parseQuantity(lim);
      if (r !== undefined && l !== undefined && r > l) {
        issues.push({ path: ['containers', ci, 'resources', 'requests', kind], message: `must be less than or equal to limits.${kind} (${lim})` });
      }
    }

    for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      const probe = c[probeName];
      const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
      const handler = probe?.httpGet ? 'httpGet' : 'tcpSocket';
      if (typeof port === 'string' && !c.ports?.some((p) => p.name === port)) {
        issues.push({ path: ['containers', ci, probeName, handler, 'port'], message: `no port named "${port}" in this container's ports` });
      }
      if (probe && probeName !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
        issues.push({ path: ['containers', ci, probeName, 'successThreshold'], message: 'must be 1 for liveness and startup probes' });
      }
    }
  });
  return issues;
}

/** The names of every container port in the template, for resolving named targetPorts. */
export function namedPorts(t: TemplateInput): Map<string, { containerPort: number; protocol: 'TCP' | 'UDP' }> {
  const out = new Map<string, { containerPort: number; protocol: 'TCP' | 'UDP' }>();
  for (const c of t.containers) for (const p of c.ports ?? []) if (p.name) out.set(p.name, { containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' });
  return out;
}

/** imagePullPolicy as Kubernetes defaults it: Always for the latest (or no) tag, else IfNotPresent. */
export function effectivePullPolicy(c: Pick<Container, 'image' | 'imagePullPolicy'>): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  if (c.image.includes('@')) return 'IfNotPresent';
  const lastSegment = c.image.slice(c.image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon >= 0 ? lastSegment.slice(colon + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}
