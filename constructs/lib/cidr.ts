/**
 * IPv4 CIDR arithmetic, done in TypeScript so subnet layouts are visible in the synthesized
 * JSON (and reviewable in snapshot diffs) instead of hidden behind Terraform's `cidrsubnet`.
 */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns undefined for anything malformed or with host bits set. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  if ((address & hostMask(prefix)) !== 0) return undefined;
  return { network: address, prefix };
}

/** True when `text` parses, has no host bits set and `prefix` is a whole number 0..32. */
export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const n = cidr.network;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${cidr.prefix}`;
}

function hostMask(prefix: number): number {
  return prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1) >>> 0;
}

/** Same as Terraform's `cidrsubnet(base, newbits, netnum)`. */
export function subnet(base: Ipv4Cidr, newBits: number, netNum: number): Ipv4Cidr {
  const prefix = base.prefix + newBits;
  if (prefix > 32) throw new Error(`cannot add ${newBits} bits to a /${base.prefix}`);
  if (netNum < 0 || netNum >= 2 ** newBits) {
    throw new Error(`subnet number ${netNum} does not fit in ${newBits} bits`);
  }
  return { network: (base.network + netNum * 2 ** (32 - prefix)) >>> 0, prefix };
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.network + 2 ** (32 - a.prefix) - 1;
  const bEnd = b.network + 2 ** (32 - b.prefix) - 1;
  return a.network <= bEnd && b.network <= aEnd;
}
