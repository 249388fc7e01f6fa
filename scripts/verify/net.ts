/** IPv4 addresses and CIDR blocks, as NetworkPolicy `ipBlock` peers use them. */

export function parseAddress(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function parseBlock(text: string): { base: number; size: number } | undefined {
  const [address, bits] = text.split("/");
  const base = parseAddress(address);
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: base - (base % size), size };
}

/** Whether an address lies in a CIDR block. */
export function inBlock(address: string, block: string): boolean {
  const a = parseAddress(address);
  const b = parseBlock(block);
  return a !== undefined && b !== undefined && a >= b.base && a < b.base + b.size;
}

/** The first usable address of a block (the `kubernetes` Service IP of a service CIDR). */
export function firstAddress(block: string): string {
  return hostInCidr(block, 1);
}

/** An address inside a block: the address itself for a /32, the first usable one otherwise. */
export function someAddressIn(block: string): string {
  const b = parseBlock(block);
  return hostInCidr(block, b && b.size === 1 ? 0 : 1);
}

/** The n-th address of a block. */
export function hostInCidr(block: string, n: number): string {
  const b = parseBlock(block);
  if (!b || n >= b.size) throw new Error(`${block} has no address number ${n}`);
  return formatAddress(b.base + n);
}
