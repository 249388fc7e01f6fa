/**
 * The image mirror: reference rewriting, the image values each chart takes and the registries
 * each pulls from. The charts and the Kubeflow Pipelines manifests rendered with the mirror's
 * values are checked in __tests__/integration/image-mirror.test.ts.
 */
import { ENVIRONMENTS } from "../../environments";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  MIRRORED_CHARTS,
  chartRegistries,
  kubeflowPipelinesRegistries,
  chartImageValues,
  kubeflowPipelinesImageOverrides,
  mirroredImage,
  mirroredRepository,
  parseImageReference,
  type MirroredChart,
} from "../../constructs/platform/image-mirror";
import { PLATFORM_CHARTS, type PlatformChart } from "../../constructs/platform/charts";
import { MIRROR } from "../support/test-mirror";

describe("mirroredImage", () => {
  it.each([
    [
      "quay.io/jetstack/cert-manager-controller:v1.21.1",
      "artifactory.example.com/quay-remote/jetstack/cert-manager-controller:v1.21.1",
    ],
    ["postgres:17", "artifactory.example.com/docker-remote/library/postgres:17"],
    ["busybox", "artifactory.example.com/docker-remote/library/busybox"],
    ["library/busybox:1.38.0", "artifactory.example.com/docker-remote/library/busybox:1.38.0"],
    ["burakince/mlflow:3.15.1", "artifactory.example.com/docker-remote/burakince/mlflow:3.15.1"],
    ["docker.io/alpine:3.23", "artifactory.example.com/docker-remote/library/alpine:3.23"],
    ["index.docker.io/library/redis:8", "artifactory.example.com/docker-remote/library/redis:8"],
    [
      "registry.k8s.io/nfd/node-feature-discovery:v0.19.0",
      "artifactory.example.com/k8s-remote/nfd/node-feature-discovery:v0.19.0",
    ],
    ["ghcr.io/dexidp/dex", "artifactory.example.com/ghcr-remote/dexidp/dex"],
  ])("%s -> %s", (reference, expected) => {
    expect(mirroredImage(reference, MIRROR)).toBe(expected);
  });

  it("keeps digests, alone or after a tag", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(mirroredImage(`quay.io/prometheus/prometheus@${digest}`, MIRROR)).toBe(
      `artifactory.example.com/quay-remote/prometheus/prometheus@${digest}`,
    );
    expect(mirroredImage(`nvcr.io/nvidia/gpu-operator:v26.7.0@${digest}`, MIRROR)).toBe(
      `artifactory.example.com/nvcr-remote/nvidia/gpu-operator:v26.7.0@${digest}`,
    );
  });

  it("reads a port in the registry host as part of the host, not as a tag", () => {
    const mirror = { ...MIRROR, remotes: { ...MIRROR.remotes, "registry.internal:5000": "internal-remote" } };
    expect(mirroredImage("registry.internal:5000/team/app:1.2", mirror)).toBe(
      "artifactory.example.com/internal-remote/team/app:1.2",
    );
    expect(mirroredImage("registry.internal:5000/team/app", mirror)).toBe(
      "artifactory.example.com/internal-remote/team/app",
    );
    expect(parseImageReference("localhost:5000/app:dev")).toEqual({
      registry: "localhost:5000",
      path: "app",
      tag: "dev",
      digest: undefined,
    });
  });

  it("mirrors to a host with a port, and leaves references already on the mirror alone", () => {
    const mirror = { ...MIRROR, host: "artifactory.example.com:8443" };
    expect(mirroredImage("quay.io/a/b:1", mirror)).toBe("artifactory.example.com:8443/quay-remote/a/b:1");
    expect(mirroredImage("artifactory.example.com:8443/quay-remote/a/b:1", mirror)).toBe(
      "artifactory.example.com:8443/quay-remote/a/b:1",
    );
  });

  it("names the registry and the fix when the registry has no remote", () => {
    expect(() => mirroredImage("mcr.microsoft.com/oss/kubernetes/pause:3.9", MIRROR)).toThrow(
      /registry "mcr\.microsoft\.com", which has no Artifactory remote repository.*fix: .*add "mcr\.microsoft\.com": "<remote repository key>" to the mirror's remotes/,
    );
  });

  it.each([
    ["https://quay.io/a/b:1", /URL scheme/],
    ["quay.io/A/b:1", /path component "A"/],
    ["quay.io/a/b@sha256:xyz", /digest "sha256:xyz"/],
    ["quay.io/a/b:bad tag", /whitespace/],
    ["", /empty/],
  ])("refuses the malformed reference %j", (reference, message) => {
    expect(() => mirroredImage(reference, MIRROR)).toThrow(message);
  });

  it("refuses a mirror host with a scheme or path, and a bad secret name", () => {
    expect(() => mirroredImage("busybox", { ...MIRROR, host: "https://artifactory.example.com" })).toThrow(
      /host "https:\/\/artifactory\.example\.com" is not a registry host; fix:/,
    );
    expect(() => mirroredImage("busybox", { ...MIRROR, host: "artifactory.example.com/docker" })).toThrow(
      /not a registry host/,
    );
    expect(() => mirroredImage("busybox", { ...MIRROR, pullSecretName: "Pull_Secret" })).toThrow(
      /pullSecretName "Pull_Secret" is not a Secret name/,
    );
  });

  it("mirroredRepository refuses a tag", () => {
    expect(() => mirroredRepository("quay.io/a/b:1", MIRROR)).toThrow(/carries a tag or digest/);
  });
});

