/**
 * The environment registry: validation of the environment files, the problems reported for bad
 * input, and the schema helpers. Synthesis of the registry to disk is checked in
 * __tests__/integration/environments.test.ts.
 */
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments, redactCredential } from "../environments/load";
import { isAws } from "../environments/targets";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { bucketNameProblem, gpusPerInstance, isArmFamily } from "../environments/schema";
import { variant, type Mutable } from "./support/environment-variant";

function problemsOf(inputs: readonly unknown[]): readonly string[] {
  const result = loadEnvironments(inputs);
  return result.ok ? [] : result.problems;
}

describe("the environment registry", () => {
  it("validates every environment of the registry, in the registry's order", () => {
    const result = loadEnvironments(ENVIRONMENTS);
    expect(result.ok ? result.environments.map((e) => e.name) : result.problems).toEqual(
      ENVIRONMENTS.map((input) => input.name),
    );
  });

  it("fills defaults: three AZs, the three node groups and their shapes", () => {
    const result = loadEnvironments([dev]);
    if (!result.ok) throw new Error(result.problems.join("\n"));
    const [env] = result.environments.filter(isAws);
    expect(env.network.azCount).toBe(3);
    expect(env.nodeGroups.general).toMatchObject({ instanceTypes: ["t3.large"], capacityType: "ON_DEMAND" });
    expect(env.nodeGroups.training.instanceTypes[0]).toBe("c5.2xlarge");
    expect(env.nodeGroups.training.instanceTypes.length).toBeGreaterThanOrEqual(2);
    expect(env.nodeGroups.training).toMatchObject({ capacityType: "SPOT", minSize: 0, desiredSize: 0 });
    expect(env.nodeGroups.gpu).toMatchObject({
      instanceTypes: ["g4dn.xlarge", "g5.xlarge"],
      capacityType: "SPOT",
      amiType: "AL2023_x86_64_NVIDIA",
      minSize: 0,
      desiredSize: 0,
    });
    expect(env.registry).toMatchObject({
      servingRepository: "mlops-serving",
      trainingRepository: "mlops-training",
    });
  });

  it("keeps prod protected and the others disposable", () => {
    expect([dev.protection, staging.protection, prod.protection]).toEqual([
      "disposable",
      "disposable",
      "protected",
    ]);
  });
});

