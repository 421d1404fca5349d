import { describe, expect, it } from '@jest/globals';
import { testApiServer } from './test-cluster.js';

describe('SHOPFLOOR_TEST_API_SERVER', () => {
  it('is the devcluster when unset or empty, and names either API server', () => {
    expect(testApiServer({})).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: '' })).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'devcluster' })).toBe('devcluster');
    expect(testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'kube-apiserver' })).toBe('kube-apiserver');
  });

  it('refuses any other value, naming the allowed ones', () => {
    expect(() => testApiServer({ SHOPFLOOR_TEST_API_SERVER: 'kind' })).toThrow('SHOPFLOOR_TEST_API_SERVER="kind" is not an API server the tests run on; use one of devcluster, kube-apiserver (default devcluster)');
  });
});
