/**
 * Bad input as a platform engineer types it, refused by the commands themselves, run as
 * processes on environments and release files this test owns: every refusal is one line with
 * environment, field, value, rule and fix; exit 1; nothing written. And forms the real
 * components accept are accepted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dev } from "../../environments/dev";
import { onPremProd } from "../../environments/onprem-prod";
import { onPremTest } from "../../environments/onprem-test";
import { prod } from "../../environments/prod";
import { staging } from "../../environments/staging";
import { FixtureProject, type ProcessRun } from "../support/fixture-project";
import { type Mutable } from "../support/environment-variant";

const copy = (base: unknown, change: (env: Mutable) => void = () => undefined): Mutable => {
  const env = structuredClone(base) as Mutable;
  change(env);
  return env;
};

/** An on-prem environment that clashes with no other of the registry. */
function onPrem(name: string, change: (env: Mutable) => void, base: unknown = onPremTest): Mutable {
  return copy(base, (env) => {
    env.name = name;
    env.platform.domain = `${name}.example.com`;
    env.cluster.kubeconfigContext = `rancher-${name}`;
    env.objectStore.artifactsBucket = `${name}-artifacts`;
    env.objectStore.dataBucket = `${name}-data`;
    env.registry.servingRepository = `ml-docker-${name}-local/mlops-serving`;
    env.registry.trainingRepository = `ml-docker-${name}-local/mlops-training`;
    change(env);
  });
}

/** An AWS environment deployed by hand that clashes with no other of the registry. */
function aws(name: string, index: number, change: (env: Mutable) => void, base: unknown = dev): Mutable {
  return copy(base, (env) => {
    env.name = name;
    env.platform.domain = `${name}.example.com`;
    env.network.vpcCidr = `10.${100 + index}.0.0/16`;
    env.storage.artifactsBucket = `acme-${name}-artifacts`;
    env.storage.dataBucket = `acme-${name}-data`;
    env.registry.servingRepository = `${name}/mlops-serving`;
    env.registry.trainingRepository = `${name}/mlops-training`;
    change(env);
  });
}

const problemLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("  - "))
    .map((line) => line.slice(4));

type Case = [what: string, env: Mutable, line: string, rule: string];

