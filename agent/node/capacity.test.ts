import { describe, expect, it } from '@jest/globals';
import { allocatableOf, capacityOf, cfsQuotaMillis, cgroupPath, cpuMaxMillis, formatCpu, formatMemory, memTotalBytes } from './capacity.js';

describe('memTotalBytes', () => {
  it('reads MemTotal in kB as bytes', () => {
    expect(memTotalBytes('MemTotal:       24683664 kB\nMemFree:         1000 kB\n')).toBe(24683664 * 1024);
  });

  it('names the file when MemTotal is missing', () => {
    expect(() => memTotalBytes('MemFree: 1 kB\n')).toThrow(/\/proc\/meminfo has no "MemTotal/);
  });
});

describe('cgroup CPU limits', () => {
  it('reads a v2 cpu.max: unlimited, whole and fractional CPUs', () => {
    expect(cpuMaxMillis('max 100000\n')).toBeUndefined();
    expect(cpuMaxMillis('200000 100000\n')).toBe(2000);
    expect(cpuMaxMillis('150000 100000')).toBe(1500);
  });

  it('reads a v1 CFS quota, where -1 means none', () => {
    expect(cfsQuotaMillis('-1\n', '100000\n')).toBeUndefined();
    expect(cfsQuotaMillis('50000\n', '100000\n')).toBe(500);
    expect(cfsQuotaMillis('', '100000')).toBeUndefined();
  });

  it('finds the cgroup of a v1 controller and the unified path in /proc/self/cgroup', () => {
    const text = '9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/agent\n0::/unified-path\n';
    expect(cgroupPath(text, 'cpu')).toBe('/agent');
    expect(cgroupPath(text, 'memory')).toBe('/a/b');
    expect(cgroupPath(text, '')).toBe('/unified-path');
    expect(cgroupPath('1:cpu:/\n', '')).toBeUndefined();
  });
});

describe('quantities', () => {
  it('writes CPUs as cores when whole, else millicores', () => {
    expect(formatCpu(2000)).toBe('2');
    expect(formatCpu(1500)).toBe('1500m');
    expect(formatCpu(0)).toBe('0');
  });

  it('writes memory with the largest binary suffix that divides it', () => {
    expect(formatMemory(24683664 * 1024)).toBe('24683664Ki');
    expect(formatMemory(24564 * 2 ** 20)).toBe('24564Mi');
    expect(formatMemory(8 * 2 ** 30)).toBe('8Gi');
    expect(formatMemory(1000)).toBe('1000');
    expect(formatMemory(-5)).toBe('0');
  });
});

describe('capacityOf', () => {
  it('takes the cores, or the cgroup limit when it is smaller', () => {
    expect(capacityOf({ cores: 4, memTotalBytes: 2 ** 30, pods: 110 })).toEqual({ cpu: '4', memory: '1Gi', pods: 110 });
    expect(capacityOf({ cores: 4, cgroupCpuMillis: 1500, memTotalBytes: 2 ** 30, pods: 110 }).cpu).toBe('1500m');
    expect(capacityOf({ cores: 2, cgroupCpuMillis: 8000, memTotalBytes: 2 ** 30, pods: 110 }).cpu).toBe('2');
  });
});

describe('allocatableOf', () => {
  const capacity = { cpu: '4', memory: '8Gi', pods: 110 };

  it('is the capacity when nothing is reserved', () => {
    expect(allocatableOf(capacity)).toEqual(capacity);
  });

  it('subtracts the reservation of each resource', () => {
    expect(allocatableOf(capacity, { cpu: '500m', memory: '512Mi', pods: 10 })).toEqual({ cpu: '3500m', memory: '7680Mi', pods: 100 });
  });

  it('never goes below zero', () => {
    expect(allocatableOf(capacity, { cpu: '8', memory: '16Gi', pods: 500 })).toEqual({ cpu: '0', memory: '0', pods: 0 });
  });

  it('names a reservation that is not a quantity', () => {
    expect(() => allocatableOf(capacity, { memory: 'lots' })).toThrow(/invalid memory quantity "lots"/);
  });
});
