/**
 * Prediction logging on-prem, through an object store trusted by a private CA (KServe v0.20.0):
 * - the platform stack owns the `logger` entry of `kserve/inferenceservice-config` (the chart's
 *   entry plus `caBundle`), forced over Helm's field and replaced whenever the release changes;
 * - the store's annotations put the CA under the logger's mount path (`/etc/tls/logger`), where
 *   both the storage initializer and the agent find it, and address buckets by path;
 * - every predictor logs into the environment's data bucket.
 * The entry compared with the chart as rendered: integration/onprem-prediction-logging.test.ts.
 */
import { Testing, TerraformStack } from "cdktf";
import { resourcesOf, synthesizeEnvironments, synthesizeOnPremEnvironments } from "./support/synth";
import { inferenceServices, predictors } from "./support/serving";
import { onPremTestInput } from "./support/onprem-fixture";
import { ChartCatalog } from "../constructs/platform/chart-catalog";
import { Kserve, kserveLoggerEntry } from "../constructs/platform/kserve";
import { PLATFORM_SERVICE_ACCOUNTS } from "../constructs/platform/service-accounts";
import { kserveObjects } from "../scripts/verify/controllers/kserve";

const onPrem = synthesizeOnPremEnvironments();
const ON_PREM = Object.values(onPrem);

/** KServe v0.20.0's mount of the logger CA ConfigMap in the agent (constants.LoggerCaCertMountPath). */
const LOGGER_CA_MOUNT_PATH = "/etc/tls/logger";

const helmReleaseId = (json: any, name: string): string => {
  const found = Object.entries<any>(resourcesOf(json, "helm_release")).filter(([, r]) => r.name === name);
  expect(found).toHaveLength(1);
  return found[0][0];
};

describe.each(ON_PREM.map((s) => [s.environment.name, s] as const))("%s", (_name, synthesized) => {
  const env = synthesized.environment;
  const platform = synthesized.platform.json;
  const serving = synthesized.serving.json;

  it("has a store trusted through a private CA (what this file is about)", () => {
    expect(env.objectStore.caBundleSecret).toBeDefined();
  });

  describe("the logger entry of inferenceservice-config", () => {
    const entries = () => Object.values<any>(resourcesOf(platform, "kubernetes_config_map_v1_data"));

    it("is owned by the platform stack, forced over Helm's field, after the kserve-resources release", () => {
      const [entry, ...others] = entries();
      expect(others).toEqual([]);
      expect(entry.metadata.name).toBe("inferenceservice-config");
      expect(entry.metadata.namespace).toMatch(
        /^\$\{kubernetes_namespace_v1\.KserveNamespace_\w+\.metadata\[0\]\.name\}$/,
      );
      expect(Object.keys(entry.data)).toEqual(["logger"]);
      expect(entry.force).toBe(true);
      const release = helmReleaseId(platform, "kserve-resources");
      expect(entry.depends_on).toContain(`helm_release.${release}`);
    });

    it("is replaced whenever the release changes, by a reference Terraform 1.11 parses from JSON", () => {
      const [entry] = entries();
      const release = helmReleaseId(platform, "kserve-resources");
      // configs.decodeReplaceTriggeredBy parses each JSON string as an HCL expression: a bare
      // reference, no "${...}" template. Never create_before_destroy: the destroy's empty apply
      // (same field manager) would remove the new entry.
      expect(entry.lifecycle).toEqual({ replace_triggered_by: [`helm_release.${release}`] });
    });

    it("names the CA ConfigMap the serving stack creates in the predictors' namespace", () => {
      const logger = JSON.parse(entries()[0].data.logger);
      const configMaps = Object.values<any>(resourcesOf(serving, "kubernetes_config_map_v1")).filter(
        (c) => c.metadata.name === logger.caBundle,
      );
      expect(configMaps).toHaveLength(1);
      const isvcNamespaces = new Set(inferenceServices(serving).map((isvc) => isvc.metadata.namespace));
      expect([...isvcNamespaces]).toEqual([configMaps[0].metadata.namespace]);
      expect(Object.keys(configMaps[0].data)).toEqual(["cabundle.crt"]);
    });

    it("keeps the chart's agent image as the release renders it through the registry mirror", () => {
      const logger = JSON.parse(entries()[0].data.logger);
      expect(logger.image).toBe(
        `${env.registry.host}/${env.registry.remotes["docker.io"]}/kserve/agent:v0.20.0`,
      );
      expect(logger).toEqual({
        image: logger.image,
        memoryRequest: "100Mi",
        memoryLimit: "1Gi",
        cpuRequest: "100m",
        cpuLimit: "1",
        defaultUrl: "http://default-broker",
        caBundle: "kserve-object-store-ca",
      });
    });
  });

  describe("the store's settings KServe's credential builder reads", () => {
    const annotations = () => {
      const copies = Object.values<any>(resourcesOf(platform, "kubernetes_secret_v1")).filter(
        (s) => s.metadata.name === env.objectStore.credentialsSecret && s.metadata.namespace === "mlops",
      );
      expect(copies).toHaveLength(1);
      return copies[0].metadata.annotations as Record<string, string>;
    };

    it("put AWS_CA_BUNDLE in the directory the agent mounts the logger CA at, from the same ConfigMap", () => {
      const a = annotations();
      const bundle = a["serving.kserve.io/s3-cabundle"];
      // The storage initializer mounts the s3-cabundle-configmap ConfigMap at dirname(AWS_CA_BUNDLE).
      expect(bundle.slice(0, bundle.lastIndexOf("/"))).toBe(LOGGER_CA_MOUNT_PATH);
      expect(bundle.slice(bundle.lastIndexOf("/") + 1)).toBe("cabundle.crt");
      const logger = JSON.parse(
        Object.values<any>(resourcesOf(platform, "kubernetes_config_map_v1_data"))[0].data.logger,
      );
      expect(a["serving.kserve.io/s3-cabundle-configmap"]).toBe(logger.caBundle);
    });

    it("address buckets by path: the agent's S3 client is virtual-hosted unless told otherwise", () => {
      expect(annotations()["serving.kserve.io/s3-usevirtualbucket"]).toBe("false");
    });
  });

  it("every predictor, canaries included, logs into the environment's data bucket", () => {
    const isvcs = inferenceServices(serving);
    expect(isvcs.length).toBeGreaterThan(0);
    for (const isvc of isvcs) {
      for (const predictor of predictors(isvc)) {
        expect(predictor.logger.mode).toBe("all");
        expect(predictor.logger.url).toBe(
          `s3://${env.objectStore.dataBucket}/predictions/${isvc.metadata.name}/${predictor.labels["mlops-platform/model-version"]}`,
        );
        expect(predictor.logger.storage.serviceAccountName).toBe(predictor.serviceAccountName);
      }
    }
  });

  it("tells the serving Deployment where its predictions go", () => {
    const [deployment] = Object.values<any>(resourcesOf(serving, "kubernetes_deployment_v1"));
    const vars = deployment.spec.template.spec.container[0].env;
    const uri: string = vars.find((e: any) => e.name === "PREDICTION_LOG_URI").value;
    const prefix = `s3://${env.objectStore.dataBucket}/predictions/`;
    expect(uri.startsWith(prefix)).toBe(true);
    // The served model is one of the InferenceServices.
    expect(inferenceServices(serving).map((isvc) => isvc.metadata.name)).toContain(uri.slice(prefix.length));
  });
});

