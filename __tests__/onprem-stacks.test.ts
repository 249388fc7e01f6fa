/**
 * The registry's on-prem environments as `npm run synth` writes them: two stacks each, nothing
 * of AWS, everything through Artifactory, the database sized per environment, the GPU Operator
 * on the GPU nodes, and releases promoted along onprem-test -> onprem-prod.
 */
import { parse as parseYaml } from "yaml";
import { loadRelease } from "../environments/releases";
import { releaseContent } from "../environments/release-schema";
import { chartsInstalledOn, PLATFORM_CHARTS } from "../constructs/platform/charts";
import { promote } from "../scripts/promote";
import { mergeValues } from "../constructs/lib/values";
import { synthesizeOnPremEnvironments, type TerraformJson } from "./support/synth";
import { fixtureReleases } from "./support/release-files";

const synthesized = synthesizeOnPremEnvironments();
/** Every on-prem environment of the registry. */
const NAMES = Object.keys(synthesized);
const STACKS = NAMES.flatMap((name) =>
  (["platform", "serving"] as const).map((kind) => ({
    id: `${name}-${kind}`,
    name,
    json: synthesized[name][kind].json,
    text: synthesized[name][kind].text,
  })),
);
const ARTIFACTORY = "artifactory.example.com";

interface HelmRelease {
  name: string;
  chart: string;
  repository?: string;
  version: string;
  values: string[];
}
const releasesOf = (json: TerraformJson): HelmRelease[] => Object.values(json.resource.helm_release ?? {});
const releaseOf = (json: TerraformJson, name: string): HelmRelease => {
  const release = releasesOf(json).find((r) => r.name === name);
  if (!release) throw new Error(`no release ${name}`);
  return release;
};
/** The values layers of a release merged the way Helm merges them (later wins; maps merge). */
function valuesOf(release: HelmRelease): any {
  return mergeValues(...release.values.map((text) => parseYaml(text)));
}

/** Every container image of the typed Kubernetes resources and raw manifests of a stack. */
function workloadImages(json: TerraformJson): string[] {
  const images: string[] = [];
  const walk = (value: unknown, key?: string) => {
    if (typeof value === "string" && (key === "image" || key === "storageUri")) {
      if (key === "image") images.push(value);
      return;
    }
    if (Array.isArray(value)) value.forEach((item) => walk(item, key));
    else if (value && typeof value === "object") Object.entries(value).forEach(([k, v]) => walk(v, k));
  };
  for (const [type, resources] of Object.entries(json.resource))
    if (type.startsWith("kubernetes_")) walk(resources);
  return images;
}

