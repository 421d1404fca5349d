import { describe, expect, it } from '@jest/globals';
import type { Template } from './template.js';
import { templateRevision } from './revision.js';

const base: Template = {
  containers: [{ name: 'web', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', args: ['httpd', '-f'] }],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
};

describe('templateRevision', () => {
  it('is short and made of characters allowed in names and label values', () => {
    expect(templateRevision(base)).toMatch(/^[0-9a-f]{10}$/);
  });

  it('does not depend on key order or undefined members', () => {
    const reordered = { terminationGracePeriodSeconds: 30, restartPolicy: 'Always', labels: undefined, containers: [{ args: ['httpd', '-f'], imagePullPolicy: 'IfNotPresent', image: 'busybox:1.36', name: 'web' }] };
    expect(templateRevision(reordered as Template)).toBe(templateRevision(base));
  });

  it.each<[string, Template]>([
    ['the image', { ...base, containers: [{ ...base.containers[0]!, image: 'busybox:1.37' }] }],
    ['argument order', { ...base, containers: [{ ...base.containers[0]!, args: ['-f', 'httpd'] }] }],
    ['labels', { ...base, labels: { tier: 'web' } }],
    ['the grace period', { ...base, terminationGracePeriodSeconds: 5 }],
  ])('changes with %s', (_what, changed) => {
    expect(templateRevision(changed)).not.toBe(templateRevision(base));
  });

  it('is the same across calls (stable)', () => {
    expect(templateRevision(structuredClone(base))).toBe(templateRevision(base));
  });
});
