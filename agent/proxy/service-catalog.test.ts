import { describe, expect, it } from '@jest/globals';
import { renderNftFull } from './nft-render.js';
import { DEFAULT_PROXY_TABLE } from './proxy-names.js';
import { ServiceCatalog, buildProxyState } from './service-catalog.js';
import type { Service } from './model.js';
import { dns, eps, web } from './test-fixtures.js';

describe('buildProxyState', () => {
  it('flattens service ports into frontends with sorted, unique endpoints', () => {
    const { state, problems } = buildProxyState([web([{ ip: '10.1.0.10', port: 8080 }, ...eps('10.1.0.9', '10.1.0.10')], 'RoundRobin', 30080)], ['192.168.1.1']);
    expect(problems).toEqual([]);
    expect([...state.frontends.values()]).toEqual([
      {
        key: '10.96.0.10/TCP/80',
        service: 'shop/web:http',
        vip: '10.96.0.10',
        protocol: 'TCP',
        port: 80,
        nodePort: 30080,
        loadBalancing: 'RoundRobin',
        endpoints: [{ ip: '10.1.0.9', port: 8080 }, { ip: '10.1.0.10', port: 8080 }],
      },
    ]);
    expect(state.nodeAddresses).toEqual(['192.168.1.1']);
  });

  it('lets the first service in namespace/name order keep a clashing VIP:port or nodePort', () => {
    const a = { ...web(eps('10.1.0.1'), 'Random', 30080), namespace: 'a' };
    const b = { ...web(eps('10.1.0.2'), 'Random', 30080), namespace: 'b' };
    const c = { ...web(eps('10.1.0.3'), 'Random', 30080), namespace: 'c', clusterIP: '10.96.0.11' };
    const { state, problems } = buildProxyState([c, b, a], []);
    expect([...state.frontends.values()].map((f) => [f.service, f.nodePort]).sort()).toEqual([
      ['a/web:http', 30080],
      ['c/web:http', undefined],
    ]);
    expect(problems).toEqual([
      'b/web:http: 10.96.0.10:80/TCP is already served for a/web:http; left out',
      'c/web:http: nodePort 30080/TCP is already used by a/web:http; served without it',
    ]);
  });

  it('keeps the first of a port or nodePort that one service lists twice, so that the rules stay loadable', () => {
    const svc = web(eps('10.1.0.1'), 'Random', 30080);
    svc.ports.push({ name: 'admin', protocol: 'TCP', port: 81, nodePort: 30080, endpoints: eps('10.1.0.1') });
    svc.ports.push({ name: 'again', protocol: 'TCP', port: 80, endpoints: eps('10.1.0.2') });
    svc.ports.push({ name: 'dns', protocol: 'UDP', port: 53, nodePort: 30080, endpoints: eps('10.1.0.1') });
    const { state, problems } = buildProxyState([svc], []);
    expect([...state.frontends.values()].map((f) => [f.service, f.nodePort, f.endpoints.map((e) => e.ip)])).toEqual([
      ['shop/web:http', 30080, ['10.1.0.1']],
      ['shop/web:admin', undefined, ['10.1.0.1']],
      ['shop/web:dns', 30080, ['10.1.0.1']],
    ]);
    expect(problems).toEqual([
      'shop/web:admin: nodePort 30080/TCP is already used by shop/web:http; served without it',
      'shop/web:again: port 80/TCP is listed again (first by shop/web:http); left out',
    ]);
    const npElements = renderNftFull(DEFAULT_PROXY_TABLE, state).split('\n').filter((l) => /^add element ip shopfloor np-.*-frontends/.test(l));
    expect(npElements).toEqual(['add element ip shopfloor np-tcp-random-1-frontends { tcp . 30080 }', 'add element ip shopfloor np-udp-random-1-frontends { udp . 30080 }']);
  });

  it('leaves out a load-balancing mode or protocol the rules cannot express, naming it', () => {
    const badMode = { ...web(eps('10.1.0.1')), loadBalancing: 'LeastConn' } as unknown as Service;
    const badProtocol = dns(eps('10.1.0.5'));
    (badProtocol.ports[0] as { protocol: string }).protocol = 'SCTP';
    const { state, problems } = buildProxyState([badMode, badProtocol], []);
    expect(state.frontends.size).toBe(0);
    expect(problems).toEqual([
      'kube/dns:dns: protocol "SCTP" is not one of TCP, UDP; left out',
      'shop/web: loadBalancing "LeastConn" is not one of Random, RoundRobin, SourceIP; its service is not programmed',
    ]);
  });

  it('names bad addresses instead of programming them', () => {
    const { state, problems } = buildProxyState([{ ...web(eps('10.1.0.300')), clusterIP: 'none' }, { ...web(eps('10.1.0.300')), name: 'other' }], ['fe80::1']);
    expect(state.frontends.get('10.96.0.10/TCP/80')?.endpoints).toEqual([]);
    expect(problems).toEqual([
      'shop/other:http: endpoint 10.1.0.300:8080 is not an IPv4 address and port; left out',
      'shop/web: clusterIP "none" is not an IPv4 address; its service is not programmed',
      'node address "fe80::1" is not an IPv4 address; nodePorts are not served on it',
    ]);
  });
});