/** [what is wrong, how to break prod, the start of the one expected message] */
const BAD_INPUTS: [string, (env: Mutable) => void, string][] = [
  [
    "a malformed VPC CIDR",
    (e) => (e.network.vpcCidr = "10.300.0.0/16"),
    'prod: network.vpcCidr = "10.300.0.0/16": must be an IPv4 CIDR',
  ],
  [
    "a VPC CIDR with host bits",
    (e) => (e.network.vpcCidr = "10.30.1.0/16"),
    'prod: network.vpcCidr = "10.30.1.0/16": must be an IPv4 CIDR',
  ],
  [
    "a VPC too small for pods",
    (e) => (e.network.vpcCidr = "10.30.0.0/24"),
    'prod: network.vpcCidr = "10.30.0.0/24": must be a /16 to /20 block',
  ],
  [
    "a service CIDR overlapping the VPC",
    (e) => (e.eks.serviceIpv4Cidr = "10.30.128.0/20"),
    'prod: eks.serviceIpv4Cidr = "10.30.128.0/20": overlaps the VPC',
  ],
  [
    "a public API open to the internet",
    (e) => (e.eks.publicEndpoint = { enabled: true, allowedCidrs: ["0.0.0.0/0"] }),
    'prod: eks.publicEndpoint.allowedCidrs[0] = "0.0.0.0/0": must not open the API',
  ],
  [
    "a public API with no source ranges",
    (e) => (e.eks.publicEndpoint = { enabled: true }),
    "prod: eks.publicEndpoint.allowedCidrs = []: must list at least one range",
  ],
  [
    "one availability zone",
    (e) => (e.network.azCount = 1),
    "prod: network.azCount = 1: must be between 2 and 6",
  ],
  [
    "seven availability zones",
    (e) => (e.network.azCount = 7),
    "prod: network.azCount = 7: must be between 2 and 6",
  ],
  [
    "a fractional AZ count",
    (e) => (e.network.azCount = 2.5),
    "prod: network.azCount = 2.5: azCount must be a whole number",
  ],
  [
    "an AZ count given as text",
    (e) => (e.network.azCount = "3"),
    'prod: network.azCount = "3": must be a number; fix:',
  ],
  [
    "minSize above maxSize",
    (e) => (e.nodeGroups.general = { minSize: 5, desiredSize: 5, maxSize: 4 }),
    "prod: nodeGroups.general.minSize = 5: must be <= maxSize (4)",
  ],
  [
    "desiredSize above maxSize",
    (e) => (e.nodeGroups.general = { minSize: 1, desiredSize: 9, maxSize: 4 }),
    "prod: nodeGroups.general.desiredSize = 9: must be within [minSize, maxSize] = [1, 4]",
  ],
  [
    "desiredSize below minSize (defaulted)",
    (e) => (e.nodeGroups.training = { minSize: 2 }),
    "prod: nodeGroups.training.desiredSize = 0: must be within [minSize, maxSize] = [2, 10]",
  ],
  [
    "a SPOT group with one instance type",
    (e) => (e.nodeGroups.training = { instanceTypes: ["c5.2xlarge"] }),
    'prod: nodeGroups.training.instanceTypes = ["c5.2xlarge"]: a SPOT group needs at least two',
  ],
  [
    "a GPU group with a CPU instance type",
    (e) => (e.nodeGroups.gpu = { instanceTypes: ["g5.xlarge", "m5.xlarge"] }),
    'prod: nodeGroups.gpu.instanceTypes[1] = "m5.xlarge": is not an NVIDIA GPU instance type',
  ],
  [
    "a GPU group on the standard AMI",
    (e) => (e.nodeGroups.gpu = { amiType: "AL2023_x86_64_STANDARD" }),
    'prod: nodeGroups.gpu.amiType = "AL2023_x86_64_STANDARD": the GPU group must run the AL2023_x86_64_NVIDIA AMI',
  ],
  [
    "GPU types with different GPU counts",
    (e) => (e.nodeGroups.gpu = { instanceTypes: ["g5.xlarge", "g5.12xlarge"] }),
    'prod: nodeGroups.gpu.instanceTypes = ["g5.xlarge","g5.12xlarge"]: every GPU type of the group must carry the same number',
  ],
  [
    "a CPU group on the NVIDIA AMI",
    (e) => (e.nodeGroups.training = { amiType: "AL2023_x86_64_NVIDIA" }),
    'prod: nodeGroups.training.amiType = "AL2023_x86_64_NVIDIA": the training group has no GPUs',
  ],
  [
    "an arm64 type on an x86_64 AMI",
    (e) => (e.nodeGroups.general = { instanceTypes: ["m7g.large"] }),
    'prod: nodeGroups.general.instanceTypes[0] = "m7g.large": is an arm64 (Graviton) type',
  ],
  [
    "a malformed instance type",
    (e) => (e.nodeGroups.general = { instanceTypes: ["large"] }),
    'prod: nodeGroups.general.instanceTypes[0] = "large": must be an EC2 instance type',
  ],
  [
    "prod without deletion protection",
    (e) => (e.database.deletionProtection = false),
    "prod: database.deletionProtection = false: a protected environment must keep RDS deletion protection on",
  ],
  [
    "zero backup days in prod",
    (e) => (e.database.backupRetentionDays = 0),
    "prod: database.backupRetentionDays = 0: a protected environment needs at least 7 days of backups",
  ],
  [
    "a single-AZ database in prod",
    (e) => (e.database.multiAz = false),
    "prod: database.multiAz = false: a protected environment needs a Multi-AZ database",
  ],
  [
    "mutable image tags in prod",
    (e) => (e.registry.immutableTags = false),
    "prod: registry.immutableTags = false: a protected environment needs immutable image tags",
  ],
  [
    "a single NAT gateway in prod",
    (e) => (e.network.natGateways = "single"),
    'prod: network.natGateways = "single": a protected environment needs one NAT gateway per AZ',
  ],
  [
    "backups beyond RDS' limit",
    (e) => (e.database.backupRetentionDays = 36),
    "prod: database.backupRetentionDays = 36: must be between 0 and 35",
  ],
  [
    "a prod platform without high availability",
    (e) => (e.platform.highAvailability = false),
    "prod: platform.highAvailability = false: a protected environment runs the platform highly available",
  ],
  [
    "a malformed platform domain",
    (e) => (e.platform.domain = "https://mlops.example.com"),
    'prod: platform.domain = "https://mlops.example.com": must be a DNS name',
  ],
  [
    "a malformed namespace CPU quota",
    (e) => (e.platform.namespaceQuota = { cpu: "lots" }),
    'prod: platform.namespaceQuota.cpu = "lots": must be a Kubernetes quantity',
  ],
  [
    "a single serving replica",
    (e) => (e.serving = { replicas: 1 }),
    "prod: serving.replicas = 1: must be between 2 and 50",
  ],
  [
    "a serving ceiling below the floor",
    (e) => (e.serving = { replicas: 4, maxReplicas: 3 }),
    "prod: serving.maxReplicas = 3: must be >= serving.replicas (4)",
  ],
  [
    "prod without HTTPS for its UIs",
    (e) => delete e.platform.tlsCertificateArn,
    "prod: platform.tlsCertificateArn = missing: a protected environment serves its UIs over HTTPS only",
  ],
  [
    "a certificate that is not an ACM ARN",
    (e) => (e.platform.tlsCertificateArn = "arn:aws:iam::333333333333:server-certificate/web"),
    'prod: platform.tlsCertificateArn = "arn:aws:iam::333333333333:server-certificate/web": must be an ACM certificate ARN',
  ],
  [
    "a malformed region",
    (e) => (e.aws.region = "Europe-West"),
    'prod: aws.region = "Europe-West": must be an AWS region code',
  ],
  [
    "a malformed account id",
    (e) => (e.aws.allowedAccountIds = ["33333333333"]),
    'prod: aws.allowedAccountIds[0] = "33333333333": must be a 12-digit AWS account id',
  ],
  [
    "an account id given as a number",
    (e) => (e.aws.allowedAccountIds = [333333333333]),
    "prod: aws.allowedAccountIds[0] = 333333333333: must be a string in quotes, not a number; fix: write it as a string in quotes",
  ],
  [
    "an unsupported EKS version",
    (e) => (e.eks.version = "1.29"),
    'prod: eks.version = "1.29": must be a Kubernetes version in EKS standard support',
  ],
  [
    "an unsupported PostgreSQL version",
    (e) => (e.database.engineVersion = "14"),
    'prod: database.engineVersion = "14": must be a PostgreSQL major version in RDS standard support',
  ],
  [
    "an upper-case bucket name",
    (e) => (e.storage.artifactsBucket = "Acme-Artifacts"),
    'prod: storage.artifactsBucket = "Acme-Artifacts": may hold only lower-case letters',
  ],
  [
    "a bucket name shaped like an IP address",
    (e) => (e.storage.dataBucket = "192.168.10.12"),
    'prod: storage.dataBucket = "192.168.10.12": must not be formatted as an IP address',
  ],
  [
    "a two-letter bucket name",
    (e) => (e.storage.dataBucket = "ab"),
    'prod: storage.dataBucket = "ab": must be 3 to 63 characters long',
  ],
  [
    "the same bucket for artifacts and data",
    (e) => (e.storage.dataBucket = e.storage.artifactsBucket),
    'prod: storage.dataBucket = "acme-mlops-prod-artifacts": must differ from storage.artifactsBucket',
  ],
  [
    "an invalid ECR repository name",
    (e) => (e.registry.servingRepository = "MLOps_Serving"),
    'prod: registry.servingRepository = "MLOps_Serving": may hold only lower-case letters',
  ],
  ["a missing owner tag", (e) => delete e.tags.owner, "prod: tags.owner = missing: is a required tag"],
  [
    "an empty cost-center tag",
    (e) => (e.tags["cost-center"] = " "),
    'prod: tags["cost-center"] = " ": is a required tag',
  ],
  [
    "an environment tag set by hand",
    (e) => (e.tags.environment = "production"),
    'prod: tags.environment = "production": is set from the environment\'s name',
  ],
  [
    "no cluster admin",
    (e) => (e.eks.adminPrincipalArns = []),
    "prod: eks.adminPrincipalArns = []: must name at least one principal",
  ],
  [
    "an admin that is not an IAM ARN",
    (e) => (e.eks.adminPrincipalArns = ["platform-admin"]),
    'prod: eks.adminPrincipalArns[0] = "platform-admin": must be an IAM role or user ARN',
  ],
  [
    "storage autoscaling below the allocation",
    (e) => (e.database.maxAllocatedStorageGib = 50),
    "prod: database.maxAllocatedStorageGib = 50: must be at least 10% above allocatedStorageGib (100), i.e. >= 110",
  ],
  [
    "a misspelt field",
    (e) => (e.network.azCounts = 3),
    "prod: network.azCounts: unknown field; fix: write network.azCount, or remove it",
  ],
  ["a missing section", (e) => delete e.database, "prod: database is missing; fix: add database"],
  [
    "an unknown protection level",
    (e) => (e.protection = "keep"),
    'prod: protection = "keep": must be protected or disposable',
  ],
  [
    "a log retention CloudWatch does not offer",
    (e) => (e.network.flowLogRetentionDays = 45),
    "prod: network.flowLogRetentionDays = 45: must be a CloudWatch Logs retention period",
  ],
  [
    "a taint with an unknown effect",
    (e) => (e.nodeGroups.general = { taints: [{ key: "team", value: "a", effect: "NoWay" }] }),
    'prod: nodeGroups.general.taints[0].effect = "NoWay": must be NoSchedule, NoExecute or PreferNoSchedule',
  ],
];

