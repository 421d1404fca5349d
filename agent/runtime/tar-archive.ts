// A ustar (POSIX.1-1988) archive writer for the few entry kinds an image layer and an OCI image
// archive need. Every header carries uid/gid 0 and mtime 0, so the same entries always give the
// same bytes, and with them the same layer digest.

export type TarEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

/** The archive of `entries`, in the order given, closed by the two zero blocks ustar requires. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
    const data = entry.type === 'file' ? entry.data : Buffer.alloc(0);
    parts.push(header(entry, name, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  // Names longer than the 100-byte field would need the prefix field or a pax header; nothing
  // this project archives comes close, so refusing is clearer than a second code path.
  field(h, 0, 100, name, `tar entry name "${name}"`);
  octal(h, 100, 8, entry.type === 'symlink' ? 0o777 : entry.mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.fill(' ', 148, 156);
  h.write(entry.type === 'file' ? '0' : entry.type === 'symlink' ? '2' : '5', 156, 'ascii');
  if (entry.type === 'symlink') field(h, 157, 100, entry.target, `symlink target "${entry.target}" of ${name}`);
  h.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return h;
}

function field(h: Buffer, offset: number, length: number, value: string, what: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0 || bytes.length > length) throw new Error(`${what} must be 1 to ${length} bytes long, it is ${bytes.length}`);
  bytes.copy(h, offset);
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar header value ${value} does not fit ${length - 1} octal digits`);
  h.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, 'ascii');
}
