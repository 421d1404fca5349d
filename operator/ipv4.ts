// IPv4 ranges as the operator hands addresses out of them: service VIPs and nodes' pod ranges.

export interface Cidr {
  text: string;
  /** First address as an unsigned 32-bit number. */
  base: number;
  size: number;
}

export function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.250.0.0/16" (a range of `what`); throws an error saying what is wrong and what is allowed. */
export function parseCidr(text: string, what = 'VIP range', example = '10.250.0.0/16'): Cidr {
  const help = `expected an IPv4 range such as ${example} with a prefix from 8 to 30`;
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = m ? ipToNumber(m[1] as string) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 8 && prefix <= 30)) throw new Error(`invalid ${what} "${text}": ${help}`);
  const size = 2 ** (32 - prefix);
  if (ip % size !== 0) throw new Error(`invalid ${what} "${text}": ${numberToIp(ip)} is not the first address of a /${prefix} (did you mean ${numberToIp(ip - (ip % size))}/${prefix}?)`);
  return { text: `${numberToIp(ip)}/${prefix}`, base: ip, size };
}