describe("where the store needs no private CA", () => {
  const { caBundleSecret: _none, ...objectStore } = onPremTestInput.objectStore as any;
  const publicCa = synthesizeOnPremEnvironments([{ ...onPremTestInput, objectStore }])["onprem-test"];

  it("the chart's logger entry stays as it is, and predictors still log", () => {
    expect(resourcesOf(publicCa.platform.json, "kubernetes_config_map_v1_data")).toEqual({});
    expect(resourcesOf(publicCa.serving.json, "kubernetes_config_map_v1")).toEqual({});
    for (const isvc of inferenceServices(publicCa.serving.json))
      for (const predictor of predictors(isvc))
        expect(predictor.logger.url).toMatch(/^s3:\/\/mlops-test-data\//);
  });

  it("the store is still addressed by path, with no CA annotations", () => {
    const [copy] = Object.values<any>(resourcesOf(publicCa.platform.json, "kubernetes_secret_v1")).filter(
      (s) => s.metadata.name === "object-store-credentials" && s.metadata.namespace === "mlops",
    );
    expect(copy.metadata.annotations["serving.kserve.io/s3-usevirtualbucket"]).toBe("false");
    expect(copy.metadata.annotations["serving.kserve.io/s3-cabundle"]).toBeUndefined();
  });
});

describe("AWS environments keep the chart's logger entry and virtual-hosted S3", () => {
  const aws = synthesizeEnvironments();
  it.each(Object.keys(aws))("%s", (name) => {
    expect(resourcesOf(aws[name].platform.json, "kubernetes_config_map_v1_data")).toEqual({});
    const account = Object.values<any>(
      resourcesOf(aws[name].serving.json, "kubernetes_service_account_v1"),
    ).find((a) => a.metadata.name === PLATFORM_SERVICE_ACCOUNTS.kservePredictor.name);
    expect(account.metadata.annotations["serving.kserve.io/s3-usevirtualbucket"]).toBeUndefined();
  });
});

describe("kserveLoggerEntry", () => {
  it("builds the image as the chart does: repository, then tag, else the chart's version", () => {
    expect(kserveLoggerEntry("v0.20.0", {}, "ca").image).toBe("kserve/agent:v0.20.0");
    expect(
      kserveLoggerEntry("v0.20.0", { kserve: { agent: { image: "m/kserve/agent", tag: "" } } }, "ca").image,
    ).toBe("m/kserve/agent:v0.20.0");
    expect(
      kserveLoggerEntry("v0.20.0", { kserve: { version: "v9", agent: { tag: "t1" } } }, "ca").image,
    ).toBe("kserve/agent:t1");
    expect(kserveLoggerEntry("v0.20.0", { kserve: { version: "v9" } }, "ca").image).toBe("kserve/agent:v9");
  });

  it("refuses a chart version whose logger entry was not read, naming where to add it", () => {
    const stack = new TerraformStack(Testing.app(), "unit");
    const charts = new ChartCatalog({
      versions: {
        "kserve-crd": "v0.21.0",
        "kserve-resources": "v0.21.0",
        "kserve-runtime-configs": "v0.21.0",
      },
      values: {},
    });
    expect(
      () =>
        new Kserve(stack, "Kserve", {
          charts,
          namespace: "kserve",
          highAvailability: false,
          ingressClassName: "nginx",
          domain: "example.com",
          urlScheme: "https",
          dependsOn: [],
          loggerCaBundle: "kserve-object-store-ca",
        }),
    ).toThrow(
      /^kserve-resources v0\.21\.0: .*knows that entry only for v0\.20\.0; fix: read files\/common\/configmap-patch\.yaml of kserve-resources v0\.21\.0 and add its logger entry to CHART_LOGGER_ENTRIES/,
    );
  });
});

describe("the verifier's model of the logger agent (KServe v0.20.0 agent_injector.go, credential builder)", () => {
  const config = (logger: Record<string, unknown>) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "inferenceservice-config", namespace: "kserve" },
    data: {
      agent: JSON.stringify({
        image: "kserve/agent:v0.20.0",
        memoryRequest: "100Mi",
        memoryLimit: "1Gi",
        cpuRequest: "100m",
        cpuLimit: "1",
      }),
      logger: JSON.stringify({
        image: "kserve/agent:v0.20.0",
        defaultUrl: "http://default-broker",
        ...logger,
      }),
    },
  });
  const account = (annotations: Record<string, string>, secrets: string[]) => ({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "kserve-predictor", namespace: "mlops", annotations },
    secrets: secrets.map((name) => ({ name })),
  });
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "store-keys",
      namespace: "mlops",
      annotations: { "serving.kserve.io/s3-cabundle": "/etc/tls/logger/cabundle.crt" },
    },
  };
  const isvc = {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name: "churn",
      namespace: "mlops",
      annotations: { "serving.kserve.io/deploymentMode": "Standard" },
    },
    spec: {
      predictor: {
        name: "v7",
        serviceAccountName: "kserve-predictor",
        logger: {
          mode: "all",
          url: "s3://data/predictions/churn/v7",
          storage: { serviceAccountName: "kserve-predictor" },
        },
        model: { modelFormat: { name: "mlflow" } },
      },
    },
  };
  const pod = (objects: unknown[]) => {
    const deployment = kserveObjects(isvc as any, objects as any).find(
      (o) => o.object.kind === "Deployment",
    )!;
    const spec = (deployment.object.spec as any).template.spec;
    return { spec, agent: spec.containers.find((c: any) => c.name === "agent") };
  };

  it("mounts the logger entry's caBundle ConfigMap (optional) at /etc/tls/logger, with the Secret's AWS_CA_BUNDLE", () => {
    const { spec, agent } = pod([config({ caBundle: "store-ca" }), account({}, ["store-keys"]), secret]);
    expect(agent.volumeMounts).toEqual([
      { name: "agent-ca-bundle", mountPath: "/etc/tls/logger", readOnly: true },
    ]);
    expect(spec.volumes).toEqual([
      { name: "agent-ca-bundle", configMap: { name: "store-ca", optional: true } },
    ]);
    expect(agent.env).toEqual([{ name: "AWS_CA_BUNDLE", value: "/etc/tls/logger/cabundle.crt" }]);
  });

  it("mounts nothing without caBundle, and still passes the credential builder's AWS_CA_BUNDLE", () => {
    const { spec, agent } = pod([config({}), account({}, ["store-keys"]), secret]);
    expect(agent.volumeMounts).toBeUndefined();
    expect(spec.volumes).toBeUndefined();
    expect(agent.env).toEqual([{ name: "AWS_CA_BUNDLE", value: "/etc/tls/logger/cabundle.crt" }]);
  });

  it("reads a web identity account's own annotations, and nothing from an account without one", () => {
    const irsa = account(
      { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r", "serving.kserve.io/s3-cabundle": "/x/ca.pem" },
      [],
    );
    expect(pod([config({}), irsa]).agent.env).toEqual([{ name: "AWS_CA_BUNDLE", value: "/x/ca.pem" }]);
    const plain = account({ "serving.kserve.io/s3-cabundle": "/x/ca.pem" }, []);
    expect(pod([config({}), plain]).agent.env).toBeUndefined();
  });
});
