/**
 * The admission and routing rules on fixtures they refuse and admit: each check as the
 * component's webhook at the pinned tag would decide, and canary routes as the load balancer
 * controller and ingress-nginx read them.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import { admissionRule, ADMISSION_CHECKS } from "../../scripts/verify/admission";
import { operandObjects } from "../../scripts/verify/operands";
import { routingRule } from "../../scripts/verify/rules/routing";
import { stateOf } from "./fixtures";

/** A ValidatingWebhookConfiguration registering every check's resource. */
const webhooks: KubernetesObject = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingWebhookConfiguration",
  metadata: { name: "all" },
  webhooks: ADMISSION_CHECKS.map((c) => ({
    name: `${c.resource}.test`,
    failurePolicy: "Fail",
    rules: [{ apiGroups: [c.group], resources: [c.resource], operations: ["CREATE", "UPDATE"] }],
  })),
} as KubernetesObject;

const admission = (objects: KubernetesObject[], registered = true): string[] =>
  admissionRule()
    .check(stateOf(registered ? [webhooks, ...objects] : objects), {})
    .map((f) => `${f.object} ${f.severity} ${f.message}; fix: ${f.fix}`);

const isvc = (predictor: Record<string, unknown>, canary?: Record<string, unknown>[]): KubernetesObject => ({
  apiVersion: "serving.kserve.io/v1beta1",
  kind: "InferenceService",
  metadata: {
    name: "churn",
    namespace: "apps",
    annotations: { "serving.kserve.io/deploymentMode": "Standard" },
  },
  spec: { predictor, ...(canary ? { canary } : {}) },
});
const model = (extra: Record<string, unknown> = {}) => ({
  modelFormat: { name: "mlflow" },
  protocolVersion: "v2",
  storageUri: "s3://b/m",
  ...extra,
});

