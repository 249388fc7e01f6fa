import { Testing, TerraformStack } from "cdktf";
import { ModelServing, type ModelServingProps } from "../../constructs/serving/model-serving";
import { InferenceServices, type ServedModel } from "../../constructs/serving/inference-services";
import { InferenceRoutes, type InferenceRoutesProps } from "../../constructs/serving/inference-routes";
import { ScheduledJobs, type ScheduledJobSpec } from "../../constructs/serving/scheduled-jobs";
import { imageName } from "../../constructs/lib/workload-defaults";

const stack = () => new TerraformStack(Testing.app(), "unit");
const synth = (s: TerraformStack) => JSON.parse(Testing.synth(s));

function serving(overrides: Partial<ModelServingProps> = {}) {
  const s = stack();
  new ModelServing(s, "Serving", {
    namespace: "mlops",
    image: "registry.example.com/mlops-serving:1.0.0",
    serviceAccount: { name: "mlops-serving", annotations: {} },
    trackingUri: "http://mlflow.mlflow.svc.cluster.local",
    model: { name: "m", alias: "champion" },
    exposure: { kind: "load-balancer", annotations: {} },
    ...overrides,
  });
  return synth(s);
}

describe("ModelServing", () => {
  it("defaults to 2 replicas and an HPA up to 6", () => {
    const json = serving();
    expect(Object.values<any>(json.resource.kubernetes_deployment_v1)[0].spec.replicas).toBe("2");
    expect(
      Object.values<any>(json.resource.kubernetes_horizontal_pod_autoscaler_v2)[0].spec.max_replicas,
    ).toBe(6);
  });

  it("tells the server which records a personal-data model may log, beside where they go", () => {
    const env = (json: any) =>
      Object.fromEntries(
        Object.values<any>(json.resource.kubernetes_deployment_v1)[0].spec.template.spec.container[0].env.map(
          (variable: any) => [variable.name, variable.value],
        ),
      );
    const responsesOnly = env(
      serving({ predictionLogUri: "s3://data/predictions/m", predictionLogMode: "response" }),
    );
    expect(responsesOnly).toMatchObject({
      PREDICTION_LOG_URI: "s3://data/predictions/m",
      PREDICTION_LOG_MODE: "response",
    });
    // A model that logs nothing gets neither: the server has nowhere to write.
    const silent = env(serving());
    expect(silent.PREDICTION_LOG_URI).toBeUndefined();
    expect(silent.PREDICTION_LOG_MODE).toBeUndefined();
  });

  it("fails on fewer than 2 replicas", () => {
    expect(() => serving({ replicas: 1 })).toThrow(
      "ModelServing mlops-serving: replicas (1) must be a whole number >= 2",
    );
  });

  it("fails on an HPA ceiling below the replicas", () => {
    expect(() => serving({ replicas: 3, maxReplicas: 2 })).toThrow(
      "maxReplicas (2) must be a whole number >= replicas (3)",
    );
  });
});

