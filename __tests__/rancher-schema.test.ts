/**
 * The on-prem (Rancher) environment schema: a valid environment fills the RKE2 defaults, and
 * every malformed input gives one line naming the field, the value, the rule and the fix.
 */
import { formatIssue } from "../environments/load";
import { onPremTestInput } from "./support/onprem-fixture";
import {
  chartRegistries,
  kubeflowPipelinesRegistries,
  MIRRORED_CHARTS,
} from "../constructs/platform/image-mirror";
import {
  RKE2_DEFAULT_POD_CIDR,
  RKE2_DEFAULT_SERVICE_CIDR,
  rancherEnvironmentSchema,
  UPSTREAM_REGISTRIES,
} from "../environments/rancher-schema";

const onPremTest = onPremTestInput;

type Mutable = any;
function variant(change: (env: Mutable) => void): unknown {
  const copy = structuredClone(onPremTest) as Mutable;
  change(copy);
  return copy;
}

function problemsOf(input: unknown): string[] {
  const parsed = rancherEnvironmentSchema.safeParse(input, { reportInput: true });
  return parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => formatIssue("onprem-test", input, issue));
}

describe("an on-prem environment", () => {
  it("validates and fills RKE2's defaults", () => {
    const parsed = rancherEnvironmentSchema.parse(onPremTest);
    expect(parsed.cluster).toMatchObject({
      kubernetesVersion: "1.34",
      apiServerPort: 6443,
      podCidr: RKE2_DEFAULT_POD_CIDR,
      serviceCidr: RKE2_DEFAULT_SERVICE_CIDR,
      ingressClassName: "nginx",
    });
    const { database: _database, ...withoutDatabase } = onPremTest;
    expect(rancherEnvironmentSchema.parse(withoutDatabase).database).toEqual({
      instances: 1,
      storageGib: 20,
      backupRetentionDays: 7,
    });
    expect(parsed.objectStore.region).toBe("us-east-1");
    expect(parsed.stateBackend.namespace).toBe("terraform-state");
  });
});

const MALFORMED: [string, unknown, string][] = [
  [
    "a missing kubeconfig context",
    variant((e) => delete e.cluster.kubeconfigContext),
    "onprem-test: cluster.kubeconfigContext is missing; fix: add cluster.kubeconfigContext",
  ],
  [
    "a kubeconfig context with a space",
    variant((e) => (e.cluster.kubeconfigContext = "rancher test")),
    'onprem-test: cluster.kubeconfigContext = "rancher test": must be a kubeconfig context name',
  ],
  [
    "a plain ldap:// URL",
    variant((e) => (e.directory.url = "ldap://ad.example.com:389")),
    'onprem-test: directory.url = "ldap://ad.example.com:389": must be ldaps://<host>[:<port 1-65535>] with no path but an optional trailing /',
  ],
  [
    "an LDAPS URL with a path",
    variant((e) => (e.directory.url = "ldaps://ad.example.com/dc=example")),
    'onprem-test: directory.url = "ldaps://ad.example.com/dc=example": carries the path /dc=example; Dex\'s LDAP connector takes only the host and port',
  ],
  [
    "a base DN without attribute=value pairs",
    variant((e) => (e.directory.userBaseDn = "People.example.com")),
    'onprem-test: directory.userBaseDn = "People.example.com": must be a distinguished name',
  ],
  [
    "a bind DN with an unescaped comma in a value",
    variant((e) => (e.directory.bindDn = "CN=svc,mlops,OU=Service Accounts,DC=example,DC=com")),
    "onprem-test: directory.bindDn = ",
  ],
  [
    "a missing bind password Secret",
    variant((e) => delete e.directory.bindPasswordSecret),
    "onprem-test: directory.bindPasswordSecret is missing; fix: add directory.bindPasswordSecret",
  ],
  [
    "a Secret name with upper case",
    variant((e) => (e.registry.pullSecretName = "Artifactory_Pull")),
    'onprem-test: registry.pullSecretName = "Artifactory_Pull": must be a Kubernetes object name',
  ],
  [
    "an Artifactory host with a scheme",
    variant((e) => (e.registry.host = "https://artifactory.example.com")),
    'onprem-test: registry.host = "https://artifactory.example.com": must be a lower-case DNS name with an optional :port (1-65535), no scheme or path',
  ],
  [
    "an Artifactory host with a path",
    variant((e) => (e.registry.host = "artifactory.example.com/docker")),
    'onprem-test: registry.host = "artifactory.example.com/docker": must be a lower-case DNS name',
  ],
  [
    "an empty GPU node label value",
    variant((e) => (e.cluster.gpuNodes.labelValue = "")),
    'onprem-test: cluster.gpuNodes.labelValue = "": must be a non-empty label value',
  ],
  [
    "a GPU node label key with spaces",
    variant((e) => (e.cluster.gpuNodes.labelKey = "gpu node")),
    'onprem-test: cluster.gpuNodes.labelKey = "gpu node": must be a Kubernetes label key',
  ],
  [
    "an object store on plain http",
    variant((e) => (e.objectStore.endpoint = "http://s3.example.com")),
    'onprem-test: objectStore.endpoint = "http://s3.example.com": must be an https:// URL with no path',
  ],
  [
    "a missing Artifactory remote for an upstream registry",
    variant((e) => delete e.registry.remotes["nvcr.io"]),
    'onprem-test: registry.remotes["nvcr.io"] is missing; fix: add registry.remotes["nvcr.io"]',
  ],
  [
    "a service range overlapping the pod range",
    variant((e) => (e.cluster.serviceCidr = "10.42.128.0/17")),
    'onprem-test: cluster.serviceCidr = "10.42.128.0/17": overlaps the pod range 10.42.0.0/16',
  ],
  [
    "no admin group",
    variant((e) => (e.directory.roles.admins = [])),
    "onprem-test: directory.roles.admins = []: must name at least one AD group",
  ],
  [
    "one database instance in a protected environment",
    variant((e) => {
      e.protection = "protected";
      e.platform.alerting = { receivers: [{ kind: "pagerduty", name: "on-call", severities: ["critical"] }] };
    }),
    "onprem-test: database.instances = 1: must be 3 or more in a protected environment",
  ],
  [
    "more GPU nodes than nodes",
    variant((e) => (e.cluster.gpuNodes.maxNodes = 20)),
    "onprem-test: cluster.gpuNodes.maxNodes = 20: must not exceed cluster.maxNodes (8)",
  ],
  [
    "an unknown field",
    variant((e) => (e.cluster.kubeconfig = "~/.kube/config")),
    "onprem-test: cluster.kubeconfig: unknown field; fix: remove it or correct its spelling",
  ],
];

