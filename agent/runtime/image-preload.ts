// Puts local image archives into containerd before any pod needs them, so that nodes without a
// reachable registry (and the sandbox image) work: every `*.tar` of a directory is imported into
// the `k8s.io` namespace, where containerd's CRI plugin keeps its images.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../kube/logger.js';
import { runChecked, type Runner } from '../exec.js';

export interface PreloadResult {
  /** Archives imported, with the image names ctr reported for each. */
  imported: { file: string; images: string[] }[];
  /** Archives (or the directory itself) that could not be imported, with why. */
  failed: { file: string; error: string }[];
}

export interface PreloadOptions {
  /** containerd's gRPC socket path (no unix:// prefix). */
  socketPath: string;
  dir: string;
  logger: Logger;
  run: Runner;
}

/**
 * Imports every `*.tar` in `dir`, in name order, one after another. A failure is logged and
 * counted, never thrown: one bad archive must not keep the node from running the other images.
 */
export async function preloadImages(o: PreloadOptions): Promise<PreloadResult> {
  const result: PreloadResult = { imported: [], failed: [] };
  let files: string[];
  try {
    const names = (await readdir(o.dir)).filter((name) => name.endsWith('.tar')).sort();
    // stat, not the dirent: an archive may be a symlink (as the files of a mounted ConfigMap are).
    const isFile = await Promise.all(names.map((name) => stat(join(o.dir, name)).then((s) => s.isFile(), () => false)));
    files = names.filter((_, i) => isFile[i]).map((name) => join(o.dir, name));
  } catch (err) {
    const error = `cannot read the image preload directory: ${(err as Error).message}`;
    o.logger.error({ dir: o.dir, err: error }, 'no images preloaded');
    result.failed.push({ file: o.dir, error });
    return result;
  }
  for (const file of files) {
    const started = Date.now();
    try {
      const out = await runChecked(o.run, 'ctr', ['--address', o.socketPath, '--connect-timeout', '5s', '-n', 'k8s.io', 'images', 'import', file]);
      const images = [...out.stdout.matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1]!);
      o.logger.info({ file, images, durationMs: Date.now() - started }, 'imported image archive');
      result.imported.push({ file, images });
    } catch (err) {
      const error = (err as Error).message;
      o.logger.error({ file, err: error }, 'could not import image archive; pods using its images will fail to start');
      result.failed.push({ file, error });
    }
  }
  return result;
}