// One fixture the webhook refuses and one it admits per check, with the text the finding must carry.
const CASES: { name: string; refused: KubernetesObject; admitted: KubernetesObject; reported: string }[] = [
  {
    name: "KServe: a named model on the primary predictor (validatePredictor)",
    refused: isvc({ name: "v7", model: model({ name: "kserve-container" }) }),
    admitted: isvc({ name: "v7", model: model() }),
    reported:
      "spec.predictor.model.name: \"kserve-container\": the 'name' field is not allowed in standard predictor",
  },
  {
    name: "KServe: a canary with maxReplicas (validateCanarySpecs)",
    refused: isvc({ name: "v7", minReplicas: 1, model: model() }, [
      {
        predictor: { name: "v8", minReplicas: 1, maxReplicas: 3, model: model({ name: "kserve-container" }) },
        trafficPercent: 10,
      },
    ]),
    admitted: isvc({ name: "v7", minReplicas: 2, model: model() }, [
      {
        predictor: { name: "v8", minReplicas: 1, model: model({ name: "kserve-container" }) },
        trafficPercent: 10,
      },
    ]),
    reported: "spec.canary[0].predictor.maxReplicas: must not be set (canary uses fixed replicas)",
  },
  {
    name: "KServe: two ClusterServingRuntimes auto-selecting one format at one priority (validateServingRuntimePriority)",
    refused: {
      apiVersion: "serving.kserve.io/v1alpha1",
      kind: "ClusterServingRuntime",
      metadata: { name: "b" },
      spec: {
        protocolVersions: ["v2"],
        supportedModelFormats: [{ name: "sklearn", autoSelect: true, priority: 1 }],
      },
    },
    admitted: {
      apiVersion: "serving.kserve.io/v1alpha1",
      kind: "ClusterServingRuntime",
      metadata: { name: "b" },
      spec: {
        protocolVersions: ["v2"],
        supportedModelFormats: [{ name: "sklearn", autoSelect: true, priority: 2 }],
      },
    },
    reported: "same priority 1 assigned for the model format sklearn as ClusterServingRuntime a",
  },
  {
    name: "cert-manager: a Certificate renewing before it is issued (ValidateDuration)",
    refused: {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "web", namespace: "apps" },
      spec: {
        secretName: "web-tls",
        dnsNames: ["a.example.com"],
        issuerRef: { name: "ca", kind: "ClusterIssuer" },
        duration: "24h",
        renewBefore: "48h",
      },
    },
    admitted: {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "web", namespace: "apps" },
      spec: {
        secretName: "web-tls",
        dnsNames: ["a.example.com"],
        issuerRef: { name: "ca", kind: "ClusterIssuer" },
        duration: "24h",
        renewBefore: "8h",
      },
    },
    reported: "spec.renewBefore: 48h must be less than the duration 24h",
  },
  {
    name: "cert-manager: an Issuer with two issuer types (ValidateIssuerConfig)",
    refused: {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: { name: "i", namespace: "apps" },
      spec: { selfSigned: {}, ca: { secretName: "ca" } },
    },
    admitted: {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: { name: "i", namespace: "apps" },
      spec: { ca: { secretName: "ca" } },
    },
    reported: "may not specify more than one issuer type",
  },
  {
    name: "CloudNativePG: a single-instance Cluster with the supervised strategy (validatePrimaryUpdateStrategy)",
    refused: {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: { name: "db", namespace: "apps" },
      spec: {
        instances: 1,
        imageName: "registry.example.com/postgresql:17.6",
        storage: { size: "1Gi" },
        primaryUpdateStrategy: "supervised",
      },
    },
    admitted: {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: { name: "db", namespace: "apps" },
      spec: {
        instances: 1,
        imageName: "registry.example.com/postgresql:17.6",
        storage: { size: "1Gi" },
        primaryUpdateStrategy: "unsupervised",
      },
    },
    reported: "supervised update strategy is not allowed for clusters with a single instance",
  },
  {
    name: "CloudNativePG: a ScheduledBackup whose schedule does not parse (ScheduledBackup validate)",
    refused: {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "ScheduledBackup",
      metadata: { name: "daily", namespace: "apps" },
      spec: { schedule: "every day", cluster: { name: "db" } },
    },
    admitted: {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "ScheduledBackup",
      metadata: { name: "daily", namespace: "apps" },
      spec: { schedule: "0 0 2 * * *", cluster: { name: "db" } },
    },
    reported: 'spec.schedule: "every day": expected 6 fields (seconds first), found 2',
  },
  {
    name: "External Secrets: deleting a Secret the controller does not own (validatePolicies)",
    refused: {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: "db", namespace: "apps" },
      spec: {
        target: { creationPolicy: "Merge", deletionPolicy: "Delete" },
        data: [{ secretKey: "password", remoteRef: { key: "db" } }],
      },
    },
    admitted: {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: "db", namespace: "apps" },
      spec: {
        target: { creationPolicy: "Owner", deletionPolicy: "Delete" },
        data: [{ secretKey: "password", remoteRef: { key: "db" } }],
      },
    },
    reported:
      "spec.target.deletionPolicy: Delete must not be used when the controller doesn't own the secret",
  },
  {
    name: "prometheus-operator: two rule groups of one name (ValidateRule -> rulefmt.Parse)",
    refused: {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "r", namespace: "monitoring" },
      spec: {
        groups: [
          { name: "g", rules: [{ alert: "A", expr: "up == 0" }] },
          { name: "g", rules: [{ record: "r:up", expr: "up" }] },
        ],
      },
    },
    admitted: {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "r", namespace: "monitoring" },
      spec: {
        groups: [
          { name: "g", rules: [{ alert: "A", expr: "up == 0" }] },
          { name: "h", rules: [{ record: "r:up", expr: "up" }] },
        ],
      },
    },
    reported: 'spec.groups[1].name: "g": repeated in the same file',
  },
];

const other: KubernetesObject = {
  apiVersion: "serving.kserve.io/v1alpha1",
  kind: "ClusterServingRuntime",
  metadata: { name: "a" },
  spec: {
    protocolVersions: ["v2"],
    supportedModelFormats: [{ name: "sklearn", autoSelect: true, priority: 1 }],
  },
};

describe("admission", () => {
  it.each(CASES)(
    "$name: refused, one line naming the object, the rule and the fix",
    ({ refused, reported }) => {
      const extra = refused.kind === "ClusterServingRuntime" ? [other] : [];
      const lines = admission([...extra, refused]).filter((l) => !l.includes(" warning "));
      expect(lines).toEqual([expect.stringContaining(reported)]);
      expect(lines[0]).toMatch(/refused\); fix: \S/);
    },
  );

  it.each(CASES)("$name: the corrected object is admitted", ({ admitted }) => {
    const extra = admitted.kind === "ClusterServingRuntime" ? [other] : [];
    expect(admission([...extra, admitted])).toEqual([]);
  });

  it("checks nothing when no webhook is registered for the kind", () => {
    expect(admission([CASES[0].refused], false)).toEqual([]);
  });

  it("warns on a five-field backup schedule, which the operator reads seconds first", () => {
    const backup = {
      ...CASES[6].admitted,
      spec: { schedule: "0 2 * * *", cluster: { name: "db" } },
    };
    expect(admission([backup])).toEqual([
      expect.stringMatching(/warning .*has 5 fields.*fix: add the seconds field/),
    ]);
  });
});

