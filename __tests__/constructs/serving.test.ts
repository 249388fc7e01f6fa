import { Testing, TerraformStack } from "cdktf";
import { ModelServing, type ModelServingProps } from "../../constructs/serving/model-serving";
import { InferenceServices } from "../../constructs/serving/inference-services";
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
      ingressAnnotations: {},
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