const LONG_PREFIX = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.example.com`;
const ON_PREM = (n: number) => `op-case-${String(n).padStart(2, "0")}`;
const AWS = (n: number) => `aws-case-${String(n).padStart(2, "0")}`;

const onPremCases: Case[] = [
  [
    "a chart remote written with the index file Helm appends itself",
    onPrem(ON_PREM(1), (e) => (e.registry.chartRepositories["https://charts.jetstack.io"] += "/index.yaml")),
    `${ON_PREM(1)}: registry.chartRepositories["https://charts.jetstack.io"] = "https://artifactory.example.com/`,
    'names the index file; Helm appends index.yaml to the repository URL itself; fix: write "https://artifactory.example.com/artifactory/api/helm/charts-jetstack-io"',
  ],
  [
    "a chart remote carrying a user and token",
    onPrem(
      ON_PREM(2),
      (e) =>
        (e.registry.chartRepositories["https://charts.jetstack.io"] =
          "https://ci:s3cr3t@artifactory.example.com/artifactory/api/helm/charts-jetstack-io"),
    ),
    `${ON_PREM(2)}: registry.chartRepositories["https://charts.jetstack.io"] = `,
    "carries a user or password",
  ],
  [
    "a chart remote naming a chart package",
    onPrem(
      ON_PREM(3),
      (e) => (e.registry.chartRepositories["https://charts.jetstack.io"] += "/cert-manager-v1.19.1.tgz"),
    ),
    `${ON_PREM(3)}: registry.chartRepositories["https://charts.jetstack.io"] = `,
    "names a chart package, not the repository that lists it",
  ],
  [
    "an upstream chart repository written with its index file",
    onPrem(ON_PREM(4), (e) => {
      const remotes = e.registry.chartRepositories;
      remotes["https://charts.jetstack.io/index.yaml"] = remotes["https://charts.jetstack.io"];
      delete remotes["https://charts.jetstack.io"];
    }),
    `${ON_PREM(4)}: registry.chartRepositories["https://charts.jetstack.io/index.yaml"]: key "https://charts.jetstack.io/index.yaml" names the index file`,
    'fix: write "https://charts.jetstack.io"',
  ],
  [
    "an object store endpoint with the bucket in its host",
    onPrem(ON_PREM(5), (e) => (e.objectStore.endpoint = `https://${ON_PREM(5)}-artifacts.s3.example.com`)),
    `${ON_PREM(5)}: objectStore.endpoint = "https://${ON_PREM(5)}-artifacts.s3.example.com"`,
    "carries the bucket op-case-05-artifacts in its host (virtual-hosted style); the S3 clients put the bucket there themselves; fix: use https://s3.example.com",
  ],
  [
    "an object store endpoint with the bucket in its path",
    onPrem(ON_PREM(6), (e) => (e.objectStore.endpoint = `https://s3.example.com/${ON_PREM(6)}-data`)),
    `${ON_PREM(6)}: objectStore.endpoint = "https://s3.example.com/${ON_PREM(6)}-data"`,
    "carries a path or query (/op-case-06-data); a bucket there would appear twice, as the S3 clients append /<bucket>/<key> to the endpoint themselves; fix: use https://s3.example.com",
  ],
  [
    "an object store endpoint carrying the access key",
    onPrem(ON_PREM(7), (e) => (e.objectStore.endpoint = "https://mlops:K3y@s3.example.com")),
    `${ON_PREM(7)}: objectStore.endpoint = "https://mlops:***@s3.example.com"`,
    "carries an access key in the URL",
  ],
  [
    "a bucket URI given as the endpoint",
    onPrem(ON_PREM(8), (e) => (e.objectStore.endpoint = `s3://${ON_PREM(8)}-artifacts`)),
    `${ON_PREM(8)}: objectStore.endpoint = "s3://${ON_PREM(8)}-artifacts"`,
    "is a bucket URI (s3://<bucket>), not the store's endpoint",
  ],
  [
    "an object store addressed by an IP outside its ranges",
    onPrem(ON_PREM(9), (e) => (e.objectStore.endpoint = "https://10.70.0.20:9000")),
    `${ON_PREM(9)}: objectStore.endpoint = "https://10.70.0.20:9000"`,
    "is the address 10.70.0.20, outside objectStore.cidrs (10.70.0.10/32)",
  ],
  [
    "a pod range written over the control-plane nodes",
    onPrem(ON_PREM(10), (e) => (e.cluster.podCidr = "10.60.0.0/16")),
    `${ON_PREM(10)}: cluster.podCidr = "10.60.0.0/16": overlaps cluster.apiServerCidrs (10.60.0.11/32, 10.60.0.12/32, 10.60.0.13/32) and cluster.ingressSourceCidrs (10.60.0.0/24), the addresses of the control-plane nodes and the ingress nodes`,
    "a pod range holds only the cluster's virtual addresses",
  ],
  [
    "control-plane nodes inside the default pod range",
    onPrem(ON_PREM(11), (e) => (e.cluster.apiServerCidrs = ["10.42.0.11/32"])),
    `${ON_PREM(11)}: cluster.apiServerCidrs = ["10.42.0.11/32"]: 10.42.0.11/32 lies in the cluster's pod range 10.42.0.0/16 (RKE2's default, the value when cluster.podCidr is not set)`,
    "fix: give the control-plane nodes' real addresses, or set cluster.podCidr",
  ],
  [
    "a service range written over the ingress nodes",
    onPrem(ON_PREM(12), (e) => {
      e.cluster.ingressSourceCidrs = ["10.62.0.0/24"];
      e.cluster.serviceCidr = "10.62.0.0/16";
    }),
    `${ON_PREM(12)}: cluster.serviceCidr = "10.62.0.0/16": overlaps cluster.ingressSourceCidrs (10.62.0.0/24), the addresses of the ingress nodes`,
    "fix: give the cluster's real --service-cidr",
  ],
  [
    "a pod range written over the default service range",
    onPrem(ON_PREM(13), (e) => (e.cluster.podCidr = "10.40.0.0/14")),
    `${ON_PREM(13)}: cluster.podCidr = "10.40.0.0/14": overlaps the cluster's service range 10.43.0.0/16 (RKE2's default, as cluster.serviceCidr is not set)`,
    "fix: give the cluster's real --cluster-cidr",
  ],
  [
    "the object store's addresses inside the default pod range",
    onPrem(ON_PREM(14), (e) => (e.objectStore.cidrs = ["10.42.7.0/24"])),
    `${ON_PREM(14)}: objectStore.cidrs = ["10.42.7.0/24"]: 10.42.7.0/24 lies in the cluster's pod range 10.42.0.0/16`,
    "but objectStore.cidrs holds the addresses of the object store",
  ],
  [
    "the domain controllers inside a written service range",
    onPrem(ON_PREM(15), (e) => (e.cluster.serviceCidr = "10.50.0.0/16")),
    `${ON_PREM(15)}: cluster.serviceCidr = "10.50.0.0/16": overlaps directory.cidrs (10.50.0.10/32, 10.50.0.11/32)`,
    "the addresses of the directory's domain controllers",
  ],
  [
    "LDAPS by an address Dex may not connect to",
    onPrem(ON_PREM(16), (e) => (e.directory.url = "ldaps://10.50.0.99:636")),
    `${ON_PREM(16)}: directory.url = "ldaps://10.50.0.99:636": is the address 10.50.0.99, outside directory.cidrs`,
    "fix: add 10.50.0.99/32 to directory.cidrs",
  ],
  [
    "a protected environment whose critical alerts reach nobody",
    onPrem(
      ON_PREM(17),
      (e) =>
        (e.platform.alerting.receivers = e.platform.alerting.receivers
          .filter((r: Mutable) => r.kind !== "pagerduty")
          .map((r: Mutable) => ({ ...r, severities: ["warning"] }))),
      onPremProd,
    ),
    `${ON_PREM(17)}: platform.alerting.receivers = `,
    "a protected environment must send critical alerts to at least one receiver",
  ],
  [
    "two receivers of one name",
    onPrem(ON_PREM(18), (e) =>
      e.platform.alerting.receivers.push({ ...e.platform.alerting.receivers[0], channel: "#other" }),
    ),
    `${ON_PREM(18)}: platform.alerting.receivers[1].name = "platform-team"`,
    "must be unique among the receivers",
  ],
  [
    "a Slack webhook URL written into the receiver",
    onPrem(
      ON_PREM(19),
      (e) => (e.platform.alerting.receivers[0].apiUrl = "https://hooks.slack.com/services/T0000/B0000/XXXX"),
    ),
    `${ON_PREM(19)}: platform.alerting.receivers[0].apiUrl = "https://hooks.slack.com/***": is a credential written into the environment file`,
    "put the value in the Secret alert-receiver-platform-team (key api-url) in the state namespace",
  ],
  [
    "the heartbeat URL written into the file",
    onPrem(ON_PREM(20), (e) => (e.platform.alerting.heartbeat.url = "https://hc-ping.com/1234")),
    `${ON_PREM(20)}: platform.alerting.heartbeat.url = "https://hc-ping.com/1234": is a credential`,
    "the Secret alert-receiver-heartbeat (key url)",
  ],
  [
    "a PagerDuty routing key in the relay URL",
    onPrem(ON_PREM(21), (e) =>
      e.platform.alerting.receivers.push({
        kind: "pagerduty",
        name: "on-call",
        severities: ["critical"],
        url: "https://events.pagerduty.com/v2/enqueue?routing_key=R0123456789ABCDEF0123456789ABCDE",
      }),
    ),
    `${ON_PREM(21)}: platform.alerting.receivers[1].url = `,
    "carries a query or a key in the URL",
  ],
  [
    "an access key id as the credentials Secret",
    onPrem(ON_PREM(22), (e) => (e.objectStore.credentialsSecret = "AKIAIOSFODNN7EXAMPLE")),
    `${ON_PREM(22)}: objectStore.credentialsSecret = "AKIA***": looks like an AWS access key id`,
    "where the name of the Secret holding it belongs",
  ],
  [
    "a key as the bind password Secret's name",
    onPrem(ON_PREM(23), (e) => (e.directory.bindPasswordSecret.name = "a1b2c3d4e5f60718293a4b5c6d7e8f90")),
    `${ON_PREM(23)}: directory.bindPasswordSecret.name = "***": looks like a PagerDuty integration (routing) key`,
    "rotate the credential",
  ],
  [
    "a CPU quota of zero",
    onPrem(ON_PREM(24), (e) => (e.platform.namespaceQuota.cpu = "0")),
    `${ON_PREM(24)}: platform.namespaceQuota.cpu = "0": is zero`,
    "would admit no pod",
  ],
  [
    "a memory quota of zero with a suffix",
    onPrem(ON_PREM(25), (e) => (e.platform.namespaceQuota.memory = "0Gi")),
    `${ON_PREM(25)}: platform.namespaceQuota.memory = "0Gi": is zero`,
    "fix: use e.g. 64Gi",
  ],
  [
    "a GPU label key whose prefix is over Kubernetes' limit",
    onPrem(ON_PREM(26), (e) => (e.cluster.gpuNodes.labelKey = `${LONG_PREFIX}/gpu`)),
    `${ON_PREM(26)}: cluster.gpuNodes.labelKey = `,
    `has a prefix of ${LONG_PREFIX.length} characters; Kubernetes allows at most 253`,
  ],
  [
    "a GPU taint key whose prefix is over Kubernetes' limit",
    onPrem(ON_PREM(27), (e) => (e.cluster.gpuNodes.taintKey = `${LONG_PREFIX}/gpu`)),
    `${ON_PREM(27)}: cluster.gpuNodes.taintKey = `,
    "Kubernetes allows at most 253 (a DNS subdomain) before the /",
  ],
  [
    "the manifests mirror as an SSH clone URL",
    onPrem(
      ON_PREM(28),
      (e) =>
        (e.platform.pipelines.manifestsRepository = "git@git.example.com:mirrors/kubeflow-pipelines.git"),
    ),
    `${ON_PREM(28)}: platform.pipelines.manifestsRepository = "git@git.example.com:mirrors/kubeflow-pipelines.git": is an SSH clone URL`,
    "fix: use the repository's https:// URL, e.g. https://git.example.com/mirrors/kubeflow-pipelines.git",
  ],
  [
    "the manifests mirror with a token in its URL",
    onPrem(
      ON_PREM(29),
      (e) =>
        (e.platform.pipelines.manifestsRepository =
          "https://oauth2:glpat-abc@git.example.com/mirrors/kubeflow-pipelines.git"),
    ),
    `${ON_PREM(29)}: platform.pipelines.manifestsRepository = `,
    "carries a user or token in the URL",
  ],
  [
    "an OCI chart remote with a tag",
    onPrem(ON_PREM(30), (e) => {
      const oci = Object.keys(e.registry.chartRepositories).find((url) => url.startsWith("oci://"));
      if (oci) e.registry.chartRepositories[oci] += ":1.0.0";
      else
        e.registry.chartRepositories["https://charts.jetstack.io"] =
          "oci://artifactory.example.com/charts/cert-manager:v1.19.1";
    }),
    `${ON_PREM(30)}: registry.chartRepositories[`,
    "carries a tag or digest",
  ],
  [
    "an LDAP URL carrying the base DN in its path",
    onPrem(ON_PREM(31), (e) => (e.directory.url = "ldaps://ad.example.com:636/DC=example,DC=com")),
    `${ON_PREM(31)}: directory.url = "ldaps://ad.example.com:636/DC=example,DC=com": carries the path /DC=example,DC=com; Dex's LDAP connector takes only the host and port`,
    "fix: write ldaps://ad.example.com:636, and put a base DN in directory.userBaseDn or directory.groupBaseDn",
  ],
  [
    "an Artifactory host in capitals",
    onPrem(ON_PREM(32), (e) => (e.registry.host = "Artifactory.Example.com")),
    `${ON_PREM(32)}: registry.host = "Artifactory.Example.com": has upper-case letters`,
    "containerd finds the registry's CA and credentials (the host's entry in RKE2's registries.yaml) by the host exactly as the reference writes it; fix: write \"artifactory.example.com\"",
  ],
  [
    "LDAPS by an address outside the directory's ranges, with a trailing slash",
    onPrem(ON_PREM(33), (e) => (e.directory.url = "ldaps://10.50.0.99:636/")),
    `${ON_PREM(33)}: directory.url = "ldaps://10.50.0.99:636/": is the address 10.50.0.99, outside directory.cidrs`,
    "fix: add 10.50.0.99/32 to directory.cidrs",
  ],
  [
    "an object store by an address outside its ranges, with a trailing slash",
    onPrem(ON_PREM(34), (e) => (e.objectStore.endpoint = "https://10.70.0.20:9000/")),
    `${ON_PREM(34)}: objectStore.endpoint = "https://10.70.0.20:9000/"`,
    "is the address 10.70.0.20, outside objectStore.cidrs (10.70.0.10/32)",
  ],
  [
    "an object store over plain http, by an address outside its ranges: one line, for the scheme",
    onPrem(ON_PREM(35), (e) => (e.objectStore.endpoint = "http://10.70.0.99:9000")),
    `${ON_PREM(35)}: objectStore.endpoint = "http://10.70.0.99:9000": must be an https:// URL with no path`,
    "fix: use e.g. https://s3.example.com",
  ],
];