describe('ServiceCatalog', () => {
  it('reports only the frontend keys a service change touched', () => {
    const catalog = new ServiceCatalog();
    expect(catalog.setService('shop/web', web(eps('10.1.0.1'))).changed).toEqual(['10.96.0.10/TCP/80']);
    expect(catalog.setService('kube/dns', dns(eps('10.1.0.5'))).changed).toEqual(['10.96.0.53/UDP/53']);
    expect(catalog.setService('shop/web', web(eps('10.1.0.1'))).changed).toEqual([]);
    expect(catalog.setService('shop/web', web(eps('10.1.0.1', '10.1.0.2'))).changed).toEqual(['10.96.0.10/TCP/80']);
    expect(catalog.setService('shop/web', undefined).changed).toEqual(['10.96.0.10/TCP/80']);
    expect([...catalog.state.frontends.keys()]).toEqual(['10.96.0.53/UDP/53']);
    expect([...catalog.state.endpointIPs.keys()]).toEqual(['10.1.0.5']);
  });

  it('hands a clashing VIP:port and nodePort to the next service when the winner leaves', () => {
    const catalog = new ServiceCatalog();
    const a = { ...web(eps('10.1.0.1'), 'Random', 30080), namespace: 'a' };
    const b = { ...web(eps('10.1.0.2'), 'Random', 30080), namespace: 'b' };
    const c = { ...web(eps('10.1.0.3'), 'Random', 30080), namespace: 'c', clusterIP: '10.96.0.11' };
    catalog.setService('b/web', b);
    catalog.setService('c/web', c);
    expect(catalog.setService('a/web', a).changed).toEqual(['10.96.0.10/TCP/80']);
    expect(catalog.state.frontends.get('10.96.0.10/TCP/80')?.service).toBe('a/web:http');
    expect(catalog.state.frontends.get('10.96.0.11/TCP/80')?.nodePort).toBeUndefined();
    expect(catalog.problems()).toHaveLength(2);
    expect(catalog.setService('a/web', undefined).changed.sort()).toEqual(['10.96.0.10/TCP/80']);
    expect(catalog.state.frontends.get('10.96.0.10/TCP/80')?.service).toBe('b/web:http');
    expect(catalog.state.frontends.get('10.96.0.11/TCP/80')?.nodePort).toBeUndefined();
    expect(catalog.setService('b/web', undefined).changed.sort()).toEqual(['10.96.0.10/TCP/80', '10.96.0.11/TCP/80']);
    expect(catalog.state.frontends.get('10.96.0.11/TCP/80')?.nodePort).toBe(30080);
    expect(catalog.problems()).toEqual([]);
  });

  it('reports node address changes', () => {
    const catalog = new ServiceCatalog();
    expect(catalog.setNodeAddresses(['192.168.1.2', '192.168.1.1'])).toBe(true);
    expect(catalog.setNodeAddresses(['192.168.1.1', '192.168.1.2'])).toBe(false);
    expect(catalog.state.nodeAddresses).toEqual(['192.168.1.1', '192.168.1.2']);
  });
});