describe("chartImageValues", () => {
  const pinned = (env: string) =>
    JSON.parse(readFileSync(join(__dirname, "..", "..", "environments", "releases", `${env}.json`), "utf8"))
      .current.charts as Record<string, string>;

  it("covers every chart an on-prem environment installs, at the versions the release files pin", () => {
    const awsOnly = [
      "aws-load-balancer-controller",
      "cluster-autoscaler",
      "nvidia-device-plugin",
      "dcgm-exporter",
    ];
    const onPrem = (Object.keys(PLATFORM_CHARTS) as PlatformChart[]).filter((c) => !awsOnly.includes(c));
    expect(Object.keys(MIRRORED_CHARTS).sort()).toEqual([...onPrem].sort());
    for (const env of ENVIRONMENTS.map((e) => e.name)) {
      for (const [chart, version] of Object.entries(pinned(env))) {
        if (chart in MIRRORED_CHARTS)
          expect([chart, MIRRORED_CHARTS[chart as MirroredChart].version]).toEqual([chart, version]);
      }
    }
  });

  it("refuses a chart version whose image keys were not read", () => {
    expect(() => chartImageValues("cert-manager", "v1.22.0", MIRROR)).toThrow(
      "cert-manager: image keys of cert-manager were read at v1.21.1; check the chart's values for v1.22.0",
    );
  });

  it("refuses the AWS-only charts", () => {
    expect(() => chartImageValues("cluster-autoscaler", "9.59.0", MIRROR)).toThrow(
      /only AWS environments install/,
    );
  });

  it("names an image of the release's values whose registry has no remote", () => {
    expect(() =>
      chartImageValues("mlflow", "1.11.5", MIRROR, { image: { repository: "mcr.microsoft.com/mlflow" } }),
    ).toThrow(/^mlflow value image\.repository: image "mcr\.microsoft\.com\/mlflow" comes from registry/);
  });

  it("refuses what the mirror cannot redirect", () => {
    expect(() =>
      chartImageValues("kserve-runtime-configs", "v0.20.0", MIRROR, {
        kserve: { llmisvcConfigs: { enabled: true } },
      }),
    ).toThrow(/llmisvcConfigs/);
    expect(() => chartImageValues("mlflow", "1.11.5", MIRROR, { postgresql: { enabled: true } })).toThrow(
      /postgresql\.enabled/,
    );
    expect(() =>
      chartImageValues("postgres-cluster", "0.8.1", MIRROR, { cluster: { imageCatalogRef: { name: "pg" } } }),
    ).toThrow(/imageCatalogRef/);
    expect(() =>
      chartImageValues("platform-resources", "2.0.2", MIRROR, {
        resources: [{ kind: "Pod", spec: { containers: [{ image: "nginx:1" }] } }],
      }),
    ).toThrow(/resources\[0\]\.spec\.containers\[0\]\.image is "nginx:1", not on the mirror/);
  });

  it("mirrors a repository the release sets, and refuses cert-manager's deprecated registry prefix", () => {
    expect(
      chartImageValues("cert-manager", "v1.21.1", MIRROR, {
        webhook: { image: { repository: "ghcr.io/example/webhook" } },
      }),
    ).toMatchObject({
      imageRegistry: "artifactory.example.com/quay-remote",
      webhook: { image: { repository: "artifactory.example.com/ghcr-remote/example/webhook" } },
    });
    expect(() =>
      chartImageValues("cert-manager", "v1.21.1", MIRROR, { cainjector: { image: { registry: "quay.io" } } }),
    ).toThrow(/cainjector\.image\.registry is set/);
  });

  it("computes the CloudNativePG cluster's image from the release's type and version", () => {
    expect(
      chartImageValues("postgres-cluster", "0.8.1", MIRROR, { version: { postgresql: "17" } }),
    ).toMatchObject({
      cluster: { imageName: "artifactory.example.com/ghcr-remote/cloudnative-pg/postgresql:17" },
    });
    expect(
      chartImageValues("postgres-cluster", "0.8.1", MIRROR, {
        type: "postgis",
        version: { postgresql: "16", postgis: "3.5" },
      }),
    ).toMatchObject({
      cluster: { imageName: "artifactory.example.com/ghcr-remote/cloudnative-pg/postgis:16-3.5" },
    });
  });
});