const awsCases: Case[] = [
  [
    "a Slack webhook path as the secret's name",
    aws(
      AWS(1),
      1,
      (e) =>
        (e.platform.alerting.receivers[0].secret.remoteKey =
          "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ),
    `${AWS(1)}: platform.alerting.receivers[0].secret.remoteKey = `,
    "looks like a Slack incoming-webhook URL, a credential written into the environment file where the name of the Secrets Manager secret holding it belongs",
  ],
  [
    "a webhook URL as the secret's name",
    aws(
      AWS(2),
      2,
      (e) => (e.platform.alerting.receivers[0].secret.remoteKey = "https://hooks.slack.com/services/T0/B0/X"),
    ),
    `${AWS(2)}: platform.alerting.receivers[0].secret.remoteKey = "https://hooks.slack.com/***": looks like a Slack incoming-webhook URL`,
    "store the credential in Secrets Manager",
  ],
  [
    "a PagerDuty routing key as the secret's name",
    aws(
      AWS(3),
      3,
      (e) => (e.platform.alerting.receivers[0].secret.remoteKey = "R0123456789ABCDEF0123456789ABCDE"),
    ),
    `${AWS(3)}: platform.alerting.receivers[0].secret.remoteKey = "***": looks like a PagerDuty integration (routing) key`,
    "rotate the credential",
  ],
  [
    "a Slack token as the secret's name",
    aws(AWS(4), 4, (e) => (e.platform.alerting.receivers[0].secret.remoteKey = "xoxb-1234-5678-abcdef")),
    `${AWS(4)}: platform.alerting.receivers[0].secret.remoteKey = "xoxb-***": looks like a Slack token`,
    "fix: store the credential in Secrets Manager",
  ],
  [
    "a webhook URL written into the receiver",
    aws(
      AWS(5),
      5,
      (e) => (e.platform.alerting.receivers[0].url = "https://hooks.slack.com/services/T0/B0/X"),
    ),
    `${AWS(5)}: platform.alerting.receivers[0].url = "https://hooks.slack.com/***": is a credential written into the environment file`,
    "name that secret in platform.alerting.receivers[0].secret.remoteKey",
  ],
  [
    "a heartbeat URL written into the file",
    aws(
      AWS(6),
      6,
      (e) =>
        (e.platform.alerting.heartbeat = {
          secret: { remoteKey: "mlops/dev/heartbeat" },
          url: "https://hc-ping.com/1",
        }),
    ),
    `${AWS(6)}: platform.alerting.heartbeat.url = "https://hc-ping.com/1": is a credential`,
    "platform.alerting.heartbeat.secret.remoteKey",
  ],
  [
    "a CPU quota of zero millicores",
    aws(AWS(7), 7, (e) => (e.platform.namespaceQuota = { cpu: "0m" })),
    `${AWS(7)}: platform.namespaceQuota.cpu = "0m": is zero`,
    "would admit no pod",
  ],
  [
    "two receivers of one name",
    aws(AWS(8), 8, (e) => e.platform.alerting.receivers.push({ ...e.platform.alerting.receivers[0] })),
    `${AWS(8)}: platform.alerting.receivers[1].name = `,
    "must be unique among the receivers",
  ],
  [
    "the manifests repository as an SSH clone URL",
    aws(
      AWS(9),
      9,
      (e) => (e.platform.pipelines = { manifestsRepository: "git@github.com:kubeflow/pipelines.git" }),
    ),
    `${AWS(9)}: platform.pipelines.manifestsRepository = "git@github.com:kubeflow/pipelines.git": is an SSH clone URL`,
    "e.g. https://github.com/kubeflow/pipelines.git",
  ],
  [
    "a second receiver on the first one's webhook secret, for the same severities",
    aws(AWS(10), 10, (e) =>
      e.platform.alerting.receivers.push({
        ...e.platform.alerting.receivers[0],
        name: "ml-team",
        severities: ["critical"],
      }),
    ),
    `${AWS(10)}: platform.alerting.receivers[1].secret.remoteKey = `,
    "and platform-team and ml-team both take critical alerts: every such alert would be posted twice to the same webhook; fix: merge platform-team and ml-team into one receiver",
  ],
  [
    "a webhook receiver on a Slack receiver's secret, named by ARN",
    aws(AWS(11), 11, (e) =>
      e.platform.alerting.receivers.push({
        kind: "webhook",
        name: "ticketing",
        severities: ["info"],
        secret: {
          remoteKey: `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${e.platform.alerting.receivers[0].secret.remoteKey}-AbCdEf`,
        },
      }),
    ),
    `${AWS(11)}: platform.alerting.receivers[1].secret.remoteKey = `,
    "is the secret platform.alerting.receivers[0] (platform-team, slack) reads too, but this receiver (ticketing) is a webhook receiver",
  ],
  [
    "the heartbeat on a receiver's secret",
    aws(
      AWS(12),
      12,
      (e) => (e.platform.alerting.heartbeat = { secret: { ...e.platform.alerting.receivers[0].secret } }),
    ),
    `${AWS(12)}: platform.alerting.heartbeat.secret.remoteKey = `,
    "Watchdog would be posted there every few minutes, and the heartbeat service would get no ping",
  ],
  [
    "an environment with a hyphen in its name handed to the pipeline",
    aws(
      AWS(13),
      13,
      (e) => (e.stateBackend = { bucket: "acme-mlops-terraform-state-staging", region: "eu-west-1" }),
      staging,
    ),
    `${AWS(13)}: delivery.deployedBy = "pipeline": cannot hold for an environment named "${AWS(13)}": the pull-request diff assumes the role in the repository variable AWS_DIFF_ROLE_ARN_${AWS(13)}, and GitHub variable names hold only letters, digits and _`,
    'fix: keep aws-case-13 deployed by hand (delivery.deployedBy: "manual"), or give it a name without hyphens, e.g. awscase13',
  ],
];

describe("bad input, refused by the commands as processes", () => {
  const project = new FixtureProject("bad-input");
  afterAll(() => project.remove());

  it("npm run synth refuses every mistake of every environment at once, one line each, writing nothing", () => {
    const cases = [...onPremCases, ...awsCases];
    project.writeRegistry(cases.map(([, env]) => env));
    const run = project.npm("synth");
    expect(run.status).toBe(1);
    expect(project.exists("cdktf.out")).toBe(false);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const lines = problemLines(run.stderr);
    const unexpected = lines.filter((line) => !cases.some(([, env]) => line.startsWith(`${env.name}: `)));
    expect(unexpected).toEqual([]);
    for (const [what, env, line, rule] of cases) {
      const own = lines.filter((l) => l.startsWith(`${env.name}: `));
      expect({ what, own }).toEqual({ what, own: [expect.stringContaining(rule)] });
      expect({ what, start: own[0].slice(0, line.length) }).toEqual({ what, start: line });
      // environment: field = value: rule; fix: remedy (a map key: field: key "<key>" rule; fix: ...)
      expect(own[0]).toMatch(/^[\w-]+: \S+( = .+: |: key "[^"]+" ).+; fix: \S/);
    }
  }, 240_000);

  it("npm run synth refuses runners shared between environments, naming both and offering labels neither has", () => {
    // staging's file is the one edited: it now carries prod's deploy labels. The line cannot
    // know which file changed, so it names both fields and offers each a label no list has.
    const stagingEdited = copy(staging, (e) => {
      e.delivery = { ...e.delivery, runnerLabels: ["self-hosted", "mlops-prod"] };
    });
    const uat = aws("uat", 30, (e) => {
      e.delivery = {
        deployedBy: "pipeline",
        runnerLabels: ["self-hosted", "mlops-uat"],
        diffRunnerLabels: ["self-hosted", "mlops-prod"],
      };
      e.stateBackend = { bucket: "acme-mlops-terraform-state-uat", region: "eu-west-1" };
      e.eks.publicEndpoint = { enabled: false };
    });
    const registry = [stagingEdited, copy(prod), uat];
    project.writeRegistry(registry);
    const run = project.npm("synth");
    expect(run.status).toBe(1);
    expect(project.exists("cdktf.out")).toBe(false);
    const lines = problemLines(run.stderr);
    const fix = (a: string, b: string) =>
      `; fix: change whichever was not meant, e.g. ${a} or ${b} (labels no environment has yet), and register that runner in its own runner group`;
    expect(lines).toEqual([
      expect.stringMatching(
        /^prod: delivery\.runnerLabels = \["self-hosted","mlops-prod"\]: coincides with staging's delivery\.runnerLabels \["self-hosted","mlops-prod"\] across protection levels \(prod is protected, staging disposable\): .*prod's deploy jobs and staging's deploy jobs/,
      ),
      expect.stringMatching(
        /^uat: delivery\.diffRunnerLabels = \["self-hosted","mlops-prod"\]: coincides with staging's delivery\.runnerLabels \["self-hosted","mlops-prod"\]: .*uat's pull-request code and staging's deploy jobs/,
      ),
      expect.stringMatching(
        /^uat: delivery\.diffRunnerLabels = \["self-hosted","mlops-prod"\]: coincides with prod's delivery\.runnerLabels \["self-hosted","mlops-prod"\] across protection levels \(uat is disposable, prod protected\)/,
      ),
    ]);
    expect(lines.map((line) => line.slice(line.indexOf("; fix: ")))).toEqual([
      fix(
        `prod's delivery.runnerLabels to ["self-hosted","mlops-prod-2"]`,
        `staging's delivery.runnerLabels to ["self-hosted","mlops-staging"]`,
      ),
      fix(
        `uat's delivery.diffRunnerLabels to ["self-hosted","mlops-uat-diff"]`,
        `staging's delivery.runnerLabels to ["self-hosted","mlops-staging"]`,
      ),
      fix(
        `uat's delivery.diffRunnerLabels to ["self-hosted","mlops-uat-diff"]`,
        `prod's delivery.runnerLabels to ["self-hosted","mlops-prod-2"]`,
      ),
    ]);
    // No offered label is one an environment of the registry already carries.
    const carried = registry.flatMap((env) => [
      ...env.delivery.runnerLabels,
      ...env.delivery.diffRunnerLabels,
    ]);
    const offered = lines.flatMap((line) =>
      [...line.matchAll(/to \["self-hosted","([^"]+)"\]/g)].map((m) => m[1]),
    );
    expect(offered.filter((label) => carried.includes(label))).toEqual([]);
  }, 240_000);

  it("npm run synth refuses a GPU model where the environment declares no GPUs, on both targets", () => {
    const onPremNoGpu = onPrem("op-gpu", (e) => (e.cluster.gpuNodes.maxNodes = 0));
    const awsNoGpuQuota = aws("aws-gpu", 40, (e) => (e.platform.namespaceQuota = { gpus: 0 }));
    project.writeRegistry([onPremNoGpu, awsNoGpuQuota]);
    project.writeRelease("op-gpu", "onprem-test", (release) => (release.current.models[0].gpu = true));
    project.writeRelease("aws-gpu", "dev", (release) => (release.current.models[0].gpu = true));
    const run = project.npm("synth");
    expect(run.status).toBe(1);
    expect(problemLines(run.stderr)).toEqual([
      expect.stringMatching(
        /^op-gpu: cluster\.gpuNodes\.maxNodes = 0: the environment declares no GPU nodes, but releases\/op-gpu\.json models\[\d+\] \(.+\) has gpu: true.*; fix: \S/,
      ),
      expect.stringMatching(
        /^aws-gpu: platform\.namespaceQuota\.gpus = 0: the namespace quota admits no GPU request, but releases\/aws-gpu\.json models\[0\].*; fix: \S/,
      ),
    ]);
    expect(project.exists("cdktf.out")).toBe(false);
  }, 240_000);

  it("npm run synth reports a syntax error in an environment file as one line with file and line", () => {
    project.write(
      "environments/index.ts",
      'import { broken } from "./broken";\n\nexport const ENVIRONMENTS = [broken];\n',
    );
    project.write(
      "environments/broken.ts",
      'export const broken = {\n  name: "broken",\n  protection: "disposable"\n  target: "rancher",\n};\n',
    );
    const run = project.npm("synth");
    expect(run.status).toBe(1);
    expect(problemLines(run.stderr)).toEqual([
      expect.stringMatching(
        /^environments\/broken\.ts:4:\d+: .+; fix: correct the TypeScript syntax at that spot$/,
      ),
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at |backtrace/);
    project.remove("environments/broken.ts");
    expect(project.exists("cdktf.out")).toBe(false);
  }, 240_000);

  it("npm run synth refuses a GitHub repository written as a clone URL or with .git, naming its file", () => {
    const original = project.read("environments/github.ts");
    project.writeRegistry([aws("aws-repo", 50, () => undefined)]);
    project.writeRelease("aws-repo", "dev");
    const runs = ["https://github.com/acme/mlops-platform.git", "acme/mlops-platform.git"].map(
      (repository) => {
        project.write(
          "environments/github.ts",
          original.replace(
            'GITHUB_REPOSITORY = "acme/mlops-platform"',
            `GITHUB_REPOSITORY = ${JSON.stringify(repository)}`,
          ),
        );
        return project.npm("synth");
      },
    );
    project.write("environments/github.ts", original);
    expect(runs.map((run) => run.status)).toEqual([1, 1]);
    expect(runs.map((run) => problemLines(run.stderr))).toEqual([
      [
        expect.stringMatching(
          /^environments\/github\.ts: GITHUB_REPOSITORY "https:\/\/github\.com\/acme\/mlops-platform\.git" is a clone URL.*; fix: set it to "acme\/mlops-platform"$/,
        ),
      ],
      [
        expect.stringMatching(
          /^environments\/github\.ts: GITHUB_REPOSITORY "acme\/mlops-platform\.git" ends with \.git.*; fix: set it to "acme\/mlops-platform"$/,
        ),
      ],
    ]);
    expect(project.exists("cdktf.out")).toBe(false);
  }, 240_000);

  it("npm run promote refuses a GPU release for an environment without a GPU quota, writing nothing", () => {
    project.writeRegistry([
      dev,
      staging,
      copy(prod, (e) => (e.platform.namespaceQuota = { ...e.platform.namespaceQuota, gpus: 0 })),
    ]);
    project.writeRelease("staging", "staging", (release) => (release.current.models[0].gpu = true));
    const before = project.snapshot("environments/releases");
    const run = project.npm("promote", "--from", "staging", "--to", "prod");
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^promote: the promoted release does not fit prod: prod: platform\.namespaceQuota\.gpus = 0: .* releases\/prod\.json models\[0\].*; fix: \S/,
      ),
    ]);
    expect(project.snapshot("environments/releases")).toEqual(before);
  }, 240_000);

  it("npm run promote-artifacts refuses a GPU release for an on-prem environment without GPU nodes", () => {
    project.writeRegistry([onPremTest, copy(onPremProd, (e) => (e.cluster.gpuNodes.maxNodes = 0))]);
    project.writeRelease("onprem-prod", "onprem-prod");
    // onprem-test runs what onprem-prod runs: the copies follow a completed promotion.
    project.writeRelease("onprem-test", "onprem-prod", (release) => {
      delete release.current.promotedFrom;
      delete release.current.promotedAt;
      release.history = [];
    });
    const before = project.snapshot("environments/releases");
    const run = project.npm("promote-artifacts", "--from", "onprem-test", "--to", "onprem-prod", "--dry-run");
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^promote-artifacts: onprem-prod: cluster\.gpuNodes\.maxNodes = 0: the environment declares no GPU nodes, but releases\/onprem-prod\.json .*; fix: \S/,
      ),
    ]);
    expect(project.snapshot("environments/releases")).toEqual(before);
  }, 240_000);

  it("npm run new-environment refuses a scaffold the registry would refuse, with the same line, writing nothing", () => {
    project.write("environments/index.ts", readRealIndex());
    const before = project.snapshot("environments");
    const sets = [
      "--set",
      "cluster.kubeconfigContext=rancher-mlops-uat",
      "--set",
      "objectStore.artifactsBucket=mlops-uat-artifacts",
      "--set",
      "objectStore.dataBucket=mlops-uat-data",
      "--set",
      "registry.servingRepository=ml-docker-uat-local/mlops-serving",
      "--set",
      "registry.trainingRepository=ml-docker-uat-local/mlops-training",
      // A new cluster's own addresses, which the scaffold never copies.
      "--set",
      'cluster.apiServerCidrs=["10.61.0.11/32"]',
      "--set",
      'cluster.ingressSourceCidrs=["10.61.0.0/24"]',
    ];
    const endpoint = project.npm(
      "new-environment",
      "--from",
      "onprem-test",
      "--name",
      "onprem-uat",
      ...sets,
      "--set",
      "objectStore.endpoint=https://mlops-uat-artifacts.s3.example.com",
    );
    const pods = project.npm(
      "new-environment",
      "--from",
      "onprem-test",
      "--name",
      "onprem-uat",
      ...sets,
      "--set",
      "directory.url=ldaps://10.50.0.99:636",
    );
    expect([endpoint.status, pods.status]).toEqual([1, 1]);
    const problem = (run: { stderr: string }) =>
      problemLines(run.stderr).filter((line) => line.startsWith("onprem-uat: "));
    expect(problem(endpoint)).toEqual([
      'onprem-uat: objectStore.endpoint = "https://mlops-uat-artifacts.s3.example.com": carries the bucket mlops-uat-artifacts in its host (virtual-hosted style); the S3 clients put the bucket there themselves; fix: use https://s3.example.com; pass it with --set objectStore.endpoint=<value>',
    ]);
    expect(problem(pods)).toEqual([
      expect.stringMatching(
        /^onprem-uat: directory\.url = "ldaps:\/\/10\.50\.0\.99:636": is the address 10\.50\.0\.99, outside directory\.cidrs .*; fix: \S/,
      ),
    ]);
    expect(project.snapshot("environments")).toEqual(before);
  }, 240_000);
});

