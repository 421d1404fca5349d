import { describe, expect, it } from '@jest/globals';
import { findPythonKubernetes, pythonKubernetesPlan } from './python-kubernetes.js';

describe('python3-kubernetes for the client suites', () => {
  it('says which package to install, and with which script, when the interpreter is missing', () => {
    const found = findPythonKubernetes('/nonexistent/python3');
    expect(found).toEqual({ missing: expect.stringMatching(/^\/nonexistent\/python3 cannot run .*install the Debian package python3-kubernetes \(bash scripts\/install-deps\.sh/) });
  });

  it('says so when the interpreter runs but cannot import the client', () => {
    // `false` stands in for a python3 without the package: it runs and exits 1.
    expect(findPythonKubernetes('/bin/false')).toEqual({ missing: expect.stringContaining('/bin/false cannot import kubernetes (exit 1): install the Debian package python3-kubernetes') });
  });

  it('fails under CI=true and skips elsewhere when the client is missing, and runs where it is there', () => {
    const missing = { missing: 'no client' };
    expect(pythonKubernetesPlan(missing, { CI: 'true' })).toEqual({ fail: 'CI=true: no client' });
    expect(pythonKubernetesPlan(missing, {})).toEqual({ skip: 'no client' });
    expect(pythonKubernetesPlan({ python: '/usr/bin/python3', version: '22.6.0' }, { CI: 'true' })).toEqual({ run: '/usr/bin/python3' });
  });
});
