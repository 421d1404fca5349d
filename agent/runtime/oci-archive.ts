// An OCI image layout (image-spec v1.0) packed as one tar: the archive `ctr images import`
// reads to put a local image into containerd without any registry. Pure: bytes in, bytes out.
import { createHash } from 'node:crypto';
import { tarArchive, type TarEntry } from './tar-archive.js';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

/** The parts of the image config's `config` object that the images of this project set. */
export interface OciRunConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface OciImage {
  /** Full reference with a tag, e.g. `shopfloor.dev/busybox:test`. */
  name: string;
  /** Uncompressed layer tars, lowest first. */
  layers: readonly Buffer[];
  config: OciRunConfig;
  /** OCI architecture (`amd64`, `arm64`, ...); see ociArchitecture. */
  architecture: string;
  /** What the image's one history entry says made it. */
  createdBy: string;
}

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/** The OCI name for Node's `process.arch`; the images hold this machine's own binaries. */
export function ociArchitecture(nodeArch: string = process.arch): string {
  const known: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const arch = known[nodeArch];
  if (!arch) throw new Error(`no OCI architecture is known for Node's process.arch "${nodeArch}"; known: ${Object.keys(known).join(', ')}`);
  return arch;
}

/** The tag of `name` (after the last ':' of its last path segment); an image name must have one here. */
export function imageTag(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon >= 0 ? lastSegment.slice(colon + 1) : '';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) || name.includes('@')) {
    throw new Error(`image name "${name}" needs a tag (like registry/name:tag, no @digest) so the archive can carry it`);
  }
  return tag;
}

/** The archive of `image` as an OCI layout: oci-layout, index.json, and blobs/sha256/ with config, manifest and layers. */
export function ociImageArchive(image: OciImage): Buffer {
  const tag = imageTag(image.name);
  const blobs = new Map<string, Buffer>();
  const add = (mediaType: string, data: Buffer): OciDescriptor => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  };
  const layers = image.layers.map((layer) => add(OCI_LAYER_TAR, layer));
  const config = add(
    OCI_CONFIG,
    json({
      architecture: image.architecture,
      os: 'linux',
      config: image.config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      // A fixed date keeps the config, and with it the image ID, the same on every build.
      created: '1970-01-01T00:00:00Z',
      history: [{ created: '1970-01-01T00:00:00Z', created_by: image.createdBy }],
    }),
  );
  const manifest = add(OCI_MANIFEST, json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        ...manifest,
        platform: { architecture: image.architecture, os: 'linux' },
        annotations: { 'io.containerd.image.name': image.name, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', mode: 0o644, data: json({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', mode: 0o644, data: json(index) },
    { type: 'dir', path: 'blobs', mode: 0o755 },
    { type: 'dir', path: 'blobs/sha256', mode: 0o755 },
    ...[...blobs.keys()].sort().map((digest): TarEntry => ({ type: 'file', path: `blobs/sha256/${digest.slice('sha256:'.length)}`, mode: 0o644, data: blobs.get(digest)! })),
  ];
  return tarArchive(entries);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