/** A release command's mistake: the arguments, and the one line it must answer with. */
type CommandCase = [what: string, script: string, args: string[], line: string | RegExp];

const PROMOTE_USAGE = "usage: npm run promote -- --from <env> --to <env> [--dry-run]";

/** Mistakes the commands refuse from their arguments and the registry alone, run side by side. */
const commandCases: CommandCase[] = [
  [
    "promote to a mistyped environment",
    "promote",
    ["--from", "staging", "--to", "prdo"],
    'promote: --to "prdo": is not an environment of a promotion path (dev, staging, prod, onprem-test, onprem-prod); fix: use --to prod',
  ],
  [
    "promote with --to given twice",
    "promote",
    ["--from", "staging", "--to", "staging", "--to", "prod"],
    'promote: --to "prod": --to is given twice (first "staging"), and only one can hold; fix: keep the one meant',
  ],
  [
    "promote with a mistyped flag",
    "promote",
    ["--frm", "dev", "--to", "staging"],
    `promote: --frm: is not a flag of this command (--from, --to, --dry-run); fix: write --from; ${PROMOTE_USAGE}`,
  ],
  [
    "promote with the environments as bare words",
    "promote",
    ["dev", "staging"],
    'promote: "dev": a word without a flag, which this command does not take; fix: write --from dev --to staging',
  ],
  [
    "promote backwards",
    "promote",
    ["--from", "prod", "--to", "staging"],
    /^promote: releases move only forward, and prod comes after staging .*; fix: to run staging's previous release again, npm run rollback -- --env staging; /,
  ],
  [
    "promote across targets",
    "promote",
    ["--from", "staging", "--to", "onprem-prod"],
    /^promote: staging and onprem-prod are on different promotion paths .*; fix: promote within onprem-prod's path, onprem-test -> onprem-prod$/,
  ],
  [
    "promote-artifacts from a mistyped environment",
    "promote-artifacts",
    ["--from", "onprem-tset", "--to", "onprem-prod", "--dry-run"],
    'promote-artifacts: --from "onprem-tset": is not an environment (dev, staging, prod, onprem-test, onprem-prod); fix: use --from onprem-test',
  ],
  [
    "promote-artifacts with --dry-run mistyped",
    "promote-artifacts",
    ["--from", "onprem-test", "--to", "onprem-prod", "--dryrun"],
    /^promote-artifacts: --dryrun: is not a flag of this command \(--from, --to, --dry-run\); fix: write --dry-run; usage: /,
  ],
  [
    "promote-artifacts between AWS environments",
    "promote-artifacts",
    ["--from", "staging", "--to", "prod", "--dry-run"],
    /^promote-artifacts: --from staging is an AWS environment: .*ECR and S3 replication.*; fix: /,
  ],
  [
    "new-environment with --from given twice",
    "new-environment",
    ["--from", "staging", "--name", "uat", "--from", "prod"],
    '--from "prod": --from is given twice (first "staging"), and only one can hold; fix: keep the one meant',
  ],
  [
    "new-environment with a name that exists",
    "new-environment",
    ["--from", "staging", "--name", "prod"],
    /^--name "prod": an environment of that name exists already .*; fix: choose another name$/,
  ],
  [
    "new-environment from an environment written in capitals",
    "new-environment",
    ["--from", "Staging", "--name", "uat"],
    '--from "Staging": is not an environment of the registry (dev, staging, prod, onprem-test, onprem-prod); fix: use --from staging',
  ],
  [
    "new-environment setting a mistyped field",
    "new-environment",
    ["--from", "staging", "--name", "uat", "--set", "platform.domian=uat.example.com"],
    "--set platform.domian: the source's file has no such field; fix: write --set platform.domain=<value>",
  ],
  [
    "new-environment with --set and no value",
    "new-environment",
    ["--from", "staging", "--name", "uat", "--set"],
    /^--set: needs <field>=<value>, and none was given; fix: write --set followed by <field>=<value>; usage: /,
  ],
];

