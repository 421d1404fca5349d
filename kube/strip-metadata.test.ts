import { describe, expect, it } from '@jest/globals';
import { LAST_APPLIED_ANNOTATION, stripUnreadMetadata } from './strip-metadata.js';
import type { KubeObject } from './types.js';

describe('stripUnreadMetadata', () => {
  it('drops managedFields and the last-applied annotation, and keeps every other field', () => {
    const obj = {
      metadata: {
        name: 'a',
        namespace: 'ns',
        uid: 'u1',
        resourceVersion: '7',
        labels: { app: 'x' },
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":true}', 'shopfloor.dev/replaced-at': '2026-01-01T00:00:00Z' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      spec: { nodeName: 'n1' },
    };
    expect(stripUnreadMetadata(obj)).toEqual({
      metadata: { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '7', labels: { app: 'x' }, annotations: { 'shopfloor.dev/replaced-at': '2026-01-01T00:00:00Z' } },
      spec: { nodeName: 'n1' },
    });
  });

  it('removes an annotations map that held only the last-applied configuration', () => {
    const obj: KubeObject = { metadata: { name: 'a', annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } } };
    expect(stripUnreadMetadata(obj)).toEqual({ metadata: { name: 'a' } });
  });

  it('leaves an object without metadata alone', () => {
    expect(stripUnreadMetadata({ kind: 'X' })).toEqual({ kind: 'X' });
  });
});
