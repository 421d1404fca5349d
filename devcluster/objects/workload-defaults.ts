import { isPlainObject } from './object.js';

// The defaults kube-apiserver gives apps/v1 Deployments and DaemonSets and their pod templates on
// write (pkg/apis/apps/v1/defaults.go, pkg/apis/core/v1/defaults.go), as it serializes them.

type Fields = Record<string, unknown>;

/** `object[key]` as a map, created empty where missing (or not a map). */
function child(object: Fields, key: string): Fields {
  if (!isPlainObject(object[key])) object[key] = {};
  return object[key] as Fields;
}

function items(value: unknown): Fields[] {
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

function setIfAbsent(object: Fields, key: string, value: unknown): void {
  if (object[key] === undefined || object[key] === null || object[key] === '') object[key] = value;
}

/** Always for `:latest` or an image without a tag (nor digest), IfNotPresent otherwise (SetDefaults_Container). */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  const text = typeof image === 'string' ? image : '';
  const name = text.split('@')[0] ?? '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  const tag = colon >= 0 ? name.slice(colon + 1) : text.includes('@') ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: unknown): void {
  if (!isPlainObject(probe)) return;
  setIfAbsent(probe, 'timeoutSeconds', 1);
  setIfAbsent(probe, 'periodSeconds', 10);
  setIfAbsent(probe, 'successThreshold', 1);
  setIfAbsent(probe, 'failureThreshold', 3);
  if (isPlainObject(probe.httpGet)) {
    setIfAbsent(probe.httpGet, 'path', '/');
    setIfAbsent(probe.httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(container: Fields): void {
  setIfAbsent(container, 'imagePullPolicy', defaultPullPolicy(container.image));
  setIfAbsent(container, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(container, 'terminationMessagePolicy', 'File');
  child(container, 'resources');
  for (const port of items(container.ports)) setIfAbsent(port, 'protocol', 'TCP');
  for (const env of items(container.env)) {
    const fieldRef = isPlainObject(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isPlainObject(fieldRef)) setIfAbsent(fieldRef, 'apiVersion', 'v1');
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[probe]);
}

/** The volume sources kube-apiserver gives a file mode or type (and an empty source an emptyDir). */
function defaultVolume(volume: Fields): void {
  const sources = Object.keys(volume).filter((k) => k !== 'name');
  if (sources.length === 0) volume.emptyDir = {};
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = volume[source];
    if (isPlainObject(s)) setIfAbsent(s, 'defaultMode', 420);
  }
  if (isPlainObject(volume.hostPath) && volume.hostPath.type === undefined) volume.hostPath.type = '';
}

/** SetDefaults_PodSpec and the defaults of what a pod spec holds (containers, volumes, probes). */
export function defaultPodTemplate(spec: Fields): void {
  const template = child(spec, 'template');
  const pod = child(template, 'spec');
  // serviceAccount is the deprecated alias of serviceAccountName, kept equal to it.
  if (!pod.serviceAccountName && pod.serviceAccount) pod.serviceAccountName = pod.serviceAccount;
  if (pod.serviceAccountName) pod.serviceAccount = pod.serviceAccountName;
  setIfAbsent(pod, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(pod, 'restartPolicy', 'Always');
  child(pod, 'securityContext');
  setIfAbsent(pod, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(pod, 'schedulerName', 'default-scheduler');
  for (const c of [...items(pod.containers), ...items(pod.initContainers)]) defaultContainer(c);
  for (const v of items(pod.volumes)) defaultVolume(v);
}

export function defaultDeployment(object: Fields): void {
  const spec = child(object, 'spec');
  setIfAbsent(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setIfAbsent(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    setIfAbsent(rolling, 'maxUnavailable', '25%');
    setIfAbsent(rolling, 'maxSurge', '25%');
  }
  setIfAbsent(spec, 'revisionHistoryLimit', 10);
  setIfAbsent(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec);
}

export function defaultDaemonSet(object: Fields): void {
  const spec = child(object, 'spec');
  const strategy = child(spec, 'updateStrategy');
  setIfAbsent(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    setIfAbsent(rolling, 'maxUnavailable', 1);
    setIfAbsent(rolling, 'maxSurge', 0);
  }
  setIfAbsent(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec);
}
