import { formatCidr, isCidr, overlaps, parseCidr, subnet } from "../../constructs/lib/cidr";
import { subnetLayout } from "../../constructs/aws/network";

describe("CIDR arithmetic", () => {
  it.each(["10.0.0.0/16", "192.168.0.0/24", "0.0.0.0/0", "10.1.2.3/32"])("accepts %s", (text) => {
    expect(isCidr(text)).toBe(true);
    expect(formatCidr(parseCidr(text)!)).toBe(text);
  });

  it.each(["10.0.0.0", "10.0.0.0/33", "256.0.0.0/8", "10.0.0.1/16", "ten/8", "10.0.0.0/-1"])(
    "rejects %s",
    (text) => {
      expect(isCidr(text)).toBe(false);
    },
  );

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