describe("routing", () => {
  const readinessProbe = { httpGet: { path: "/v2/health/ready", port: 8080 } };
  const canaryIsvc = isvc({ name: "primary", minReplicas: 2, model: model({ readinessProbe }) }, [
    {
      predictor: {
        name: "canary",
        minReplicas: 1,
        model: model({ name: "kserve-container", readinessProbe }),
      },
      trafficPercent: 10,
    },
  ]);
  const kserveConfig: KubernetesObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "inferenceservice-config", namespace: "kserve" },
    data: { ingress: JSON.stringify({ ingressClassName: "alb", ingressDomain: "models.example.com" }) },
  } as KubernetesObject;
  const base = [kserveConfig, canaryIsvc];
  const withController = (objects: KubernetesObject[]) => [
    ...objects,
    ...operandObjects(objects).map((o) => o.object),
  ];
  const route = (objects: KubernetesObject[]) =>
    routingRule
      .check(stateOf(withController(objects)), {})
      .map((f) => `${f.object} ${f.message}; fix: ${f.fix}`);
  const ingress = (
    name: string,
    annotations: Record<string, string>,
    service: string,
    port: Record<string, unknown>,
  ): KubernetesObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: "apps", annotations },
    spec: {
      rules: [
        {
          host: "churn.example.com",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port } } }] },
        },
      ],
    },
  });
  const alb = (canaryWeight: number) =>
    ingress(
      "churn-split",
      {
        "alb.ingress.kubernetes.io/actions.churn-split": JSON.stringify({
          type: "forward",
          forwardConfig: {
            targetGroups: [
              { serviceName: "churn-primary-predictor", servicePort: 80, weight: 100 - canaryWeight },
              { serviceName: "churn-canary-predictor", servicePort: 80, weight: canaryWeight },
            ],
          },
        }),
      },
      "churn-split",
      { name: "use-annotation" },
    );

  it("reports a canary only KServe's own Ingress serves, naming the Services and the fix", () => {
    expect(route(base)).toEqual([
      "InferenceService apps/churn canary canary has trafficPercent 10 but no route sends traffic to its Service churn-canary-predictor: KServe's Ingress routes only to churn-primary-predictor; fix: route 10% to Service apps/churn-canary-predictor and the rest to churn-primary-predictor: an ALB forward action (alb.ingress.kubernetes.io/actions.<name>, backend port use-annotation) or an ingress-nginx canary Ingress with canary-weight 10",
    ]);
  });

  it("accepts an ALB weighted forward action across both predictor Services with the canary's share", () => {
    expect(route([...base, alb(10)])).toEqual([]);
  });

  it("reports an ALB action whose weights give the canary another share", () => {
    expect(route([...base, alb(50)])).toEqual([expect.stringContaining("its route sends it 50%")]);
  });

  it("accepts an ingress-nginx canary Ingress on the primary's host and path with the canary's weight", () => {
    const primary = ingress("churn", {}, "churn-primary-predictor", { number: 80 });
    const canary = ingress(
      "churn-canary",
      { "nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10" },
      "churn-canary-predictor",
      { number: 80 },
    );
    expect(route([...base, primary, canary])).toEqual([]);
    const elsewhere = {
      ...canary,
      spec: { rules: [{ host: "other.example.com", http: (canary.spec as any).rules[0].http }] },
    };
    expect(route([...base, primary, elsewhere as KubernetesObject])).toHaveLength(1);
  });

  it("reports a routed predictor KServe gives its default TCP readiness probe, which passes before the model loads", () => {
    const untested = isvc({ name: "primary", minReplicas: 2, model: model() });
    const primary = ingress("churn", {}, "churn-primary-predictor", { number: 80 });
    expect(route([kserveConfig, untested, primary])).toEqual([
      "InferenceService apps/churn predictor primary (Deployment churn-primary-predictor) is ready once port 8080 accepts connections, before its model is loaded: its route sends requests to pods that cannot answer them; fix: give the predictor's model an HTTP readinessProbe on the runtime's readiness path (model.readinessProbe.httpGet, e.g. /v2/health/ready on port 8080)",
    ]);
    const probed = isvc({ name: "primary", minReplicas: 2, model: model({ readinessProbe }) });
    expect(route([kserveConfig, probed, primary])).toEqual([]);
  });
});
