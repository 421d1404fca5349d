import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, imageTag, ociArchitecture, ociImageArchive, type OciDescriptor } from './oci-archive.js';
import { tarArchive } from './tar-archive.js';

/** The regular files of a ustar archive, by name (the writer's own format; enough to inspect it). */
function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    if (String.fromCharCode(h[156]!) === '0') files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layer = tarArchive([{ type: 'file', path: 'hello', mode: 0o644, data: Buffer.from('hi') }]);
const image = { name: 'shopfloor.dev/x/y:v1', layers: [layer], config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, architecture: 'amd64', createdBy: 'a test' };

describe('ociImageArchive', () => {
  it('writes an OCI layout whose index names the image and whose blobs match their digests', () => {
    const files = readTar(ociImageArchive(image));
    expect(JSON.parse(files.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: OciDescriptor[] };
    expect(index.manifests).toHaveLength(1);
    const m = index.manifests[0]!;
    expect(m).toMatchObject({
      mediaType: OCI_MANIFEST,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': 'shopfloor.dev/x/y:v1', 'org.opencontainers.image.ref.name': 'v1' },
    });
    const blob = (d: OciDescriptor) => {
      const b = files.get(`blobs/sha256/${d.digest.slice(7)}`)!;
      expect(sha(b)).toBe(d.digest);
      expect(b.length).toBe(d.size);
      return b;
    };
    const manifest = JSON.parse(blob(m).toString()) as { schemaVersion: number; config: OciDescriptor; layers: OciDescriptor[] };
    expect(manifest.schemaVersion).toBe(2);
    expect(manifest.config.mediaType).toBe(OCI_CONFIG);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([OCI_LAYER_TAR]);
    expect(blob(manifest.layers[0]!).equals(layer)).toBe(true);
    const config = JSON.parse(blob(manifest.config).toString()) as Record<string, unknown>;
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } });
  });

  it('is reproducible', () => {
    expect(sha(ociImageArchive(image))).toBe(sha(ociImageArchive({ ...image })));
  });

  it('needs a tag in the image name', () => {
    expect(imageTag('localhost:5000/a/b:c')).toBe('c');
    expect(() => imageTag('localhost:5000/a/b')).toThrow('image name "localhost:5000/a/b" needs a tag');
    expect(() => ociImageArchive({ ...image, name: 'a@sha256:00' })).toThrow(/needs a tag/);
  });

  it('maps Node architectures to OCI ones and names an unknown one', () => {
    expect(ociArchitecture('x64')).toBe('amd64');
    expect(ociArchitecture('arm64')).toBe('arm64');
    expect(() => ociArchitecture('mips')).toThrow(`no OCI architecture is known for Node's process.arch "mips"`);
  });
});
