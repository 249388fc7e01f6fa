/**
 * Bad inputs a platform engineer can write that AWS, EKS, RDS, IAM or the kubelet would refuse
 * (or accept and then misbehave): each must stop the synthesis with exit code 1 and exactly one
 * line naming the field, the value received, the rule and the fix; no stack trace; the output
 * folder left as it was. Environment files that do not load (the synthesis run as a process),
 * the output folder after a synthesis and the names of a synthesized environment are checked in
 * __tests__/integration/provider-rules.test.ts.
 */
import { chmodSync, cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { nodeLabelKeyProblem, type EnvironmentInput } from "../environments/schema";
import { promote } from "../scripts/promote";
import { HELM_VALUES_DIRECTORY } from "../stacks/helm-values";
import { contents, expectOneProblem } from "./support/failed-synthesis";
import { variant } from "./support/environment-variant";
import { fixtureReleases, releasesWith, releaseText } from "./support/release-files";

/** [what is wrong, the environments, the start of the one expected message] */
const ENVIRONMENT_INPUTS: [string, () => readonly EnvironmentInput[], string | RegExp][] = [
  // Network ranges AWS or EKS refuse or reserve
  [
    "a link-local VPC",
    () => [variant(prod, (e) => (e.network.vpcCidr = "169.254.0.0/16"))],
    'prod: network.vpcCidr = "169.254.0.0/16": is link-local space',
  ],
  [
    "a public VPC range",
    () => [variant(prod, (e) => (e.network.vpcCidr = "52.94.0.0/16"))],
    'prod: network.vpcCidr = "52.94.0.0/16": is public address space; the VPC must come from private space',
  ],
  [
    "a carrier-grade NAT VPC",
    () => [variant(prod, (e) => (e.network.vpcCidr = "100.64.0.0/16"))],
    'prod: network.vpcCidr = "100.64.0.0/16": is carrier-grade NAT space',
  ],
  [
    "a VPC written with a leading zero",
    () => [variant(prod, (e) => (e.network.vpcCidr = "010.30.0.0/16"))],
    'prod: network.vpcCidr = "010.30.0.0/16": has a number with a leading zero',
  ],
  [
    "a public service range",
    () => [variant(prod, (e) => (e.eks.serviceIpv4Cidr = "52.0.0.0/16"))],
    'prod: eks.serviceIpv4Cidr = "52.0.0.0/16": is public address space; EKS takes service ranges only from',
  ],
  [
    "a service range smaller than EKS allows",
    () => [variant(prod, (e) => (e.eks.serviceIpv4Cidr = "172.20.0.0/25"))],
    'prod: eks.serviceIpv4Cidr = "172.20.0.0/25": must be a /12 to /24 block',
  ],
  [
    "a VPC on the default service range",
    () => [variant(prod, (e) => (e.network.vpcCidr = "172.20.0.0/16"))],
    'prod: network.vpcCidr = "172.20.0.0/16": overlaps the cluster\'s service range 172.20.0.0/16 (the default',
  ],
  [
    "more AZs than the region has",
    () => [variant(prod, (e) => (e.network.azCount = 4))],
    "prod: network.azCount = 4: is more than the 3 zones eu-west-1 offers",
  ],
  [
    "the default three AZs in a two-zone region",
    () => [variant(dev, (e) => (e.aws.region = "us-west-1"))],
    "dev: network.azCount = 3: is more than the 2 zones us-west-1 offers",
  ],
  [
    "a private range on the public endpoint",
    () => [variant(dev, (e) => (e.eks.publicEndpoint.allowedCidrs = ["10.0.0.0/24"]))],
    'dev: eks.publicEndpoint.allowedCidrs[0] = "10.0.0.0/24": is private (RFC 1918) space, which never reaches a public endpoint',
  ],
  [
    "a carrier-grade NAT range on the public endpoint",
    () => [variant(dev, (e) => (e.eks.publicEndpoint.allowedCidrs = ["100.64.1.0/24"]))],
    'dev: eks.publicEndpoint.allowedCidrs[0] = "100.64.1.0/24": is carrier-grade NAT space',
  ],
  [
    "two /1s that open the whole internet",
    () => [variant(dev, (e) => (e.eks.publicEndpoint.allowedCidrs = ["0.0.0.0/1", "128.0.0.0/1"]))],
    'dev: eks.publicEndpoint.allowedCidrs = ["0.0.0.0/1","128.0.0.0/1"]: together open 4,294,967,296 addresses (100.0% of the internet)',
  ],
  // Names and identifiers the APIs reject
  [
    "a name that breaks the RDS identifier",
    () => [variant(prod, (e) => (e.name = "ml--prod"))],
    'ml--prod: name = "ml--prod": must not hold two hyphens in a row',
  ],
  [
    "an STS session as cluster admin",
    () => [
      variant(
        prod,
        (e) => (e.eks.adminPrincipalArns = ["arn:aws:sts::333333333333:assumed-role/admin/jane"]),
      ),
    ],
    'prod: eks.adminPrincipalArns[0] = "arn:aws:sts::333333333333:assumed-role/admin/jane": is an STS session',
  ],
  [
    "the same admin twice",
    () => [variant(prod, (e) => e.eks.adminPrincipalArns.push(e.eks.adminPrincipalArns[0] as string))],
    `prod: eks.adminPrincipalArns[2] = "${prod.eks.adminPrincipalArns[0]}": is listed twice`,
  ],
  [
    "an admin of another partition",
    () => [variant(prod, (e) => (e.eks.adminPrincipalArns = ["arn:aws-cn:iam::333333333333:role/admin"]))],
    'prod: eks.adminPrincipalArns[0] = "arn:aws-cn:iam::333333333333:role/admin": is in the aws-cn partition but eu-west-1 is in aws',
  ],
  [
    "a misspelt instance size",
    () => [variant(prod, (e) => (e.nodeGroups.general = { instanceTypes: ["m6i.larg"] }))],
    'prod: nodeGroups.general.instanceTypes[0] = "m6i.larg": has a size (larg) that EC2 does not use',
  ],
  [
    "a misspelt instance family",
    () => [variant(prod, (e) => (e.nodeGroups.training = { instanceTypes: ["c5.2xlarge", "c5x.2xlarge"] }))],
    'prod: nodeGroups.training.instanceTypes[1] = "c5x.2xlarge": has an instance family (c5x) that is not in the EC2 catalogue pinned on',
  ],
  [
    "a misspelt DB class size",
    () => [variant(prod, (e) => (e.database.instanceClass = "db.r6g.larg"))],
    'prod: database.instanceClass = "db.r6g.larg": has a size (larg) that db.r6g does not come in',
  ],
  [
    "a DB class RDS for PostgreSQL does not offer",
    () => [variant(prod, (e) => (e.database.instanceClass = "db.m5g.large"))],
    'prod: database.instanceClass = "db.m5g.large": has a class family (db.m5g) that RDS for PostgreSQL does not offer',
  ],
  [
    "an unknown region",
    () => [variant(dev, (e) => (e.aws.region = "eu-west-9"))],
    'dev: aws.region = "eu-west-9": is not a region of the catalogue pinned on',
  ],
  [
    "a certificate from another region",
    () => [
      variant(
        prod,
        (e) =>
          (e.platform.tlsCertificateArn = prod.platform.tlsCertificateArn!.replace("eu-west-1", "us-east-1")),
      ),
    ],
    'prod: platform.tlsCertificateArn = "arn:aws:acm:us-east-1:',
  ],
  [
    "a certificate of another account",
    () => [
      variant(
        prod,
        (e) =>
          (e.platform.tlsCertificateArn = prod.platform.tlsCertificateArn!.replace(
            "333333333333",
            "444444444444",
          )),
      ),
    ],
    'prod: platform.tlsCertificateArn = "arn:aws:acm:eu-west-1:444444444444:',
  ],
  [
    "two environments on one ECR repository",
    () => [
      dev,
      variant(staging, (e) => {
        e.aws.allowedAccountIds = ["111111111111"];
        e.registry.trainingRepository = "staging/mlops-training";
      }),
    ],
    'staging: registry.servingRepository = "mlops-serving": is dev\'s registry.servingRepository too',
  ],
  [
    "two environments on one UI domain",
    () => [dev, variant(staging, (e) => (e.platform.domain = dev.platform.domain))],
    'staging: platform.domain = "mlops.dev.example.com": is dev\'s domain too',
  ],
  [
    "an artifacts bucket that is the state bucket",
    () => [dev, variant(staging, (e) => (e.storage.artifactsBucket = e.stateBackend.bucket))],
    'staging: storage.artifactsBucket = "acme-mlops-terraform-state-staging": is the Terraform state bucket',
  ],
  [
    "a default storage ceiling beyond RDS' maximum",
    () => [
      variant(
        prod,
        (e) => ((e.database.allocatedStorageGib = 20000), delete e.database.maxAllocatedStorageGib),
      ),
    ],
    "prod: database.maxAllocatedStorageGib = missing: defaults to 5 x allocatedStorageGib = 100000 GiB, beyond the 65536 GiB RDS allows",
  ],
  [
    "a storage ceiling less than 10% above the allocation",
    () => [variant(prod, (e) => (e.database.maxAllocatedStorageGib = e.database.allocatedStorageGib))],
    "prod: database.maxAllocatedStorageGib = 100: must be at least 10% above allocatedStorageGib (100)",
  ],
  [
    "storage beyond RDS' maximum",
    () => [variant(prod, (e) => (e.database.allocatedStorageGib = 70000))],
    "prod: database.allocatedStorageGib = 70000: must be between 20 and 65536",
  ],
  // Kubernetes syntax
  [
    "a node label in the kubelet's reserved namespace",
    () => [
      variant(prod, (e) => (e.nodeGroups.general = { labels: { "node-role.kubernetes.io/ml": "true" } })),
    ],
    'prod: nodeGroups.general.labels["node-role.kubernetes.io/ml"]: key "node-role.kubernetes.io/ml" uses the reserved prefix node-role.kubernetes.io/',
  ],
  [
    "a node label the kubelet sets itself",
    () => [variant(prod, (e) => (e.nodeGroups.general = { labels: { "topology.kubernetes.io/zone": "a" } }))],
    'prod: nodeGroups.general.labels["topology.kubernetes.io/zone"]: key "topology.kubernetes.io/zone" is a label the kubelet',
  ],
  [
    "a node label key longer than EKS allows",
    () => [
      variant(prod, (e) => (e.nodeGroups.general = { labels: { [`example.com/${"a".repeat(60)}`]: "x" } })),
    ],
    `prod: nodeGroups.general.labels["example.com/${"a".repeat(60)}"]: key "example.com/${"a".repeat(60)}" is 72 characters long; EKS allows at most 63`,
  ],
  [
    "an empty node label value",
    () => [variant(prod, (e) => (e.nodeGroups.general = { labels: { team: "" } }))],
    'prod: nodeGroups.general.labels.team = "": must not be empty: EKS refuses empty node label values',
  ],
  [
    "a node label value with a space",
    () => [variant(prod, (e) => (e.nodeGroups.general = { labels: { team: "ml platform" } }))],
    'prod: nodeGroups.general.labels.team = "ml platform": must be a valid Kubernetes label value',
  ],
  [
    "a user workload label the platform would drop",
    () => [variant(prod, (e) => (e.nodeGroups.general = { labels: { workload: "batch" } }))],
    'prod: nodeGroups.general.labels.workload = "batch": is the label the platform sets to the group\'s name',
  ],
  [
    "a taint given twice",
    () => [
      variant(prod, (e) => {
        e.nodeGroups.general = {
          taints: [
            { key: "example.com/dedicated", value: "ml", effect: "NoSchedule" },
            { key: "example.com/dedicated", value: "ml", effect: "NoExecute" },
          ],
        };
      }),
    ],
    'prod: nodeGroups.general.taints[1].key = "example.com/dedicated": is the key of an earlier taint',
  ],
  [
    "a taint that repeats the GPU taint",
    () => [
      variant(prod, (e) => (e.nodeGroups.gpu = { taints: [{ key: "nvidia.com/gpu", effect: "NoExecute" }] })),
    ],
    'prod: nodeGroups.gpu.taints[0].key = "nvidia.com/gpu": is the key of the gpu group\'s own taint',
  ],
  [
    "a taint that repeats the training taint",
    () => [
      variant(
        prod,
        (e) => (e.nodeGroups.training = { taints: [{ key: "workload", value: "x", effect: "NoSchedule" }] }),
      ),
    ],
    'prod: nodeGroups.training.taints[0].key = "workload": is the key of the training group\'s own taint',
  ],
  // Tags
  [
    "a tag with the reserved aws: prefix",
    () => [variant(prod, (e) => (e.tags["aws:team"] = "ml"))],
    'prod: tags["aws:team"]: key "aws:team" uses the aws: prefix, which AWS reserves',
  ],
  [
    "more tags than a resource can carry",
    () => [
      variant(prod, (e) => {
        for (let i = 0; i < 44; i++) e.tags[`extra-${i}`] = "x";
      }),
    ],
    /^prod: tags = \{.*\.\.\.: holds 46 tags; with the 5 the platform adds \(environment, managed-by, mlops-platform\/stack, Name, workload\) that exceeds the 50 AWS allows per resource; fix: keep at most 45 tags$/,
  ],
  [
    "a tag key with a character IAM refuses",
    () => [variant(prod, (e) => (e.tags["cost#center"] = "ml"))],
    'prod: tags["cost#center"]: key "cost#center" must be an AWS tag key',
  ],
  [
    "a tag value with a character IAM refuses",
    () => [variant(prod, (e) => (e.tags.team = "ml & data"))],
    'prod: tags.team = "ml & data": may hold only letters, digits, spaces and _ . : / = + - @',
  ],
  [
    "a case variant of a tag the platform sets",
    () => [variant(prod, (e) => (e.tags.Environment = "production"))],
    'prod: tags.Environment = "production": differs only in case from the tag environment the platform sets',
  ],
  [
    "two tags that differ only in case",
    () => [variant(prod, (e) => (e.tags.Owner = "someone"))],
    'prod: tags.Owner = "someone": differs only in case from the tag owner',
  ],
  // Files
  [
    "an import that names no export in the registry",
    () => [dev, undefined as unknown as EnvironmentInput, prod],
    "environment #2: = missing: entry 2 of ENVIRONMENTS in environments/index.ts is not an environment object; fix: check the import",
  ],
];

describe("inputs the providers would refuse", () => {
  it.each(ENVIRONMENT_INPUTS)(
    "stops at %s with one line, exit 1 and nothing written",
    async (_what, registry, expected) => {
      await expectOneProblem(registry, expected);
    },
  );

  it("tests over forty of them", () => {
    expect(ENVIRONMENT_INPUTS.length + RELEASE_INPUTS.length + VALUES_INPUTS.length).toBeGreaterThanOrEqual(
      40,
    );
  });
});

/** The 1-based line of `text` holding `needle` (a release file's lines move with its chart list). */
const lineOf = (text: string, needle: string | RegExp): number =>
  text
    .split("\n")
    .findIndex((line) => (typeof needle === "string" ? line.includes(needle) : needle.test(line))) + 1;
/** The Kubeflow Pipelines version line of a release file, whatever version it names. */
const KFP_LINE = /"kubeflowPipelines": "[^"]+",/;
const prodWithTrailingComma = () => releaseText("prod").replace(/("history": \[[^\]]*\])/, "$1,");

