import { describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { inClusterKubeconfig, mergeKubeconfigs, parseKubeconfig, selectContext, type KubeconfigDocument } from './kubeconfig.js';

const FILE = '/home/u/.kube/config';

function kubeconfig(cluster: object, user: object, extra: object = {}): KubeconfigDocument {
  return parseKubeconfig(
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://api.example:6443', ...cluster } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
      ...extra,
    }),
    FILE,
  );
}

describe('parseKubeconfig', () => {
  it('reads clusters, users and contexts, with paths relative to the file', () => {
    const doc = parseKubeconfig(
      `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: certs/ca.crt
    tls-server-name: api.prod
    proxy-url: http://proxy:3128
- name: lab
  cluster:
    server: https://lab:6443
    certificate-authority-data: LS0tLQ==
    insecure-skip-tls-verify: false
users:
- name: admin
  user:
    client-certificate: /abs/admin.crt
    client-key: admin.key
    tokenFile: ../token
    as: someone
- name: cloud
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, prod]
      env: [{ name: REGION, value: eu-1 }]
      installHint: apt-get install get-token
      provideClusterInfo: true
- name: path-plugin
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: aws }
contexts:
- name: prod-admin
  context: { cluster: prod, user: admin, namespace: apps }
current-context: prod-admin
preferences: {}
`,
      FILE,
    );
    expect(doc.currentContext).toBe('prod-admin');
    expect(doc.clusters).toEqual([
      { name: 'prod', server: 'https://10.0.0.1:6443', caData: undefined, caFile: '/home/u/.kube/certs/ca.crt', skipTLSVerify: false, tlsServerName: 'api.prod', proxyUrl: 'http://proxy:3128', origin: FILE },
      { name: 'lab', server: 'https://lab:6443', caData: 'LS0tLQ==', caFile: undefined, skipTLSVerify: false, tlsServerName: undefined, proxyUrl: undefined, origin: FILE },
    ]);
    expect(doc.users[0]).toMatchObject({ name: 'admin', certFile: '/abs/admin.crt', keyFile: '/home/u/.kube/admin.key', tokenFile: '/home/u/token', impersonate: 'someone' });
    expect(doc.users[1]?.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: '/home/u/.kube/bin/get-token',
      args: ['--cluster', 'prod'],
      env: [{ name: 'REGION', value: 'eu-1' }],
      installHint: 'apt-get install get-token',
      provideClusterInfo: true,
    });
    // A bare command name is looked up on PATH, not next to the file.
    expect(doc.users[2]?.exec?.command).toBe('aws');
    expect(doc.contexts).toEqual([{ name: 'prod-admin', cluster: 'prod', user: 'admin', namespace: 'apps', origin: FILE }]);
  });

  it('names the file and the field of what is malformed', () => {
    expect(() => parseKubeconfig('clusters: [a', FILE)).toThrow(/^kubeconfig \/home\/u\/\.kube\/config: not valid YAML \(.*\); fix the file$/s);
    expect(() => parseKubeconfig('clusters: {}', FILE)).toThrow('kubeconfig /home/u/.kube/config: clusters must be a list, not a mapping; fix the file');
    expect(() => parseKubeconfig('users: [{ user: {} }]', FILE)).toThrow('kubeconfig /home/u/.kube/config: users[0].name is missing; name every entry of users');
    expect(() => parseKubeconfig('users: [{ name: u, user: { token: 1234 } }]', FILE)).toThrow(
      'kubeconfig /home/u/.kube/config: users[u].user.token must be a string, not number 1234; quote the value',
    );
    expect(() => parseKubeconfig('clusters: [{ name: c, cluster: { server: s, insecure-skip-tls-verify: "yes" } }]', FILE)).toThrow(
      'clusters[c].cluster.insecure-skip-tls-verify must be true or false, not string "yes"; fix the value',
    );
    expect(() => parseKubeconfig('users: [{ name: u, user: { exec: { args: [] } } }]', FILE)).toThrow('users[u].user.exec.command is missing; name the credential plugin to run');
    expect(() => parseKubeconfig('users: [{ name: u, user: { exec: { command: x, args: [1] } } }]', FILE)).toThrow('users[u].user.exec.args[0] must be a string, not number 1; quote the argument');
  });

  it('reads an empty file as an empty document', () => {
    expect(parseKubeconfig('', FILE)).toEqual({ clusters: [], users: [], contexts: [], currentContext: undefined, origin: FILE });
  });
});

describe('mergeKubeconfigs', () => {
  it('keeps the first entry of each name and the first current-context, like kubectl', () => {
    const a = parseKubeconfig(stringify({ clusters: [{ name: 'c', cluster: { server: 'https://a' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }] }), '/a');
    const b = parseKubeconfig(
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://b' } }, { name: 'd', cluster: { server: 'https://d' } }],
        contexts: [{ name: 'y', context: { cluster: 'd' } }],
        'current-context': 'y',
      }),
      '/b',
    );
    const c = parseKubeconfig(stringify({ 'current-context': 'x' }), '/c');
    const merged = mergeKubeconfigs([a, b, c]);
    expect(merged.clusters.map((x) => [x.name, x.server, x.origin])).toEqual([
      ['c', 'https://a', '/a'],
      ['d', 'https://d', '/b'],
    ]);
    expect(merged.contexts.map((x) => x.name)).toEqual(['x', 'y']);
    expect(merged.currentContext).toBe('y');
    expect(merged.origin).toBe('/a:/b:/c');
  });
});