describe("InferenceServices", () => {
  it("puts a GPU model's predictor on the GPU group with one GPU", () => {
    const s = stack();
    new InferenceServices(s, "Models", {
      namespace: "mlops",
      artifactsBucket: "bucket",
      serviceAccountName: "kserve-predictor",
      gpuPlacement: {
        nodeSelector: { workload: "gpu" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      },
      models: [
        {
          name: "vision",
          registeredModel: "vision",
          version: 2,
          artifactPath: "mlflow/3/run/artifacts/model",
          format: "pytorch",
          gpu: true,
          minReplicas: 1,
          maxReplicas: 2,
        },
      ],
    });
    const [manifest] = Object.values<any>(synth(s).resource.kubernetes_manifest);
    const predictor = manifest.manifest.spec.predictor;
    expect(predictor.nodeSelector).toEqual({ workload: "gpu" });
    expect(predictor.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    expect(predictor.model.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(predictor.model.storageUri).toBe("s3://bucket/mlflow/3/run/artifacts/model");
  });
});

describe("InferenceServices across a version change", () => {
  const churn = (version: number, canary?: ServedModel["canary"]): ServedModel => ({
    name: "churn",
    registeredModel: "churn",
    version,
    artifactPath: `mlflow/1/run${version}/artifacts/model`,
    format: "mlflow",
    gpu: false,
    minReplicas: 2,
    maxReplicas: 4,
    ...(canary ? { canary } : {}),
  });
  const build = (model: ServedModel) => {
    const s = stack();
    const services = new InferenceServices(s, "Models", {
      namespace: "mlops",
      artifactsBucket: "bucket",
      serviceAccountName: "kserve-predictor",
      gpuPlacement: { nodeSelector: {}, tolerations: [] },
      models: [model],
    });
    new InferenceRoutes(s, "Routes", {
      namespace: "mlops",
      models: [model],
      host: (name) => `${name}-mlops.example.com`,
      className: "alb",
      annotations: {},
      weightedRouting: "forward-action",
      inferenceServices: services.byModel,
    });
    const json = synth(s);
    const [isvc] = Object.values<any>(json.resource.kubernetes_manifest);
    const [route] = Object.values<any>(json.resource.kubernetes_ingress_v1);
    return { isvc, route };
  };
  const predictorNames = (isvc: any) => [
    isvc.manifest.spec.predictor.name,
    ...(isvc.manifest.spec.canary ?? []).map((c: any) => c.predictor.name),
  ];

  it("keeps the predictors' names, and so their Deployments and Services, when the version changes (KServe deletes a predictor whose name goes)", () => {
    const v7 = build(churn(7));
    const v8 = build(churn(8));
    expect(predictorNames(v7.isvc)).toEqual(["primary"]);
    expect(predictorNames(v8.isvc)).toEqual(["primary"]);
    expect(v8.route.spec.rule[0].http.path[0].backend.service.name).toBe("churn-primary-predictor");
    expect(v8.route.spec).toEqual(v7.route.spec);
    // The version the pods serve is in their labels, which the rolling update changes.
    expect(v7.isvc.manifest.spec.predictor.labels["mlops-platform/model-version"]).toBe("v7");
    expect(v8.isvc.manifest.spec.predictor.labels["mlops-platform/model-version"]).toBe("v8");
  });

  it("keeps the canary's name when its version changes, and promoting it keeps the primary's name", () => {
    const canary = (version: number) => ({
      version,
      artifactPath: `mlflow/1/run${version}/artifacts/model`,
      trafficPercent: 10,
    });
    const trying8 = build(churn(7, canary(8)));
    const trying9 = build(churn(7, canary(9)));
    const promoted = build(churn(8));
    expect(predictorNames(trying8.isvc)).toEqual(["primary", "canary"]);
    expect(predictorNames(trying9.isvc)).toEqual(["primary", "canary"]);
    expect(predictorNames(promoted.isvc)).toEqual(["primary"]);
    expect(trying9.route.metadata.annotations).toEqual(trying8.route.metadata.annotations);
    expect(trying8.isvc.manifest.spec.canary[0].predictor.labels).toEqual({
      "mlops-platform/model-version": "v8",
      "mlops-platform/track": "canary",
    });
  });

  it("makes the runtime ready only once the model is loaded: an HTTP probe on the v2 readiness path, primary and canary", () => {
    const { isvc } = build(
      churn(7, { version: 8, artifactPath: "mlflow/1/run8/artifacts/model", trafficPercent: 10 }),
    );
    const probe = {
      httpGet: { path: "/v2/health/ready", port: 8080 },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
    expect(isvc.manifest.spec.predictor.model.readinessProbe).toEqual(probe);
    expect(isvc.manifest.spec.canary[0].predictor.model.readinessProbe).toEqual(probe);
    // KServe sets no liveness probe; none is added that could restart a slow model load.
    expect(isvc.manifest.spec.predictor.model.livenessProbe).toBeUndefined();
  });

  it("waits for a canary to be ready before its route names the canary's Service", () => {
    const { isvc, route } = build(
      churn(7, { version: 8, artifactPath: "mlflow/1/run8/artifacts/model", trafficPercent: 10 }),
    );
    expect(isvc.wait).toEqual({ condition: [{ type: "CanaryPredictorReady", status: "True" }] });
    expect(isvc.timeouts).toEqual({ create: "20m", update: "20m" });
    expect(route.depends_on).toEqual([expect.stringMatching(/^kubernetes_manifest\.Models_churn_/)]);
  });

  it("applies a model without canary without waiting, its route still after it", () => {
    const { isvc, route } = build(churn(7));
    expect(isvc.wait).toBeUndefined();
    expect(route.depends_on).toEqual([expect.stringMatching(/^kubernetes_manifest\.Models_churn_/)]);
  });
});

describe("InferenceRoutes", () => {
  const churn: ServedModel = {
    name: "churn",
    registeredModel: "churn",
    version: 7,
    artifactPath: "mlflow/1/run7/artifacts/model",
    format: "mlflow",
    gpu: false,
    minReplicas: 2,
    maxReplicas: 4,
    canary: { version: 8, artifactPath: "mlflow/1/run8/artifacts/model", trafficPercent: 25 },
  };
  const routes = (overrides: Partial<InferenceRoutesProps> = {}) => {
    const s = stack();
    new InferenceRoutes(s, "Routes", {
      namespace: "mlops",
      models: [churn],
      host: (model) => `${model}-mlops.example.com`,
      className: "nginx",
      annotations: { "cert-manager.io/cluster-issuer": "organisation-ca" },
      tlsSecret: (host) => `${host}-tls`,
      weightedRouting: "canary-ingress",
      ...overrides,
    });
    return Object.fromEntries(
      Object.values<any>(synth(s).resource.kubernetes_ingress_v1).map((i) => [i.metadata.name, i]),
    );
  };

  it("splits by ingress-nginx's canary: a second Ingress for the same host and path, weighted, without TLS", () => {
    const { "churn-route": main, "churn-canary": canary } = routes();
    expect(main.metadata.annotations).toEqual({ "cert-manager.io/cluster-issuer": "organisation-ca" });
    expect(main.spec.tls).toEqual([
      { hosts: ["churn-mlops.example.com"], secret_name: "churn-mlops.example.com-tls" },
    ]);
    expect(main.spec.rule[0].http.path[0].backend.service).toEqual({
      name: "churn-primary-predictor",
      port: { number: 80 },
    });
    expect(canary.metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/canary": "true",
      "nginx.ingress.kubernetes.io/canary-weight": "25",
    });
    expect(canary.spec.tls).toBeUndefined();
    expect(canary.spec.rule[0].host).toBe(main.spec.rule[0].host);
    expect(canary.spec.rule[0].http.path[0]).toMatchObject({
      path: main.spec.rule[0].http.path[0].path,
      path_type: main.spec.rule[0].http.path[0].path_type,
      backend: { service: { name: "churn-canary-predictor", port: { number: 80 } } },
    });
  });

  it("makes no canary Ingress for a model without canary", () => {
    const { canary: _none, ...stable } = churn;
    expect(Object.keys(routes({ models: [stable] }))).toEqual(["churn-route"]);
  });

  it("carries a change of certificate or health check on its own annotations (KServe would not update its Ingress)", () => {
    const alb = (certificate: string) =>
      routes({
        className: "alb",
        weightedRouting: "forward-action",
        tlsSecret: undefined,
        annotations: {
          "alb.ingress.kubernetes.io/certificate-arn": certificate,
          "alb.ingress.kubernetes.io/healthcheck-path": "/v2/health/ready",
        },
      })["churn-route"];
    const before = alb("arn:aws:acm:eu-west-1:111111111111:certificate/old");
    const after = alb("arn:aws:acm:eu-west-1:111111111111:certificate/new");
    expect(after.metadata.annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(
      "arn:aws:acm:eu-west-1:111111111111:certificate/new",
    );
    expect(before.metadata.annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(
      "arn:aws:acm:eu-west-1:111111111111:certificate/old",
    );
    // The action and the rest of the route stay as they were.
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.annotations["alb.ingress.kubernetes.io/actions.churn-split"]).toBe(
      before.metadata.annotations["alb.ingress.kubernetes.io/actions.churn-split"],
    );
  });

  it.each([0, 100, 12.5])("fails on a canary share of %s, naming the field and the fix", (trafficPercent) => {
    expect(() => routes({ models: [{ ...churn, canary: { ...churn.canary!, trafficPercent } }] })).toThrow(
      `InferenceRoutes churn: canary.trafficPercent (${trafficPercent}) must be a whole number from 1 to 99; promote the canary or remove it instead`,
    );
  });
});

describe("ScheduledJobs", () => {
  const job: ScheduledJobSpec = {
    name: "nightly",
    schedule: "0 2 * * *",
    image: "img:1",
    args: [],
    serviceAccountName: "sa",
    env: {},
    placement: { nodeSelector: {}, tolerations: [] },
    deadlineSeconds: 600,
    resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
  };

  it("fails on a schedule that is not a cron expression", () => {
    expect(
      () =>
        new ScheduledJobs(stack(), "Jobs", { namespace: "mlops", jobs: [{ ...job, schedule: "@nightly" }] }),
    ).toThrow('ScheduledJobs nightly: schedule "@nightly" must be a five-field cron expression');
  });

  it("fails on a deadline under a minute", () => {
    expect(
      () =>
        new ScheduledJobs(stack(), "Jobs", { namespace: "mlops", jobs: [{ ...job, deadlineSeconds: 30 }] }),
    ).toThrow("deadlineSeconds (30) must be a whole number >= 60");
  });
});

describe("imageName", () => {
  it("pins by digest when there is one", () => {
    expect(imageName("r/app", { digest: `sha256:${"b".repeat(64)}` })).toBe(`r/app@sha256:${"b".repeat(64)}`);
    expect(imageName("r/app", { tag: "1.2.3" })).toBe("r/app:1.2.3");
  });

  it("fails without tag or digest", () => {
    expect(() => imageName("r/app", {})).toThrow("image of r/app names neither a tag nor a digest");
  });
});
