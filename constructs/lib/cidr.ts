/**
 * IPv4 ranges: parsing and classification by `ipaddr.js`, subnet arithmetic here, so subnet
 * layouts are visible in the synthesized JSON (and reviewable in snapshot diffs) instead of
 * hidden behind Terraform's `cidrsubnet`.
 */
import ipaddr from "ipaddr.js";

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

/** ipaddr.js's table of special-purpose IPv4 blocks, by kind. */
const SPECIAL_RANGES = (
  ipaddr.IPv4.prototype as unknown as {
    SpecialRanges: Record<string, [ipaddr.IPv4, number] | [ipaddr.IPv4, number][]>;
  }
).SpecialRanges;

/** The prefix length: 0 to 32, no sign and no leading zero. */
const PREFIX = /^(0|[1-9]\d?)$/;

function toNumber(address: ipaddr.IPv4): number {
  return address.toByteArray().reduce((sum, octet) => sum * 256 + octet, 0);
}

function toAddress(value: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
}

/**
 * Parses `a.b.c.d/n` written in plain decimal (no leading zeros, which some tools read as
 * octal); returns undefined for anything malformed or with host bits set.
 */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || !PREFIX.test(text.slice(slash + 1))) return undefined;
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return undefined;
  const [address, prefix] = ipaddr.IPv4.parseCIDR(text);
  if (prefix > 32) return undefined;
  if (ipaddr.IPv4.networkAddressFromCIDR(text).toString() !== address.toString()) return undefined;
  return { network: toNumber(address), prefix };
}

/** True when `text` parses, has no host bits set and `prefix` is a whole number 0..32. */
export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${toAddress(cidr.network).toString()}/${cidr.prefix}`;
}

function lastAddress(cidr: Ipv4Cidr): number {
  return cidr.network + 2 ** (32 - cidr.prefix) - 1;
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
  return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** True when every address of `inner` lies in `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return outer.network <= inner.network && lastAddress(inner) <= lastAddress(outer);
}

/**
 * What a range's addresses are, in ipaddr.js's terms: `private` (RFC 1918), `carrierGradeNat`
 * (RFC 6598), `linkLocal`, `loopback`, `multicast`, `reserved`, `unspecified`, `broadcast`,
 * `unicast` (public)...; `mixed` when the range starts and ends in different kinds.
 */
export function rangeKind(cidr: Ipv4Cidr): string {
  const first = toAddress(cidr.network).range();
  const last = toAddress(lastAddress(cidr)).range();
  if (first !== last) return "mixed";
  // A block of another kind strictly inside the range (172.16.0.0/12 inside 172.0.0.0/8).
  for (const [kind, blocks] of Object.entries(SPECIAL_RANGES)) {
    const list = (Array.isArray(blocks[0]) ? blocks : [blocks]) as [ipaddr.IPv4, number][];
    for (const [address, prefix] of list) {
      const block = { network: toNumber(address), prefix };
      if (kind !== first && overlaps(block, cidr) && !contains(block, cidr)) return "mixed";
    }
  }
  return first;
}

/** Number of addresses the ranges cover together (overlaps counted once). */
export function addressCount(ranges: readonly Ipv4Cidr[]): number {
  const sorted = [...ranges].sort((a, b) => a.network - b.network);
  let count = 0;
  let reached = -1;
  for (const range of sorted) {
    const end = lastAddress(range);
    if (end <= reached) continue;
    count += end - Math.max(range.network, reached + 1) + 1;
    reached = end;
  }
  return count;
}

/**
 * The first usable address of a range: the address Kubernetes gives the `kubernetes` Service
 * in `default` when the range is the cluster's service range.
 */
export function firstHostAddress(text: string): string {
  const cidr = parseCidr(text);
  if (!cidr || cidr.prefix > 30) throw new Error(`${text} is not an IPv4 range with host addresses`);
  return toAddress(cidr.network + 1).toString();
}

/**
 * Shell-style patterns (as Python's fnmatch reads them) that match exactly the addresses of a
 * range, with or without a `:port` suffix: `10.10.*` for 10.10.0.0/16, and one pattern per
 * covered octet value where the prefix is not a multiple of 8 (10.0.0.0/20 gives 16).
 */
export function hostPatterns(text: string): string[] {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`${text} is not an IPv4 range such as 10.0.0.0/16`);
  if (cidr.prefix < 8) throw new Error(`${text} is wider than a /8; give narrower ranges`);
  const whole = Math.floor(cidr.prefix / 8);
  const octets = toAddress(cidr.network).toByteArray();
  if (whole === 4) {
    const host = toAddress(cidr.network).toString();
    return [host, `${host}:*`];
  }
  const fixed = octets.slice(0, whole);
  const spare = cidr.prefix - whole * 8;
  if (spare === 0) return [`${fixed.join(".")}.*`];
  const count = 2 ** (8 - spare);
  return Array.from({ length: count }, (_, i) => `${[...fixed, octets[whole] + i].join(".")}.*`);
}
