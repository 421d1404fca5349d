// The host side of a pod's volumes: an emptyDir is a directory of the agent's (a tmpfs for
// medium Memory) that lives as long as the pod, and survives its containers' restarts; a
// hostPath is checked against its type, or created for the *OrCreate types.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryBytes, type Template } from '../../api/index.js';
import { runChecked, type Runner } from '../exec.js';

/** A volume that cannot be prepared; the message names the volume and what to fix. */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
}

export class PodVolumes {
  constructor(
    /** `<dataDir>/pods`: one directory per pod uid. */
    private readonly podsDir: string,
    private readonly run: Runner,
  ) {}

  podDir(uid: string): string {
    return join(this.podsDir, uid);
  }

  /** Makes every volume of the template ready; returns each volume's host path by name. */
  async prepare(uid: string, template: Template): Promise<Map<string, string>> {
    const paths = new Map<string, string>();
    for (const v of template.volumes ?? []) {
      if (v.emptyDir) {
        const path = join(this.podDir(uid), 'volumes', 'empty-dir', v.name);
        await mkdir(path, { recursive: true, mode: 0o777 });
        if (v.emptyDir.medium === 'Memory' && !(await this.isMountPoint(path))) {
          const size = v.emptyDir.sizeLimit !== undefined ? [`-o`, `size=${memoryBytes(v.emptyDir.sizeLimit)}`] : [];
          await runChecked(this.run, 'mount', ['-t', 'tmpfs', ...size, 'tmpfs', path]);
        }
        paths.set(v.name, path);
      } else if (v.hostPath) {
        await checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? '');
        paths.set(v.name, v.hostPath.path);
      }
    }
    return paths;
  }

  /** Unmounts and removes everything the pod's volumes held. */
  async remove(uid: string): Promise<void> {
    const dir = this.podDir(uid);
    for (const mountPoint of await this.mountsUnder(dir)) await runChecked(this.run, 'umount', ['-l', mountPoint]);
    await rm(dir, { recursive: true, force: true });
  }

  private async isMountPoint(path: string): Promise<boolean> {
    return (await this.mountsUnder(path)).includes(path);
  }

  private async mountsUnder(dir: string): Promise<string[]> {
    const text = await readFile('/proc/self/mountinfo', 'utf8');
    // Field 5 is the mount point, with spaces and the like octal-escaped.
    return text
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
      .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
      .sort((a, b) => b.length - a.length);
  }
}

async function kindOf(path: string): Promise<'directory' | 'file' | 'other' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

async function checkHostPath(volume: string, path: string, type: string): Promise<void> {
  const kind = await kindOf(path);
  const fail = (what: string): never => {
    throw new VolumeError(`volume "${volume}": hostPath ${path} ${what}`);
  };
  switch (type) {
    case 'Directory':
      if (kind !== 'directory') fail(kind ? 'is not a directory (type Directory)' : 'does not exist (type Directory); create it, or use DirectoryOrCreate');
      return;
    case 'DirectoryOrCreate':
      if (!kind) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (kind !== 'directory') fail('exists and is not a directory (type DirectoryOrCreate)');
      return;
    case 'File':
      if (kind !== 'file') fail(kind ? 'is not a regular file (type File)' : 'does not exist (type File); create it, or use FileOrCreate');
      return;
    case 'FileOrCreate':
      if (!kind) await writeFile(path, '', { flag: 'wx', mode: 0o644 }).catch((err: Error) => fail(`cannot be created: ${err.message}`));
      else if (kind !== 'file') fail('exists and is not a regular file (type FileOrCreate)');
      return;
    default:
      return;
  }
}