describe('inClusterKubeconfig', () => {
  it('points at the service over https with the service account files', () => {
    const doc = inClusterKubeconfig({ host: '10.96.0.1', port: '443', dir: '/sa', namespace: 'shopfloor-system' });
    const selected = selectContext(doc);
    expect(selected.cluster).toMatchObject({ server: 'https://10.96.0.1:443', caFile: '/sa/ca.crt', skipTLSVerify: false });
    expect(selected.user).toMatchObject({ tokenFile: '/sa/token' });
    expect(selected.context.namespace).toBe('shopfloor-system');
  });

  it('brackets IPv6 hosts and rejects a port that is not a number', () => {
    expect(selectContext(inClusterKubeconfig({ host: 'fd00::1', port: '6443' })).cluster.server).toBe('https://[fd00::1]:6443');
    expect(selectContext(inClusterKubeconfig({ host: 'h', port: '443' })).cluster.caFile).toBe('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    expect(() => inClusterKubeconfig({ host: 'h', port: 'tcp://x' })).toThrow("in-cluster: KUBERNETES_SERVICE_PORT=tcp://x is not a port number; fix the pod's environment");
  });
});

describe('selectContext', () => {
  it('resolves the current context, or the one asked for', () => {
    const doc = kubeconfig({}, { token: 't' });
    expect(selectContext(doc).user?.token).toBe('t');
    expect(() => selectContext(doc, 'other')).toThrow('kubeconfig /home/u/.kube/config: context "other" is not in contexts (known: ctx); fix current-context or pass --context NAME');
  });

  it('allows a context without credentials', () => {
    const doc = parseKubeconfig(stringify({ clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:8080' } }], contexts: [{ name: 'x', context: { cluster: 'c' } }], 'current-context': 'x' }), FILE);
    expect(selectContext(doc).user).toBeUndefined();
  });

  it('says what is missing and where', () => {
    expect(() => selectContext(kubeconfig({}, {}, { 'current-context': undefined }))).toThrow(
      'kubeconfig /home/u/.kube/config: current-context is not set; set it (kubectl config use-context NAME) or pass --context NAME',
    );
    expect(() => selectContext(kubeconfig({}, {}, { contexts: [{ name: 'ctx', context: { cluster: 'nope', user: 'u' } }] }))).toThrow(
      'kubeconfig /home/u/.kube/config: contexts[ctx].context.cluster "nope" is not in clusters; add the cluster or fix the context',
    );
    expect(() => selectContext(kubeconfig({}, {}, { contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'nope' } }] }))).toThrow(
      'contexts[ctx].context.user "nope" is not in users; add the user or fix the context',
    );
    expect(() => selectContext(kubeconfig({ server: undefined }, {}))).toThrow('clusters[c].cluster.server is missing; give the API server URL, e.g. https://host:6443');
    expect(() => selectContext(kubeconfig({ server: 'api:6443' }, {}))).toThrow('clusters[c].cluster.server "api:6443" is not an http(s) URL');
  });

  it('refuses settings that contradict each other or are not supported', () => {
    const cases: [object, object, string][] = [
      [{ 'certificate-authority': '/ca', 'certificate-authority-data': 'QQ==' }, {}, 'clusters[c].cluster sets both certificate-authority and certificate-authority-data; keep one'],
      [{ 'insecure-skip-tls-verify': true, 'certificate-authority': '/ca' }, {}, 'sets insecure-skip-tls-verify together with a certificate authority; drop one of them'],
      [{ 'certificate-authority-data': '-----BEGIN CERTIFICATE-----' }, {}, 'clusters[c].cluster.certificate-authority-data is not base64; encode the PEM with base64 -w0, or give a file instead'],
      [{ 'proxy-url': 'socks5://p:1080' }, {}, 'proxy-url "socks5://p:1080": SOCKS proxies are not supported; use an http:// or https:// proxy'],
      [{ server: 'http://api:8080', 'proxy-url': 'http://p:3128' }, {}, 'proxy-url is set for a plain-http server; use an https server or drop the proxy'],
      [{}, { 'auth-provider': { name: 'oidc', config: {} } }, 'users[u].user.auth-provider "oidc" is not supported; use an exec credential plugin instead'],
      [{}, { token: 't', username: 'a', password: 'b' }, 'users[u].user sets more than one way to authenticate (token, username/password); keep one'],
      [{}, { tokenFile: '/t', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' } }, 'more than one way to authenticate (token, exec)'],
      [{}, { 'client-certificate': '/c', 'client-certificate-data': 'QQ==', 'client-key': '/k' }, 'sets both client-certificate and client-certificate-data; keep one'],
      [{}, { 'client-certificate': '/c' }, 'users[u].user has a client certificate but no client-key; give both or neither'],
      [{}, { 'client-key-data': 'QQ==' }, 'users[u].user has a client-key but no client certificate; give both or neither'],
      [{}, { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }, 'exec.apiVersion "client.authentication.k8s.io/v1alpha1" is not supported; use client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1'],
    ];
    for (const [cluster, user, message] of cases) {
      expect(() => selectContext(kubeconfig(cluster, user))).toThrow(message);
    }
  });

  it('checks only the entries the context uses', () => {
    const doc = kubeconfig({}, { token: 't' }, {
      clusters: [
        { name: 'c', cluster: { server: 'https://ok' } },
        { name: 'broken', cluster: {} },
      ],
    });
    expect(selectContext(doc).cluster.name).toBe('c');
  });
});
