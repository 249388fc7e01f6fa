/**
 * Address ranges: plain IPv4 CIDR syntax, what kind of space a range is in, and the AWS
 * network section (VPC, the EKS public endpoint and service range).
 */
import { z } from "zod";
import { addressCount, overlaps, parseCidr, rangeKind, type Ipv4Cidr } from "../../constructs/lib/cidr";
import { fix, logRetention, wholeNumber } from "./common";

/** The service range EKS clusters of this platform get when `eks.serviceIpv4Cidr` is not set. */
export const DEFAULT_SERVICE_CIDR = "172.20.0.0/16";

/** Why `text` is not an IPv4 range in plain notation, or undefined. */
export function cidrSyntaxProblem(text: string): string | undefined {
  if (parseCidr(text)) return undefined;
  const parts = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text)?.slice(1) ?? [];
  if (parts.some((part) => part.length > 1 && part.startsWith("0")))
    return "has a number with a leading zero, which some tools read as octal: write every number in plain decimal";
  return "must be an IPv4 CIDR block such as 10.20.0.0/16 with no host bits set";
}

export const cidr = (remedy: string) =>
  z.string().superRefine((text, ctx) => {
    const problem = cidrSyntaxProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: fix(problem, remedy) });
  });

/** RFC 1918 space: what the VPC and the cluster's service range must come from. */
export const PRIVATE_SPACE = "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16";

/** What a range that is not where it should be is, in words. */
export const RANGE_KINDS: Record<string, string> = {
  private: "private (RFC 1918) space",
  linkLocal: "link-local space (169.254.0.0/16, where instance metadata and the VPC DNS live)",
  carrierGradeNat: "carrier-grade NAT space (100.64.0.0/10)",
  loopback: "loopback space (127.0.0.0/8)",
  multicast: "multicast space (224.0.0.0/4)",
  reserved: "reserved space (IANA special-purpose or documentation ranges)",
  unspecified: "the unspecified block 0.0.0.0/8",
  broadcast: "the broadcast address",
  benchmarking: "benchmarking space (198.18.0.0/15)",
  unicast: "public address space",
  mixed: "a range that spans several kinds of address space",
};
export const describeRange = (range: Ipv4Cidr): string => RANGE_KINDS[rangeKind(range)] ?? rangeKind(range);

/** RFC 5737's documentation ranges: placeholders no client egresses from. */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] as const;

/** The documentation range `text` lies in, if any (a wider block is judged by its other rules). */
export function documentationRangeOf(text: string): string | undefined {
  const parsed = parseCidr(text);
  if (parsed === undefined) return undefined;
  return DOCUMENTATION_RANGES.find((range) => {
    const documentation = parseCidr(range)!;
    return parsed.prefix >= documentation.prefix && overlaps(parsed, documentation);
  });
}

/** A service range that does not overlap the VPC. */
export function serviceRangeSuggestion(vpc: Ipv4Cidr): string {
  const candidates = [DEFAULT_SERVICE_CIDR, "10.100.0.0/16", "192.168.0.0/16"];
  return candidates.find((text) => !overlaps(parseCidr(text)!, vpc)) ?? DEFAULT_SERVICE_CIDR;
}

export const awsNetworkSchema = z.strictObject({
  vpcCidr: cidr("use a private range between /16 and /20, e.g. 10.20.0.0/16")
    .describe(
      "private (RFC 1918) IPv4 /16 to /20 in plain decimal, no host bits; overlaps no other environment's VPC nor eks.serviceIpv4Cidr",
    )
    .superRefine((text, ctx) => {
      const parsed = parseCidr(text);
      if (parsed === undefined) return;
      if (parsed.prefix < 16 || parsed.prefix > 20) {
        ctx.addIssue({
          code: "custom",
          message: fix(
            "must be a /16 to /20 block",
            "use e.g. 10.20.0.0/16: pods take VPC addresses, so leave room",
          ),
        });
      } else if (rangeKind(parsed) !== "private") {
        ctx.addIssue({
          code: "custom",
          message: fix(
            `is ${describeRange(parsed)}; the VPC must come from private space (${PRIVATE_SPACE})`,
            "use a private range such as 10.20.0.0/16",
          ),
        });
      }
    }),
  /** Availability zones to spread subnets and nodes over. @default 3 */
  azCount: wholeNumber("azCount", 2, 6, "spread over 2 to 6 availability zones (3 is the default)").default(
    3,
  ),
  /** `one-per-az` survives the loss of a zone; `single` is cheaper. @default "one-per-az" */
  natGateways: z
    .enum(["single", "one-per-az"], {
      error: fix("must be single or one-per-az", "use one-per-az where uptime matters"),
    })
    .default("one-per-az"),
  /** @default 90 */
  flowLogRetentionDays: logRetention,
});

