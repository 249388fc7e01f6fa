import {
  addressCount,
  contains,
  firstHostAddress,
  formatCidr,
  hostPatterns,
  isCidr,
  overlaps,
  parseCidr,
  rangeKind,
  subnet,
} from "../../constructs/lib/cidr";
import { subnetLayout } from "../../constructs/aws/network";

describe("CIDR arithmetic", () => {
  it.each(["10.0.0.0/16", "192.168.0.0/24", "0.0.0.0/0", "10.1.2.3/32"])("accepts %s", (text) => {
    expect(isCidr(text)).toBe(true);
    expect(formatCidr(parseCidr(text)!)).toBe(text);
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/33",
    "256.0.0.0/8",
    "10.0.0.1/16",
    "ten/8",
    "10.0.0.0/-1",
    "010.20.0.0/16",
    "10.020.0.0/16",
    "10.20.0.0/016",
    "10.20.0.0/16 ",
    "0x0a.0.0.0/8",
    "10.20/16",
  ])("rejects %s", (text) => {
    expect(isCidr(text)).toBe(false);
  });

  it("computes subnets like Terraform's cidrsubnet", () => {
    const vpc = parseCidr("10.20.0.0/16")!;
    expect(formatCidr(subnet(vpc, 3, 0))).toBe("10.20.0.0/19");
    expect(formatCidr(subnet(vpc, 3, 7))).toBe("10.20.224.0/19");
    expect(formatCidr(subnet(vpc, 8, 255))).toBe("10.20.255.0/24");
  });

  it("fails on a subnet number that does not fit", () => {
    expect(() => subnet(parseCidr("10.20.0.0/16")!, 3, 8)).toThrow("subnet number 8 does not fit in 3 bits");
    expect(() => subnet(parseCidr("10.20.0.0/30")!, 3, 0)).toThrow("cannot add 3 bits to a /30");
  });

  it("tells whether one range holds another", () => {
    expect(contains(parseCidr("10.0.0.0/8")!, parseCidr("10.20.0.0/16")!)).toBe(true);
    expect(contains(parseCidr("10.20.0.0/16")!, parseCidr("10.0.0.0/8")!)).toBe(false);
    expect(contains(parseCidr("172.16.0.0/12")!, parseCidr("172.32.0.0/16")!)).toBe(false);
  });

  it.each([
    ["10.20.0.0/16", "private"],
    ["192.168.0.0/20", "private"],
    ["169.254.0.0/16", "linkLocal"],
    ["100.64.0.0/16", "carrierGradeNat"],
    ["127.0.0.0/16", "loopback"],
    ["224.0.0.0/16", "multicast"],
    ["240.0.0.0/16", "reserved"],
    ["0.0.0.0/16", "unspecified"],
    ["203.0.113.0/24", "reserved"],
    ["52.94.0.0/16", "unicast"],
    ["0.0.0.0/1", "mixed"],
    ["172.0.0.0/8", "mixed"],
  ])("classifies %s as %s", (range, kind) => {
    expect(rangeKind(parseCidr(range)!)).toBe(kind);
  });

  it("counts the addresses ranges cover together, overlaps once", () => {
    const count = (...ranges: string[]) => addressCount(ranges.map((r) => parseCidr(r)!));
    expect(count("0.0.0.0/1", "128.0.0.0/1")).toBe(2 ** 32);
    expect(count("10.0.0.0/16", "10.0.0.0/24", "10.1.0.0/16")).toBe(2 * 65536);
    expect(count()).toBe(0);
  });

  it("detects overlap", () => {
    expect(overlaps(parseCidr("10.0.0.0/16")!, parseCidr("10.0.128.0/20")!)).toBe(true);
    expect(overlaps(parseCidr("10.0.0.0/16")!, parseCidr("10.1.0.0/16")!)).toBe(false);
  });
});

describe("subnetLayout", () => {
  it("gives each AZ an eighth of the VPC privately and a small public subnet from the last eighth", () => {
    expect(subnetLayout("10.20.0.0/16", 2)).toEqual({
      privateCidrs: ["10.20.0.0/19", "10.20.32.0/19"],
      publicCidrs: ["10.20.224.0/22", "10.20.228.0/22"],
    });
  });

  it("fits six AZs into a /20", () => {
    const layout = subnetLayout("10.20.0.0/20", 6);
    expect(layout.privateCidrs[5]).toBe("10.20.10.0/23");
    expect(layout.publicCidrs[5]).toBe("10.20.15.64/26");
  });

  it("fails on a VPC smaller than /20", () => {
    expect(() => subnetLayout("10.20.0.0/24", 3)).toThrow(
      'Network: cidr "10.20.0.0/24" must be an IPv4 /16 to /20 block',
    );
  });

  it.each([1, 7, 2.5])("fails on azCount %s", (azCount) => {
    expect(() => subnetLayout("10.20.0.0/16", azCount)).toThrow(
      `Network: azCount (${azCount}) must be a whole number from 2 to 6`,
    );
  });
});

describe("addresses of a range", () => {
  it.each([
    ["172.20.0.0/16", "172.20.0.1"],
    ["10.100.0.0/16", "10.100.0.1"],
    ["192.168.128.0/20", "192.168.128.1"],
  ])("the kubernetes Service of service range %s is %s", (range, address) => {
    expect(firstHostAddress(range)).toBe(address);
  });

  it("refuses a range without host addresses", () => {
    expect(() => firstHostAddress("10.0.0.0/31")).toThrow(
      "10.0.0.0/31 is not an IPv4 range with host addresses",
    );
  });

  /** Python's fnmatch for the patterns hostPatterns makes: `*` only. */
  const fnmatch = (text: string, pattern: string) =>
    new RegExp(`^${pattern.replace(/\./g, "\\.").replace(/\*/g, ".*")}$`).test(text);
  const admitted = (range: string, host: string) => hostPatterns(range).some((p) => fnmatch(host, p));

  it.each([
    ["10.10.0.0/16", ["10.10.0.7:5000", "10.10.255.254"], ["10.11.0.1:5000", "110.10.0.1"]],
    ["10.0.0.0/20", ["10.0.0.1:5000", "10.0.15.200:5000"], ["10.0.16.1:5000", "10.0.160.1"]],
    ["10.0.0.0/8", ["10.200.3.4:9090"], ["11.0.0.1"]],
    ["192.168.1.0/24", ["192.168.1.9:5000"], ["192.168.2.9:5000"]],
    ["192.168.1.9/32", ["192.168.1.9:5000", "192.168.1.9"], ["192.168.1.90:5000"]],
  ])("patterns of %s admit the range's hosts and nothing outside it", (range, inside, outside) => {
    for (const host of inside) expect(admitted(range, host)).toBe(true);
    for (const host of outside) expect(admitted(range, host)).toBe(false);
  });

  it("gives one pattern per octet value below an octet boundary", () => {
    expect(hostPatterns("10.0.0.0/20")).toHaveLength(16);
    expect(hostPatterns("10.10.0.0/16")).toEqual(["10.10.*"]);
  });

  it("refuses ranges wider than a /8", () => {
    expect(() => hostPatterns("10.0.0.0/7")).toThrow("wider than a /8");
  });
});