/** The refusal lines of a run: promote's own line, or new-environment's list under its header. */
const refusalLines = (script: string, stderr: string) =>
  script === "new-environment" ? problemLines(stderr) : stderr.trim().split("\n");

describe("the release commands refuse a platform engineer's mistakes as processes", () => {
  const project = new FixtureProject("release-commands");
  afterAll(() => project.remove());

  it("refuses each with one line naming flag or field, value, rule and fix, exit 1, writing nothing", async () => {
    const before = project.snapshot("environments");
    const runs: { what: string; line: string | RegExp; script: string; run: ProcessRun }[] = [];
    // Two at a time: each is a process of its own, and the machine is shared.
    for (let i = 0; i < commandCases.length; i += 2)
      runs.push(
        ...(await Promise.all(
          commandCases.slice(i, i + 2).map(async ([what, script, args, line]) => ({
            what,
            line,
            script,
            run: await project.npmAsync(script, ...args),
          })),
        )),
      );
    for (const { what, line, script, run } of runs) {
      const lines = refusalLines(script, run.stderr);
      expect({ what, status: run.status, lines }).toEqual({
        what,
        status: 1,
        lines: [typeof line === "string" ? line : expect.stringMatching(line)],
      });
      expect({ what, fix: lines[0] }).toEqual({ what, fix: expect.stringMatching(/; fix: \S/) });
    }
    expect(project.snapshot("environments")).toEqual(before);
    expect(project.exists("cdktf.out")).toBe(false);
  }, 300_000);

  it("reads flags written as --flag=value, as node's own parser would", () => {
    const before = project.snapshot("environments");
    const run = project.npm("promote", "--from=staging", "--to=prod", "--dry-run");
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(run.stdout).toMatch(/^\[dry run\] promote staging -> prod: \d+ changes?\n/);
    expect(project.snapshot("environments")).toEqual(before);
  }, 120_000);

  it("refuses release files edited by hand, and artifacts copied before their promotion, writing nothing", () => {
    const stagingRelease = project.read("environments/releases/staging.json");
    // staging's release with a model version typed as text.
    project.writeRelease("staging", "staging", (release) => {
      release.current.models[0].version = String(release.current.models[0].version);
    });
    let before = project.snapshot("environments");
    const edited = project.npm("promote", "--from", "dev", "--to", "staging");
    expect(project.snapshot("environments")).toEqual(before);
    // dev's release file deleted.
    project.writeRelease("staging", "staging", () => undefined);
    const devRelease = project.read("environments/releases/dev.json");
    project.remove("environments/releases/dev.json");
    before = project.snapshot("environments");
    const missing = project.npm("promote", "--from", "dev", "--to", "staging");
    expect(project.snapshot("environments")).toEqual(before);
    project.write("environments/releases/dev.json", devRelease);
    // onprem-prod's current release not yet promoted from onprem-test.
    project.writeRelease("onprem-prod", "onprem-prod", (release) => delete release.current.promotedFrom);
    before = project.snapshot("environments");
    const early = project.npm(
      "promote-artifacts",
      "--from",
      "onprem-test",
      "--to",
      "onprem-prod",
      "--dry-run",
    );
    expect(project.snapshot("environments")).toEqual(before);
    // onprem-prod promoted from onprem-test once, and onprem-test has moved on since.
    project.writeRelease("onprem-prod", "onprem-prod", (release) => {
      release.current.promotedFrom = "onprem-test";
    });
    project.writeRelease("onprem-test", "onprem-prod", (release) => {
      delete release.current.promotedFrom;
      delete release.current.promotedAt;
      release.current.models[0].version += 1;
      release.history = [];
    });
    before = project.snapshot("environments");
    const moved = project.npm(
      "promote-artifacts",
      "--from",
      "onprem-test",
      "--to",
      "onprem-prod",
      "--dry-run",
    );
    expect(project.snapshot("environments")).toEqual(before);
    // dev's reference data outside mlflow/, which staging (a consumer) does not receive.
    project.writeRelease("dev", "dev", (release) => {
      release.current.models[0].monitoring.referenceData = "reference/churn";
    });
    project.write("environments/releases/staging.json", stagingRelease);
    // staging's previous release reads ground truth under its own bucket's name.
    project.writeRelease("staging", "staging", (release) => {
      const last = release.history[release.history.length - 1].models[0].monitoring;
      last.groundTruth = `acme-mlops-staging-data/${last.groundTruth ?? "ground-truth/churn"}`;
    });
    before = project.snapshot("environments");
    const [unreplicated, stale] = [
      project.npm("promote", "--from", "dev", "--to", "staging"),
      project.npm("rollback", "--env", "staging"),
    ];
    expect(project.snapshot("environments")).toEqual(before);
    project.write("environments/releases/dev.json", devRelease);
    project.write("environments/releases/staging.json", stagingRelease);
    expect([edited, missing, early, moved, unreplicated, stale].map((run) => run.status)).toEqual([
      1, 1, 1, 1, 1, 1,
    ]);
    expect(
      [edited, missing, early, moved, unreplicated, stale].map((run) => run.stderr.trim().split("\n")),
    ).toEqual([
      [
        expect.stringMatching(
          /^promote: target releases\/staging\.json:\d+: current\.models\[0\]\.version = "\d+": must be a number; fix: \S/,
        ),
      ],
      [
        "promote: source releases/dev.json does not exist; fix: restore it from Git (git checkout -- environments/releases/dev.json), or set dev's release with npm run release -- --env dev --set <field>=<value>",
      ],
      [
        "promote-artifacts: releases/onprem-prod.json: current.promotedFrom = missing: the target's current release did not come from onprem-test, and the copies carry the target's current release; fix: promote first (npm run promote -- --from onprem-test --to onprem-prod), then run this again",
      ],
      [
        expect.stringMatching(
          /^promote-artifacts: releases\/onprem-prod\.json: current\.models\[0\]\.version = (\d+), but releases\/onprem-test\.json has current\.models\[0\]\.version = \d+: the target's current release is not the one onprem-test runs, .*; fix: promote first \(npm run promote -- --from onprem-test --to onprem-prod\), then run this again$/,
        ),
      ],
      [
        expect.stringMatching(
          /^promote: the promoted release does not fit staging: releases\/staging\.json: current\.models\[0\]\.monitoring\.referenceData = "reference\/churn": is outside mlflow\/, the only prefix replicated from dev; fix: [^;]+$/,
        ),
      ],
      [
        expect.stringMatching(
          /^rollback: the previous release \(the last of history\) does not fit staging as its current release: releases\/staging\.json: current\.models\[0\]\.monitoring\.groundTruth = "acme-mlops-staging-data\/.*; fix: drop the bucket name and write "[^"]+"$/,
        ),
      ],
    ]);
  }, 240_000);
});

describe("valid but unusual input, accepted as the real components accept it", () => {
  const project = new FixtureProject("unusual-input");
  afterAll(() => project.remove());

  it("npm run synth builds every form and hands it to the component as written", () => {
    const onPremUnusual = onPrem("op-unusual", (e) => {
      // 1. LDAPS by IP address: Dex's ldap connector (v2.45.1) sets the TLS ServerName to the
      //    host, so Go checks the address against the certificate's IP SANs.
      e.directory.url = "ldaps://10.50.0.10:636";
      // 2. The object store by address and port, inside its ranges.
      e.objectStore.endpoint = "https://10.70.0.10:9000";
      // 3. A chart remote with a trailing slash (Helm joins index.yaml to the path).
      e.registry.chartRepositories["https://charts.jetstack.io"] += "/";
      // 4. A receiver called heartbeat while no heartbeat is configured.
      delete e.platform.alerting.heartbeat;
      e.platform.alerting.receivers[0].name = "heartbeat";
      // 5. Pod and service ranges of a cluster installed with non-default ones.
      e.cluster.podCidr = "172.16.0.0/16";
      e.cluster.serviceCidr = "172.17.0.0/16";
      // 8. The registry on a port of its own: Docker's reference grammar and RKE2's
      //    registries.yaml name a registry as host:port (default endpoint https://host:port/v2).
      e.registry.host = "artifactory.example.com:8443";
    });
    const onPremUpperCase = onPrem("op-unusual-2", (e) => {
      // 9. LDAPS with a trailing slash and an upper-case host: Dex is given host:port alone, and
      //    DNS names (and Go's certificate check) compare without case.
      e.directory.url = "ldaps://AD.Example.com:636/";
      e.cluster.apiServerCidrs = ["10.61.0.11/32"];
      e.cluster.ingressSourceCidrs = ["10.61.0.0/24"];
    });
    const awsUnusual = aws("aws-unusual", 60, (e) => {
      // 6. A Secrets Manager secret by full ARN (with its random suffix), whose name says webhook.
      e.platform.alerting.receivers[0].secret.remoteKey =
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops/dev/alerting/slack-webhook-AbCdEf";
      // 7. A fractional CPU quota and no GPU quota where no model needs a GPU.
      e.platform.namespaceQuota = { cpu: "7500m", memory: "30Gi", gpus: 0 };
      // 10. One webhook secret for two receivers that share no severity: no alert posted twice.
      e.platform.alerting.receivers = [
        { ...e.platform.alerting.receivers[0], name: "team-urgent", severities: ["critical"] },
        { ...e.platform.alerting.receivers[0], name: "team-digest", severities: ["warning", "info"] },
      ];
    });
    project.writeRegistry([onPremUnusual, onPremUpperCase, awsUnusual]);
    project.writeRelease("op-unusual", "onprem-test");
    project.writeRelease("op-unusual-2", "onprem-test");
    project.writeRelease("aws-unusual", "dev");
    const run = project.npm("synth");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const platform = project.read("cdktf.out/stacks/op-unusual-platform/cdk.tf.json");
    expect(platform).toContain("10.50.0.10:636");
    expect(platform).toContain("https://10.70.0.10:9000");
    expect(platform).toContain('"artifactory.example.com:8443/');
    expect(platform).not.toContain('"artifactory.example.com/');
    const serving = project.read("cdktf.out/stacks/op-unusual-serving/cdk.tf.json");
    expect(serving).toContain("artifactory.example.com:8443/ml-docker-op-unusual-local/mlops-serving:");
    const dexHost = /host: (\S+:636)\\n/.exec(
      project.read("cdktf.out/stacks/op-unusual-2-platform/cdk.tf.json"),
    );
    expect(dexHost?.[1]).toBe("ad.example.com:636");
  }, 300_000);
});

function readRealIndex(): string {
  return readFileSync(join(__dirname, "..", "..", "environments", "index.ts"), "utf8");
}