describe.each(STACKS)("$id", ({ json, text, name }) => {
  it("matches the reviewed snapshot", () => {
    expect(text).toMatchSnapshot();
  });

  it("has no AWS provider, resource, data source or endpoint", () => {
    expect(Object.keys(json.provider ?? {})).not.toContain("aws");
    expect(Object.keys(json.terraform.required_providers)).not.toContain("aws");
    const types = [...Object.keys(json.resource), ...Object.keys(json.data ?? {})];
    expect(types.filter((type) => type.startsWith("aws_"))).toEqual([]);
    expect(text).not.toMatch(/amazonaws\.com|arn:aws:|eks\.amazonaws|s3:\/\/(?!mlops-)/);
  });

  it("keeps its state in the cluster it deploys to, reached through the environment's kubeconfig context", () => {
    expect(json.terraform.backend).toEqual({
      kubernetes: {
        config_context: synthesized[name].environment.cluster.kubeconfigContext,
        namespace: "terraform-state",
        secret_suffix: expect.stringMatching(new RegExp(`^${name}-(platform|serving)$`)),
      },
    });
    for (const providers of Object.values(json.provider ?? {}))
      for (const provider of providers) {
        const config = provider.kubernetes ?? provider;
        expect(config.config_context ?? config.kubernetes?.config_context).toBe(
          synthesized[name].environment.cluster.kubeconfigContext,
        );
        // The kubeconfig file itself comes from KUBE_CONFIG_PATH at deploy time.
        expect(JSON.stringify(provider)).not.toMatch(/config_path|\/home\/|\/root\//);
      }
  });

  it("pulls every image of its own resources from Artifactory", () => {
    for (const image of workloadImages(json)) expect(image.startsWith(`${ARTIFACTORY}/`)).toBe(true);
  });
});

describe.each(NAMES)("%s-platform", (name) => {
  const json = synthesized[name].platform.json;

  it("installs exactly the charts of an on-prem environment, each from its Artifactory remote", () => {
    const installed = new Set(releasesOf(json).map((r) => r.chart.split("/").pop()));
    const expected = chartsInstalledOn("rancher").map((chart) => PLATFORM_CHARTS[chart].chart);
    expect([...installed].sort()).toEqual([...new Set(expected)].sort());
    for (const release of releasesOf(json)) {
      const source = release.repository ?? release.chart;
      expect(source).toMatch(new RegExp(`^(https|oci)://${ARTIFACTORY.replace(/\./g, "\\.")}/`));
    }
  });

  it("runs the GPU Operator on the environment's GPU nodes, and neither the device plugin nor the DCGM chart", () => {
    const charts = releasesOf(json).map((r) => r.chart.split("/").pop());
    expect(charts).toContain("gpu-operator");
    expect(charts).not.toContain("nvidia-device-plugin");
    expect(charts).not.toContain("dcgm-exporter");
    const gpuNodes = synthesized[name].environment.cluster.gpuNodes;
    const values = valuesOf(releaseOf(json, "gpu-operator"));
    expect(JSON.stringify(values)).toContain(gpuNodes.labelKey);
    expect(JSON.stringify(values)).toContain(gpuNodes.labelValue);
    // DCGM metrics feed the LowGPUUtilization alert.
    expect(values.dcgmExporter.enabled).toBe(true);
    expect(values.dcgmExporter.serviceMonitor.enabled).toBe(true);
  });

  it("issues the UIs' certificates from the organisation's CA, and a wildcard for the Ingresses KServe writes", () => {
    const resources = valuesOf(releaseOf(json, "certificate-issuer")).resources;
    const issuer = resources.find((r: any) => r.kind === "ClusterIssuer");
    expect(issuer.spec.ca.secretName).toBe(synthesized[name].environment.tls.caSecret);
    const wildcard = resources.find((r: any) => r.kind === "Certificate");
    const domain = synthesized[name].environment.platform.domain;
    expect(wildcard.spec.dnsNames).toEqual([`*.${domain}`, domain]);
    expect(wildcard.spec.issuerRef.name).toBe(issuer.metadata.name);
  });

  it("admits entry traffic from the ingress controller's pods as well as the ingress nodes", () => {
    const cluster = synthesized[name].environment.cluster;
    const policies = Object.values<any>(json.resource.kubernetes_network_policy_v1);
    const entry = policies.filter((p) => p.metadata.name === "allow-ingress-load-balancer");
    expect(entry.map((p) => p.metadata.namespace).sort()).toEqual(
      ["Kubeflow", "Mlflow", "Serving"].map((id) => expect.stringContaining(`${id}Namespace_`)),
    );
    for (const policy of entry) {
      const from = policy.spec.ingress[0].from;
      // RKE2's ingress-nginx runs as pods with host ports: it forwards from its pod address.
      expect(from).toContainEqual({
        namespace_selector: {
          match_labels: { "kubernetes.io/metadata.name": cluster.ingressControllerNamespace },
        },
      });
      for (const cidr of cluster.ingressSourceCidrs) expect(from).toContainEqual({ ip_block: { cidr } });
    }
  });

  it("installs no AWS-only chart and no metrics-server (RKE2 ships one)", () => {
    const charts = releasesOf(json).map((r) => r.chart.split("/").pop());
    for (const chart of [
      "aws-load-balancer-controller",
      "cluster-autoscaler",
      "metrics-server",
      "nvidia-device-plugin",
    ])
      expect(charts).not.toContain(chart);
  });
});

describe.each(NAMES)("%s: the Secrets the platform team makes by hand", (name) => {
  const env = synthesized[name].environment;
  const json = synthesized[name].platform.json;
  const copies = Object.values<any>(json.resource.kubernetes_secret_v1 ?? {});
  const sources = Object.values<any>(json.data?.kubernetes_secret_v1 ?? {});
  const copiedTo = (secret: string) =>
    copies
      .filter((copy) => copy.metadata.name === secret)
      .map((copy) => copy.metadata.namespace)
      .sort();
  const created = Object.values<any>(json.resource.kubernetes_namespace_v1).map((ns) => ns.metadata.name);

  it("are read from the state namespace, which exists before the platform", () => {
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source.metadata.namespace).toBe(env.stateBackend.namespace);
    expect(created).not.toContain(env.stateBackend.namespace);
  });

  it("reach every namespace that uses them", () => {
    expect(copiedTo(env.registry.pullSecretName)).toEqual([...created].sort());
    expect(copiedTo(env.objectStore.credentialsSecret)).toEqual(["kubeflow", "mlflow", "mlops"]);
    expect(copiedTo(env.tls.caSecret)).toEqual(["cert-manager"]);
    expect(copiedTo(env.directory.bindPasswordSecret.name)).toEqual(["argocd"]);
    for (const receiver of env.platform.alerting.receivers)
      expect(copiedTo(`alert-receiver-${receiver.name}`)).toEqual(["monitoring"]);
    const mirrorCredentials = env.platform.pipelines.manifestsRepositoryCredentialsSecret;
    if (mirrorCredentials !== undefined) expect(copiedTo(mirrorCredentials)).toEqual(["argocd"]);
  });

  it("copy values by reference only, and label the bind password for Argo CD", () => {
    for (const copy of copies) {
      if (copy.metadata.labels["argocd.argoproj.io/secret-type"] === "repository") {
        // Argo CD's repository Secret: the source's keys by reference, plus its public url and type.
        expect(copy.data).toMatch(
          /^\$\{merge\(data\.kubernetes_secret_v1\.[^.]+\.data, \{"url" = "https:\/\/[^"]+", "type" = "git"\}\)\}$/,
        );
      } else expect(copy.data).toMatch(/^\$\{data\.kubernetes_secret_v1\.[^.]+\.data\}$/);
      expect(copy.type).toMatch(/^\$\{data\.kubernetes_secret_v1\.[^.]+\.type\}$/);
    }
    const bind = copies.find((copy) => copy.metadata.name === env.directory.bindPasswordSecret.name);
    expect(bind.metadata.labels["app.kubernetes.io/part-of"]).toBe("argocd");
  });

  it("are in place before the first chart installs", () => {
    const certManager = releaseOf(json, "cert-manager") as any;
    const copyIds = Object.keys(json.resource.kubernetes_secret_v1).map((id) => `kubernetes_secret_v1.${id}`);
    for (const id of copyIds) expect(certManager.depends_on).toContain(id);
  });
});

describe.each(NAMES)("%s: MLflow and the object store", (name) => {
  const env = synthesized[name].environment;
  const values = valuesOf(releaseOf(synthesized[name].platform.json, "mlflow"));

  it("reaches the store's endpoint with the keys from its Secret and trusts the store's CA", () => {
    expect(values.extraEnvVars.MLFLOW_S3_ENDPOINT_URL).toBe(env.objectStore.endpoint);
    expect(values.artifactRoot.s3.existingSecret.name).toBe(env.objectStore.credentialsSecret);
    const ca = env.objectStore.caBundleSecret!;
    const volume = values.extraVolumes.find(
      (v: any) => v.secret?.secretName === ca.name && v.name === "object-store-ca",
    );
    expect(volume.secret.items).toEqual([{ key: ca.key, path: "ca-bundle.pem" }]);
    const mount = values.extraVolumeMounts.find((m: any) => m.name === volume.name);
    expect(values.extraEnvVars.AWS_CA_BUNDLE).toBe(`${mount.mountPath}/ca-bundle.pem`);
    expect(mount.readOnly).toBe(true);
  });
});

describe("MLflow's PostgreSQL (CloudNativePG)", () => {
  it.each([
    ["onprem-test", 1],
    ["onprem-prod", 3],
  ] as const)("%s runs %i instance(s), as its environment file says", (name, instances) => {
    const values = valuesOf(releaseOf(synthesized[name].platform.json, "mlflow-postgres"));
    expect(synthesized[name].environment.database.instances).toBe(instances);
    expect(values.cluster.instances).toBe(instances);
    expect(values.cluster.storage.storageClass).toBe(synthesized[name].environment.cluster.storageClassName);
    expect(values.backups.retentionPolicy).toBe(
      `${synthesized[name].environment.database.backupRetentionDays}d`,
    );
    expect(values.backups.endpointURL).toBe(synthesized[name].environment.objectStore.endpoint);
  });

  it("is not Bitnami's, and no MinIO is deployed", () => {
    for (const { text } of STACKS) expect(text).not.toMatch(/bitnami|minio/i);
  });
});

describe("promotion along onprem-test -> onprem-prod", () => {
  // The fixture release files, in which onprem-test always has something to promote.
  const workspace = fixtureReleases;

  it("copies onprem-test's release into onprem-prod, which stays a valid on-prem release", () => {
    const directory = workspace();
    const source = loadRelease("onprem-test", directory, "rancher");
    const before = loadRelease("onprem-prod", directory, "rancher");
    const result = promote({
      from: "onprem-test",
      to: "onprem-prod",
      dryRun: false,
      directory,
      now: new Date("2026-11-23T12:00:00Z"),
    });
    expect(result.exitCode).toBe(0);
    const after = loadRelease("onprem-prod", directory, "rancher");
    if (!source.ok || !before.ok || !after.ok) throw new Error("release files must stay valid");
    expect(releaseContent(after.release.current)).toEqual(releaseContent(source.release.current));
    expect(after.release.current.promotedFrom).toBe("onprem-test");
    expect(after.release.history).toEqual([...before.release.history, before.release.current]);
  });

  it.each([
    ["dev", "onprem-prod", "dev and onprem-prod are on different promotion paths"],
    ["onprem-test", "prod", "onprem-test and prod are on different promotion paths"],
    ["onprem-prod", "onprem-test", "onprem-test"],
  ])("refuses %s -> %s", (from, to, reason) => {
    const directory = workspace();
    const result = promote({ from, to, dryRun: false, directory, now: new Date() });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain(reason);
    expect(result.output).toMatch(/fix: /);
  });

  it("onprem-prod runs only a release onprem-test has run", () => {
    const own = loadRelease("onprem-prod");
    const theirs = loadRelease("onprem-test");
    if (!own.ok || !theirs.ok) throw new Error("release files must be valid");
    const seen = [theirs.release.current, ...theirs.release.history].map((entry) =>
      JSON.stringify(releaseContent(entry)),
    );
    for (const entry of [own.release.current, ...own.release.history])
      expect(seen).toContain(JSON.stringify(releaseContent(entry)));
  });
});