const devWithPromotedFrom = (() => {
  const release = JSON.parse(releaseText("dev"));
  release.current.promotedFrom = "staging";
  return JSON.stringify(release, null, 2);
})();

/** [what is wrong, environment, the file's text, the start of the one expected message] */
const RELEASE_INPUTS: [string, string, () => string, string][] = [
  [
    "a key given twice (the hidden value would deploy)",
    "prod",
    () => releaseText("prod").replace(KFP_LINE, '$&\n    "kubeflowPipelines": "2.16.0",'),
    `releases/prod.json:${lineOf(releaseText("prod"), KFP_LINE) + 1}: current.kubeflowPipelines is given twice (first on line ${lineOf(releaseText("prod"), KFP_LINE)})`,
  ],
  [
    "a byte-order mark",
    "prod",
    () => `\ufeff${releaseText("prod")}`,
    "releases/prod.json:1:1: starts with a byte-order mark",
  ],
  ["a null document", "prod", () => "null\n", "releases/prod.json:1: holds null, not a release"],
  [
    "a trailing comma",
    "prod",
    prodWithTrailingComma,
    `releases/prod.json:${prodWithTrailingComma().trimEnd().split("\n").length}:1: not valid JSON: Expected double-quoted property name (a trailing comma?)`,
  ],
  [
    "an invented promotedFrom",
    "prod",
    () => releaseText("prod").replace('"promotedFrom": "staging"', '"promotedFrom": "dev"'),
    `releases/prod.json:${lineOf(releaseText("prod"), '"promotedFrom": "staging"')}: current.promotedFrom = "dev": prod takes releases only from staging`,
  ],
  [
    "a promotedFrom on the first environment",
    "dev",
    () => devWithPromotedFrom,
    `releases/dev.json:${devWithPromotedFrom.split("\n").findIndex((line) => line.includes('"promotedFrom"')) + 1}: current.promotedFrom = "staging": dev is the start of its promotion path and takes releases from nowhere; fix: remove promotedFrom`,
  ],
];

