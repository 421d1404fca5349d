import { describe, expect, it } from '@jest/globals';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'shopfloor.dev/node': 'n1' };
  const match = (text: string): boolean => matchesLabels(parseLabelSelector(text), labels);

  it('matches equality, inequality and existence', () => {
    expect(match('app=web')).toBe(true);
    expect(match('app==web,tier=front')).toBe(true);
    expect(match('app!=web')).toBe(false);
    expect(match('missing!=x')).toBe(true);
    expect(match('shopfloor.dev/node')).toBe(true);
    expect(match('!shopfloor.dev/node')).toBe(false);
    expect(match('')).toBe(true);
  });

  it('matches set-based requirements', () => {
    expect(match('tier in (front, back)')).toBe(true);
    expect(match('tier notin (front)')).toBe(false);
    expect(match('missing notin (a)')).toBe(true);
    expect(match('missing in (a)')).toBe(false);
    expect(match('app in (web),tier notin (back)')).toBe(true);
  });

  it('names the bad part of a selector it cannot parse', () => {
    expect(() => parseLabelSelector('app in web')).toThrow(/unable to parse requirement: "app in web"/);
    expect(() => parseLabelSelector('bad key=x')).toThrow(/unable to parse/);
    expect(() => parseLabelSelector('app=not valid!')).toThrow();
  });
});

describe('field selectors', () => {
  const object = { metadata: { name: 'a', namespace: 'ns1' } };

  it('matches metadata.name and metadata.namespace', () => {
    expect(matchesFields(parseFieldSelector('metadata.name=a'), object)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.name!=a'), object)).toBe(false);
    expect(matchesFields(parseFieldSelector('metadata.namespace==ns1,metadata.name=a'), object)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.namespace=ns2'), object)).toBe(false);
  });

  it('refuses other fields, naming the supported ones', () => {
    expect(() => parseFieldSelector('spec.nodeName=x')).toThrow('field label not supported: spec.nodeName (supported: metadata.name, metadata.namespace)');
  });
});

describe('resource-specific field selectors', () => {
  it('selects events by their involved object, as kubectl describe does', () => {
    const event = { metadata: { name: 'e', namespace: 'n' }, involvedObject: { kind: 'NodeWorkload', name: 'web', uid: 'u1' } };
    const reqs = parseFieldSelector('involvedObject.name=web,involvedObject.kind=NodeWorkload,involvedObject.uid=u1', ['involvedObject.name', 'involvedObject.kind', 'involvedObject.uid']);
    expect(matchesFields(reqs, event)).toBe(true);
    expect(matchesFields(parseFieldSelector('involvedObject.name!=web', ['involvedObject.name']), event)).toBe(false);
    expect(() => parseFieldSelector('involvedObject.name=web')).toThrow(/field label not supported: involvedObject.name/);
  });
});