describe("bad environment input", () => {
  it.each(BAD_INPUTS)(
    "rejects %s with one message naming the field, the value and the fix",
    (_what, change, expected) => {
      const problems = problemsOf([variant(prod, change)]);
      expect(problems).toHaveLength(1);
      expect(problems[0].startsWith(expected)).toBe(true);
      expect(problems[0]).toMatch(/; fix: \S/);
    },
  );

  it("reports every problem of every environment at once", () => {
    const problems = problemsOf([
      variant(dev, (e) => (e.network.azCount = 9)),
      variant(prod, (e) => {
        e.aws.region = "nowhere";
        e.database.backupRetentionDays = 0;
      }),
    ]);
    expect(problems.map((p) => p.split(" = ")[0])).toEqual([
      "dev: network.azCount",
      "prod: aws.region",
      "prod: database.backupRetentionDays",
    ]);
  });

  it("rejects two environments with the same name", () => {
    const twin = variant(staging, (e) => {
      e.name = "dev";
      e.network.vpcCidr = "10.40.0.0/16";
      e.storage = { artifactsBucket: "acme-twin-artifacts", dataBucket: "acme-twin-data" };
    });
    expect(problemsOf([dev, twin])).toEqual([
      `dev: name = "dev": already used as dev's name; fix: give every environment its own name`,
    ]);
  });

  it("rejects overlapping VPC ranges across environments", () => {
    const overlapping = variant(staging, (e) => (e.network.vpcCidr = "10.10.0.0/20"));
    expect(problemsOf([dev, overlapping])).toEqual([
      `staging: network.vpcCidr = "10.10.0.0/20": overlaps dev's 10.10.0.0/16; fix: give each environment its own range so they can be peered or routed`,
    ]);
  });

  it("rejects a bucket name that another environment already uses", () => {
    const clash = variant(staging, (e) => (e.storage.dataBucket = "acme-mlops-dev-data"));
    expect(problemsOf([dev, clash])).toEqual([
      `staging: storage.dataBucket = "acme-mlops-dev-data": already used as dev's storage.dataBucket; fix: bucket names are global: give each environment its own`,
    ]);
  });

  it("names an environment without a usable name by its position", () => {
    const problems = problemsOf([variant(dev, (e) => delete e.name)]);
    expect(problems).toEqual(["environment #1: name is missing; fix: add name (a string in quotes)"]);
  });
});