describe("release files the stacks would misread", () => {
  it.each(RELEASE_INPUTS)(
    "stops at %s with one line, exit 1 and nothing written",
    async (_what, env, text, expected) => {
      await expectOneProblem(() => ENVIRONMENTS, expected, { releasesDirectory: releasesWith(env, text()) });
    },
  );
});

/** [what is wrong, file, text, the start of the one expected message] */
const VALUES_INPUTS: [string, string, string, string][] = [
  [
    "a YAML syntax error",
    "mlflow.yaml",
    "replicaCount: 1\nresources: [1, 2\nservice: {}\n",
    "helm-values/mlflow.yaml:3:1: not valid YAML",
  ],
  [
    "a key given twice",
    "argo-cd.dev.yaml",
    "global:\n  domain: a\n  domain: b\n",
    "helm-values/argo-cd.dev.yaml:3:3: not valid YAML: Map keys must be unique",
  ],
  [
    "a list instead of a map",
    "metrics-server.yaml",
    "- a\n- b\n",
    "helm-values/metrics-server.yaml:1: holds a list",
  ],
];

describe("Helm values files that cannot be read", () => {
  it.each(VALUES_INPUTS)(
    "stops at %s with one line, exit 1 and nothing written",
    async (_what, file, text, expected) => {
      const directory = mkdtempSync(join(tmpdir(), "values-"));
      cpSync(HELM_VALUES_DIRECTORY, directory, { recursive: true });
      writeFileSync(join(directory, file), text);
      await expectOneProblem(() => ENVIRONMENTS, expected, { valuesDirectory: directory });
    },
  );
});

