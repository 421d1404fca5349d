import { describe, expect, it } from '@jest/globals';
import { configVersionFor, crunProblem, parseContainerdVersion } from './containerd-version.js';

describe('parseContainerdVersion', () => {
  it('reads Debian\'s containerd 1.6 and a containerd 2 built from its Go module', () => {
    expect(parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n', 'containerd')).toEqual({ major: 1, minor: 6, patch: 20, text: '1.6.20~ds1' });
    expect(parseContainerdVersion('containerd github.com/containerd/containerd/v2 v2.4.2 \n', '/opt/bin/containerd')).toEqual({ major: 2, minor: 4, patch: 2, text: 'v2.4.2' });
  });

  it('names the binary and what it printed when that is not containerd\'s version line', () => {
    expect(() => parseContainerdVersion('false (GNU coreutils) 9.1\n', '/bin/false')).toThrow('/bin/false --version printed "false (GNU coreutils) 9.1", not "containerd <module> <version> ...": is /bin/false containerd?');
    expect(() => parseContainerdVersion('', 'x')).toThrow('x --version printed "(nothing)"');
  });
});

describe('configVersionFor', () => {
  const v = (text: string) => parseContainerdVersion(`containerd github.com/containerd/containerd ${text} x`, 'containerd');

  it('writes version 2 for containerd 1.x and version 3 from 2.1 on', () => {
    expect(configVersionFor(v('1.6.20'), 'containerd')).toBe(2);
    expect(configVersionFor(v('1.7.24'), 'containerd')).toBe(2);
    expect(configVersionFor(v('v2.1.0'), 'containerd')).toBe(3);
    expect(configVersionFor(v('v2.4.2'), 'containerd')).toBe(3);
  });

  it('refuses a containerd whose layout it does not write, saying which it runs', () => {
    expect(() => configVersionFor(v('v2.0.5'), '/opt/containerd')).toThrow('/opt/containerd is containerd v2.0.5; Shopfloor runs containerd 1.x (config version 2) or 2.1 and newer 2.x (config version 3)');
    expect(() => configVersionFor(v('v3.0.0'), 'containerd')).toThrow('containerd is containerd v3.0.0; Shopfloor runs');
  });
});

describe('crunProblem', () => {
  const containerd = (text: string) => parseContainerdVersion(`containerd github.com/containerd/containerd ${text} x`, 'containerd');
  const crun = (version: string) => `crun version ${version}\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nspec: 1.0.0\n`;

  it('lets any crun run containerd 1.x\'s containers', () => {
    expect(crunProblem(containerd('1.6.20~ds1'), crun('1.8.1'))).toBeUndefined();
  });

  it('needs crun 1.14.3 or newer for containerd 2', () => {
    expect(crunProblem(containerd('v2.4.2'), crun('1.8.1'))).toBe('crun 1.8.1 refuses the OCI runtime-spec versions containerd v2.4.2 writes; containerd 2 needs crun 1.14.3 or newer');
    expect(crunProblem(containerd('v2.4.2'), crun('1.14'))).toMatch(/^crun 1\.14\.0 refuses/);
    for (const ok of ['1.14.3', '1.15', '1.29.1', '2.0']) expect(crunProblem(containerd('v2.4.2'), crun(ok))).toBeUndefined();
    expect(crunProblem(containerd('v2.4.2'), 'something else')).toBe('crun --version printed "something else", not "crun version <version>"');
  });
});