describe("schema helpers", () => {
  it.each([
    ["m7g", true],
    ["c6gn", true],
    ["t4g", true],
    ["g5g", true],
    ["a1", true],
    ["g5", false],
    ["g4dn", false],
    ["c5a", false],
    ["m7i", false],
  ])("knows whether %s is an arm64 family", (family, arm) => {
    expect(isArmFamily(family)).toBe(arm);
  });

  it.each([
    ["g4dn.xlarge", 1],
    ["g5.12xlarge", 4],
    ["g5.48xlarge", 8],
    ["p3.8xlarge", 4],
    ["p4d.24xlarge", 8],
    ["m5.large", undefined],
  ])("counts the GPUs of %s", (type, gpus) => {
    expect(gpusPerInstance(type)).toBe(gpus);
  });

  it("accepts an ordinary bucket name", () => {
    expect(bucketNameProblem("acme-mlops-dev-artifacts")).toBeUndefined();
  });
});

describe("refusal lines never repeat a pasted credential", () => {
  it.each([
    ["https://mlops:K3y@s3.example.com", "https://mlops:***@s3.example.com"],
    ["https://tok3n@git.example.com/mirror.git", "https://***@git.example.com/mirror.git"],
    ["https://hooks.slack.com/services/T0000/B0000/XXXX", "https://hooks.slack.com/***"],
    ["AKIAIOSFODNN7EXAMPLE", "AKIA***"],
    ["xoxb-1234-5678-abcdef", "xoxb-***"],
    ["https://s3.example.com", "https://s3.example.com"],
    ["mlops/prod/alerting/on-call", "mlops/prod/alerting/on-call"],
  ])("prints %s as %s", (value, printed) => {
    expect(redactCredential(value)).toBe(printed);
  });
});