describe("promotion that would lose or hide a change", () => {
  // The fixture release files, in which staging always has something to promote into prod.
  const workspace = fixtureReleases;
  const NOW = new Date("2026-11-23T12:00:00Z");

  const cases: [string, (directory: string) => void, string][] = [
    [
      "a read-only target file",
      (d) => chmodSync(join(d, "prod.json"), 0o444),
      "promote: target releases/prod.json is read-only; nothing was written",
    ],
    [
      "a read-only releases folder",
      (d) => chmodSync(d, 0o555),
      "promote: the releases folder is read-only; nothing was written",
    ],
    [
      "a key given twice in the source",
      (d) =>
        writeFileSync(
          join(d, "staging.json"),
          releaseText("staging").replace(KFP_LINE, '$&\n    "kubeflowPipelines": "2.99.0",'),
        ),
      `promote: source releases/staging.json:${lineOf(releaseText("staging"), KFP_LINE) + 1}: current.kubeflowPipelines is given twice`,
    ],
    [
      "an invented promotedFrom in the source",
      (d) =>
        writeFileSync(
          join(d, "staging.json"),
          releaseText("staging").replace('"promotedFrom": "dev"', '"promotedFrom": "qa"'),
        ),
      `promote: source releases/staging.json:${lineOf(releaseText("staging"), '"promotedFrom": "dev"')}: current.promotedFrom = "qa": staging takes releases only from dev`,
    ],
  ];

  it.each(cases)("refuses %s with one line, exit 1 and every file unchanged", (_what, prepare, expected) => {
    const directory = workspace();
    prepare(directory);
    const before = contents(directory);
    const result = promote({ from: "staging", to: "prod", dryRun: false, directory, now: NOW });
    chmodSync(directory, 0o755);
    expect(result.exitCode).toBe(1);
    expect(result.output.startsWith(expected)).toBe(true);
    expect(result.output.trim().split("\n")).toHaveLength(1);
    expect(contents(directory)).toEqual(before);
  });
});

describe("node label keys", () => {
  it.each([
    "example.com/team",
    "team",
    "node.kubernetes.io/exclude-from-external-load-balancers",
    "kubelet.kubernetes.io/x",
  ])("accepts %s", (key) => {
    expect(nodeLabelKeyProblem(key)).toBeUndefined();
  });

  it.each(["kubernetes.io/role", "node-restriction.kubernetes.io/x", "k8s.io/x", "sub.k8s.io/x"])(
    "refuses %s",
    (key) => {
      expect(nodeLabelKeyProblem(key)).toMatch(/reserved prefix/);
    },
  );
});