describe("the Artifactory remotes an on-prem environment must name", () => {
  it("cover every registry the mirrored charts and Kubeflow Pipelines pull from", () => {
    const pulled = new Set<string>(kubeflowPipelinesRegistries("2.17.0"));
    for (const [chart, { version }] of Object.entries(MIRRORED_CHARTS)) {
      for (const registry of chartRegistries(chart as keyof typeof MIRRORED_CHARTS, version))
        pulled.add(registry);
    }
    expect([...pulled].sort()).toEqual([...UPSTREAM_REGISTRIES].sort());
  });
});

describe("chart repositories of an on-prem environment", () => {
  it("must map every upstream repository the on-prem platform installs from", () => {
    const problems = problemsOf(
      variant((e) => delete e.registry.chartRepositories["https://charts.jetstack.io"]),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^onprem-test: registry\.chartRepositories = .*: has no Artifactory remote for https:\/\/charts\.jetstack\.io, where the platform's charts come from; fix: /,
    );
  });
});

describe("malformed on-prem environments", () => {
  it.each(MALFORMED)("refuses %s with one line naming the field and the fix", (_what, input, expected) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(expected)).toBe(true);
    expect(problems[0]).toMatch(/; fix: \S/);
  });
});

describe("forms the API server and S3 clients decide", () => {
  it("refuses a label or taint key whose prefix has a part over 63 characters, which the API server refuses", () => {
    const longPart = "a".repeat(70);
    const problems = problemsOf(
      variant((env) => (env.cluster.gpuNodes.labelKey = `node.${longPart}.example.com/gpu`)),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^onprem-test: cluster\.gpuNodes\.labelKey = .*has a prefix part of 70 characters.*at most 63 between the dots.*; fix: \S/,
    );
    expect(
      problemsOf(variant((env) => (env.cluster.gpuNodes.labelKey = `node.${"a".repeat(63)}.com/gpu`))),
    ).toEqual([]);
  });

  it.each(["kube-system", "default"])("refuses the state in Kubernetes' own namespace %s", (namespace) => {
    const problems = problemsOf(variant((env) => (env.stateBackend = { namespace })));
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^onprem-test: stateBackend\\.namespace = "${namespace}": must not be one of Kubernetes' own namespaces .*; fix: use a namespace of its own`,
        ),
      ),
    ]);
    expect(problemsOf(variant((env) => (env.stateBackend = { namespace: "ml-state" })))).toEqual([]);
  });

  it("says why an upper-case platform domain is refused, and offers it in lower case", () => {
    const problems = problemsOf(variant((env) => (env.platform.domain = "MLOps.Test.Example.com")));
    expect(problems).toEqual([
      'onprem-test: platform.domain = "MLOps.Test.Example.com": must be lower case: the UIs\' Ingress hosts and certificates are named after it, and the API server takes only lower-case host names (DNS-1123); fix: write "mlops.test.example.com" (DNS does not tell the cases apart)',
    ]);
  });

  it("accepts an object store endpoint with a trailing slash and hands it on without", () => {
    const input = variant((env) => (env.objectStore.endpoint = `${env.objectStore.endpoint}/`));
    expect(problemsOf(input)).toEqual([]);
    const parsed = rancherEnvironmentSchema.parse(input);
    expect(parsed.objectStore.endpoint).toBe(onPremTest.objectStore.endpoint);
  });
});