export const publicEndpointSchema = z
  .strictObject({
    enabled: z.boolean(),
    allowedCidrs: z
      .array(cidr("list the office or CI egress ranges"))
      .describe("public IPv4 ranges only (never 0.0.0.0/0, at most a /8 in all); at least one when enabled")
      .default([]),
  })
  .superRefine((endpoint, ctx) => {
    const ranges: Ipv4Cidr[] = [];
    const seen = new Set<string>();
    endpoint.allowedCidrs.forEach((block, index) => {
      const parsed = parseCidr(block);
      if (parsed === undefined) return;
      const issue = (message: string) =>
        ctx.addIssue({ code: "custom", path: ["allowedCidrs", index], input: block, message });
      if (parsed.prefix === 0) {
        issue(fix("must not open the API to the whole internet", "list only the office or CI egress ranges"));
        return;
      }
      const kind = rangeKind(parsed);
      if (
        [
          "private",
          "carrierGradeNat",
          "linkLocal",
          "loopback",
          "multicast",
          "unspecified",
          "broadcast",
        ].includes(kind)
      ) {
        issue(
          fix(
            `is ${describeRange(parsed)}, which never reaches a public endpoint (EKS refuses it)`,
            "list the public egress addresses of the office or CI; private clients use the private endpoint",
          ),
        );
        return;
      }
      if (seen.has(block)) issue(fix("is listed twice", "remove the duplicate"));
      seen.add(block);
      ranges.push(parsed);
    });
    const opened = addressCount(ranges);
    if (!ranges.some((range) => range.prefix === 0) && opened > 2 ** 24) {
      ctx.addIssue({
        code: "custom",
        path: ["allowedCidrs"],
        input: endpoint.allowedCidrs,
        message: fix(
          `together open ${opened.toLocaleString("en-US")} addresses (${((opened / 2 ** 32) * 100).toFixed(1)}% of the internet), more than a /8`,
          "list only the office or CI egress ranges, each a few addresses wide",
        ),
      });
    }
    if (endpoint.enabled && endpoint.allowedCidrs.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["allowedCidrs"],
        input: endpoint.allowedCidrs,
        message: fix(
          "must list at least one range when the public endpoint is enabled (empty means 0.0.0.0/0)",
          "list the CI and office egress ranges, or disable the public endpoint",
        ),
      });
    }
  })
  .default({ enabled: false, allowedCidrs: [] });

export const serviceRangeSchema = cidr("use a /12 to /24 block outside the VPC, e.g. 172.20.0.0/16")
  .describe("private (RFC 1918) /12 to /24 (EKS's rule), outside the VPC")
  .superRefine((text, ctx) => {
    const parsed = parseCidr(text);
    if (parsed === undefined) return;
    if (rangeKind(parsed) !== "private")
      ctx.addIssue({
        code: "custom",
        message: fix(
          `is ${describeRange(parsed)}; EKS takes service ranges only from ${PRIVATE_SPACE}`,
          "use a private block outside the VPC, e.g. 172.20.0.0/16",
        ),
      });
    else if (parsed.prefix < 12 || parsed.prefix > 24)
      ctx.addIssue({
        code: "custom",
        message: fix("must be a /12 to /24 block (EKS's limits)", "use e.g. a /16 such as 172.20.0.0/16"),
      });
  })
  .default(DEFAULT_SERVICE_CIDR);