describe("chartRegistries", () => {
  it("lists the upstream registries each chart pulls from, for the mirror's remotes", () => {
    expect(chartRegistries("argo-cd", "10.1.1")).toEqual([
      "docker.io",
      "ecr-public.aws.com",
      "ghcr.io",
      "public.ecr.aws",
      "quay.io",
    ]);
    expect(chartRegistries("kube-prometheus-stack", "88.5.3")).toEqual([
      "docker.io",
      "ghcr.io",
      "quay.io",
      "registry.k8s.io",
    ]);
    expect(chartRegistries("gpu-operator", "v26.7.0")).toEqual(["nvcr.io", "registry.k8s.io"]);
    expect(chartRegistries("kserve-runtime-configs", "v0.20.0")).toEqual(["docker.io", "nvcr.io"]);
    expect(chartRegistries("postgres-cluster", "0.8.1", { type: "timescaledb" })).toEqual(["docker.io"]);
    expect(chartRegistries("platform-resources", "2.0.2")).toEqual([]);
    expect(kubeflowPipelinesRegistries("2.17.0")).toEqual(["docker.io", "gcr.io", "ghcr.io", "quay.io"]);
  });

  it("the test mirror has a remote for every registry of every chart, so the renders below check them all", () => {
    const all = new Set([
      ...Object.entries(MIRRORED_CHARTS).flatMap(([chart, keys]) =>
        chartRegistries(chart as MirroredChart, keys.version),
      ),
      ...kubeflowPipelinesRegistries("2.17.0"),
    ]);
    expect([...all].filter((registry) => !(registry in MIRROR.remotes))).toEqual([]);
  });
});

describe("kubeflowPipelinesImageOverrides", () => {
  it("refuses another version", () => {
    expect(() => kubeflowPipelinesImageOverrides("2.18.0", MIRROR)).toThrow(
      "kubeflow-pipelines: image keys of kubeflow-pipelines were read at 2.17.0; check the manifests for 2.18.0",
    );
  });

  it("gives Argo CD image entries as <upstream>=<mirrored repository>, keeping the manifests' tags", () => {
    const { images } = kubeflowPipelinesImageOverrides("2.17.0", MIRROR);
    for (const entry of images) expect(entry).toMatch(/^[^=]+=artifactory\.example\.com\/[^:@=]+$/);
    expect(images).toContain("mysql=artifactory.example.com/docker-remote/library/mysql");
  });
});
