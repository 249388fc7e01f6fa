/**
 * Each verify rule against a fixture that violates it and one that passes.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import { CrdCatalog } from "../../scripts/verify/crds";
import type { Finding } from "../../scripts/verify/finding";
import type { Flow } from "../../scripts/verify/flows";
import { operandObjects } from "../../scripts/verify/operands";
import { imagesRule } from "../../scripts/verify/rules/images";
import { networkRule } from "../../scripts/verify/rules/network";
import { ownershipRule } from "../../scripts/verify/rules/ownership";
import { podSecurityRule } from "../../scripts/verify/rules/pod-security";
import { quotaRule } from "../../scripts/verify/rules/quotas";
import { referencesRule } from "../../scripts/verify/rules/references";
import type { Rule, RuleContext } from "../../scripts/verify/rules/rule";
import { schemaRule } from "../../scripts/verify/rules/schema";
import type { ClusterState } from "../../scripts/verify/state";
import { deployment, namespace, networkPolicy, restrictedContainer, service, stateOf } from "./fixtures";

function run(rule: Rule, state: ClusterState, context: RuleContext = {}): Finding[] {
  return rule.check(state, context);
}

function messages(findings: Finding[]): string[] {
  return findings.map((f) => `${f.object}: ${f.message}`);
}

describe("schema", () => {
  const crds = new CrdCatalog("fixture-crds", [
    {
      file: "widgets.yaml",
      group: "example.com",
      kind: "Widget",
      versions: [
        {
          name: "v1",
          served: true,
          schema: {
            type: "object",
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["size"],
                properties: {
                  size: { "x-kubernetes-int-or-string": true },
                  mode: { type: "string", enum: ["fast", "safe"] },
                  extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                },
              },
            },
          },
        },
        { name: "v0", served: false },
      ],
    },
  ]);
  const widgetCrd: KubernetesObject = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
      versions: [
        { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
      ],
    },
  };
  const widget = (spec: Record<string, unknown>, apiVersion = "example.com/v1"): KubernetesObject => ({
    apiVersion,
    kind: "Widget",
    metadata: { name: "w", namespace: "apps" },
    spec,
  });

  it("passes valid built-in objects and custom resources (int-or-string, preserved unknown fields)", () => {
    const state = stateOf([
      widgetCrd,
      deployment("apps", "web"),
      widget({ size: "10Gi", mode: "safe", extra: { anything: { goes: 1 } } }),
      widget({ size: 3 }),
    ]);
    expect(messages(run(schemaRule, state, { crds }))).toEqual([]);
  });

  it("reports unknown fields, wrong types and bad enums of built-in kinds", () => {
    const bad = deployment("apps", "web", {
      containers: [restrictedContainer("app", { resource: { limits: { cpu: "1" } } })],
    });
    (bad.spec as { replicas: unknown }).replicas = "2";
    (bad.spec as { strategy: unknown }).strategy = { type: "BlueGreen" };
    const found = messages(run(schemaRule, stateOf([bad]), { crds }));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('spec.template.spec.containers[0].resource: unknown field "resource"'),
        expect.stringContaining('spec.replicas: must be a number, found "2"'),
        expect.stringContaining('spec.strategy.type: "BlueGreen" is not one of "Recreate", "RollingUpdate"'),
      ]),
    );
  });

  it("reports a missing required CRD field, an unknown field, an enum and an unserved version", () => {
    const found = messages(
      run(
        schemaRule,
        stateOf([widgetCrd, widget({ mode: "turbo", colour: "red" }), widget({ size: 1 }, "example.com/v0")]),
        { crds },
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('spec.size: required field "size" is missing'),
        expect.stringContaining('spec.colour: unknown field "colour"'),
        expect.stringContaining("spec.mode: must be one of"),
        expect.stringContaining("example.com/v0 is not a served version of Widget (served: v1"),
      ]),
    );
  });

  it("reports custom resources whose CRD no release installs, and APIs Kubernetes does not serve", () => {
    const found = messages(
      run(
        schemaRule,
        stateOf([
          widget({ size: 1 }),
          { apiVersion: "policy/v1beta1", kind: "PodSecurityPolicy", metadata: { name: "p" } },
        ]),
        { crds },
      ),
    );
    expect(found).toEqual([
      expect.stringContaining("no release of the environment installs the CRD of example.com Widget"),
      expect.stringContaining("policy/v1beta1 PodSecurityPolicy is not served by Kubernetes 1.34"),
    ]);
  });
});

describe("ownership", () => {
  it("passes objects with one owner each", () => {
    expect(run(ownershipRule, stateOf([namespace("apps"), deployment("apps", "web")]))).toEqual([]);
  });

  it("reports an object two owners create", () => {
    const state = stateOf([deployment("apps", "web")]);
    state.objects.push({ object: deployment("apps", "web"), source: "dev-platform helm_release other" });
    expect(messages(run(ownershipRule, state))).toEqual([
      "Deployment apps/web: is also created by fixture: two owners overwrite each other",
    ]);
  });

  it("reports a Namespace an Argo CD Application's build emits, with the kustomize fix", () => {
    const state = stateOf([namespace("kubeflow")]);
    state.objects.push({
      object: namespace("kubeflow"),
      source: "dev-platform helm_release argocd-apps Application kubeflow-pipelines (manifests/kustomize)",
    });
    const findings = run(ownershipRule, state);
    expect(messages(findings)).toEqual([
      "Namespace kubeflow: is emitted by the Argo CD Application's build and also created by fixture: deleting the Application deletes the namespace and everything in it",
    ]);
    expect(findings[0].fix).toContain("$patch: delete");
  });
});

describe("pod-security", () => {
  it("passes a pod that meets restricted", () => {
    expect(run(podSecurityRule, stateOf([namespace("apps"), deployment("apps", "web")]))).toEqual([]);
  });

  it("reports each restricted control a container misses", () => {
    const container = restrictedContainer();
    container.securityContext = { runAsNonRoot: true };
    const found = messages(
      run(
        podSecurityRule,
        stateOf([namespace("apps"), deployment("apps", "web", { containers: [container] })]),
      ),
    );
    expect(found).toEqual([
      expect.stringContaining('container "app" must set securityContext.allowPrivilegeEscalation=false'),
      expect.stringContaining('container "app" must drop ALL capabilities'),
      expect.stringContaining(
        'container "app" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost',
      ),
    ]);
    expect(found[0]).toContain("namespace apps enforces restricted");
  });

  it("takes runAsNonRoot and seccomp from the pod's security context", () => {
    const container = restrictedContainer();
    container.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
    const pod = { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } };
    expect(
      run(
        podSecurityRule,
        stateOf([namespace("apps"), deployment("apps", "web", { containers: [container], pod })]),
      ),
    ).toEqual([]);
  });

  it("applies baseline in baseline namespaces: hostPath and privileged are out, missing seccomp is fine", () => {
    const container = restrictedContainer();
    container.securityContext = { privileged: true };
    const pod = { volumes: [{ name: "host", hostPath: { path: "/var/run" } }] };
    const found = messages(
      run(
        podSecurityRule,
        stateOf([
          namespace("jobs", "baseline"),
          deployment("jobs", "step", { containers: [container], pod }),
        ]),
      ),
    );
    expect(found).toEqual([
      expect.stringContaining('volume "host" is a hostPath'),
      expect.stringContaining('container "app" is privileged'),
    ]);
  });

  it("checks nothing in privileged namespaces", () => {
    const pod = { hostNetwork: true };
    expect(
      run(podSecurityRule, stateOf([namespace("node", "privileged"), deployment("node", "agent", { pod })])),
    ).toEqual([]);
  });
});

describe("quotas", () => {
  const quota = (cpu: string): KubernetesObject => ({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "q", namespace: "apps" },
    spec: { hard: { "requests.cpu": cpu, "limits.cpu": cpu, "limits.memory": "8Gi" } },
  });
  const limitRange: KubernetesObject = {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "defaults", namespace: "apps" },
    spec: {
      limits: [
        {
          type: "Container",
          default: { cpu: "1", memory: "1Gi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
        },
      ],
    },
  };
  const bare = (name: string) => ({ name, image: "registry.example.com/x:1" });

  it("counts LimitRange defaults for containers without limits", () => {
    // Two containers without limits get 1 CPU each; one replica plus one surge pod: 4 CPU.
    const state = stateOf([
      quota("3"),
      limitRange,
      deployment("apps", "web", { containers: [bare("a"), bare("b")], replicas: 1 }),
    ]);
    const found = messages(run(quotaRule, state));
    expect(found).toEqual([expect.stringContaining("limits.cpu at maximum scale is 4, over the quota of 3")]);
    expect(
      run(
        quotaRule,
        stateOf([quota("4"), limitRange, deployment("apps", "web", { containers: [bare("a"), bare("b")] })]),
      ),
    ).toEqual([]);
  });

  it("counts HPAs at their maximum and DaemonSets once per node they fit at the groups' maxima", () => {
    const hpa: KubernetesObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "apps" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 4,
      },
    };
    const daemon: KubernetesObject = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "apps" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: {
            containers: [restrictedContainer("agent")],
            tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          },
        },
      },
    };
    // web: 4 replicas + 1 surge at 0.5 CPU = 2.5; agent: 3 general + 2 gpu nodes at 0.5 = 2.5.
    const found = messages(run(quotaRule, stateOf([quota("4.9"), deployment("apps", "web"), hpa, daemon])));
    expect(found).toEqual([
      expect.stringContaining("limits.cpu at maximum scale is 5, over the quota of 4.9"),
    ]);
    expect(run(quotaRule, stateOf([quota("5"), deployment("apps", "web"), hpa, daemon]))).toEqual([]);
  });

  it("reports containers without limits where the quota counts limits and nothing gives defaults", () => {
    const found = messages(
      run(quotaRule, stateOf([quota("10"), deployment("apps", "web", { containers: [bare("a")] })])),
    );
    expect(found).toEqual([
      expect.stringContaining("containers without limits (a (cpu), a (memory)) are rejected"),
    ]);
  });
});

describe("references", () => {
  const rule = referencesRule([]);
  const web = () => deployment("apps", "web", { labels: { app: "web" }, pod: { serviceAccountName: "web" } });
  const account: KubernetesObject = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "web", namespace: "apps" },
  };
  const svc = () => service("apps", "web", { app: "web" }, [{ name: "http", port: 80, targetPort: "http" }]);
  const monitor = (port: string): KubernetesObject => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: "web", namespace: "apps" },
    spec: { selector: { matchLabels: { app: "web" } }, endpoints: [{ port, path: "/metrics" }] },
  });
  const pdb = (minAvailable: number): KubernetesObject => ({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "apps" },
    spec: { minAvailable, selector: { matchLabels: { app: "web" } } },
  });

  it("passes when every reference resolves", () => {
    expect(messages(run(rule, stateOf([web(), account, svc(), monitor("http"), pdb(0)])))).toEqual([]);
  });

  it("reports a ServiceMonitor port the Service does not name", () => {
    const found = messages(run(rule, stateOf([web(), account, svc(), monitor("metrics")])));
    expect(found).toEqual([
      expect.stringContaining('endpoint port "metrics" is not a port name of the selected Service(s) (http)'),
    ]);
  });

  it("reports a PDB that allows no eviction", () => {
    const found = messages(run(rule, stateOf([web(), account, pdb(1)])));
    expect(found).toEqual([
      expect.stringContaining("allows no eviction: minAvailable 1 with 1 replica(s), so node drains block"),
    ]);
  });

  it("reports Services selecting nothing, named target ports no pod has, and missing HPA targets", () => {
    const hpa: KubernetesObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "api", namespace: "apps" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" }, maxReplicas: 3 },
    };
    const found = messages(
      run(
        rule,
        stateOf([
          web(),
          account,
          service("apps", "api", { app: "api" }, [{ port: 80 }]),
          service("apps", "web", { app: "web" }, [{ port: 80, targetPort: "grpc" }]),
          hpa,
        ]),
      ),
    );
    expect(found).toEqual([
      expect.stringContaining('selector {"app":"api"} matches no pod template in apps'),
      expect.stringContaining('port 80 targets container port "grpc", which no selected pod names'),
      expect.stringContaining("scale target Deployment apps/api does not exist"),
    ]);
  });

  it("reports Secrets, ConfigMaps and ServiceAccounts pods use that nothing creates, unless declared out of band", () => {
    const container = restrictedContainer("app", {
      envFrom: [{ secretRef: { name: "creds" } }],
      env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } }],
    });
    const pod = deployment("apps", "web", { containers: [container], pod: { serviceAccountName: "web" } });
    expect(messages(run(rule, stateOf([pod])))).toEqual([
      expect.stringContaining("runs as ServiceAccount apps/web, which nothing in the state creates"),
      expect.stringContaining('reads env MODE of "app" from ConfigMap apps/settings'),
      expect.stringContaining('loads the environment of "app" from Secret apps/creds'),
    ]);
    const declared = referencesRule([
      { kind: "Secret", namespace: "apps", name: "creds", createdBy: "test" },
      { kind: "ConfigMap", namespace: "apps", name: "settings", createdBy: "test" },
    ]);
    expect(messages(run(declared, stateOf([pod, account])))).toEqual([]);
  });

  it("accepts Secrets an ExternalSecret creates", () => {
    const container = restrictedContainer("app", { envFrom: [{ secretRef: { name: "creds" } }] });
    const external: KubernetesObject = {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: "creds", namespace: "apps" },
      spec: { target: { name: "creds" } },
    };
    expect(
      run(
        rule,
        stateOf([
          deployment("apps", "web", { containers: [container], pod: { serviceAccountName: "web" } }),
          account,
          external,
        ]),
      ),
    ).toEqual([]);
  });
});

describe("network", () => {
  const controller = deployment("ctl", "controller", {
    labels: { app: "controller" },
    pod: { serviceAccountName: "controller" },
  });
  const binding: KubernetesObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "controller" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "controller" },
    subjects: [{ kind: "ServiceAccount", name: "controller", namespace: "ctl" }],
  } as KubernetesObject;
  const isolated = (egress: Record<string, unknown>[]) => [
    namespace("ctl"),
    networkPolicy("ctl", "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    networkPolicy("ctl", "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { port: 53, protocol: "UDP" },
            { port: 53, protocol: "TCP" },
          ],
        },
      ],
    }),
    networkPolicy("ctl", "allow-api", { podSelector: {}, policyTypes: ["Egress"], egress }),
  ];
  const vpcOnly = [{ to: [{ ipBlock: { cidr: "10.10.0.0/16" } }], ports: [{ port: 443, protocol: "TCP" }] }];

  it("blocks API traffic allowed only to the VPC: the VPC CNI agent sees the kubernetes Service IP", () => {
    const found = messages(run(networkRule([]), stateOf([...isolated(vpcOnly), controller, binding])));
    expect(found).toEqual([
      expect.stringContaining(
        "flow controller-to-api-server: Deployment ctl/controller -> API server (kubernetes Service 172.20.0.1:443)/TCP is blocked by egress from ctl (the policy engine sees 172.20.0.1:443 before DNAT)",
      ),
    ]);
  });

  it("passes once the kubernetes Service IP is allowed, and passes the VPC rule on a post-DNAT engine", () => {
    const withService = [
      { to: [{ ipBlock: { cidr: "172.20.0.1/32" } }], ports: [{ port: 443, protocol: "TCP" }] },
    ];
    expect(run(networkRule([]), stateOf([...isolated(withService), controller, binding]))).toEqual([]);
    expect(
      run(
        networkRule([]),
        stateOf([...isolated(vpcOnly), controller, binding], { networkPolicyEngine: "post-dnat" }),
      ),
    ).toEqual([]);
  });

  it("evaluates table flows against ingress policies of the destination", () => {
    const flows: Flow[] = [
      {
        name: "client-to-web",
        from: { namespace: "client" },
        to: { service: { namespace: "apps", name: "web" }, port: 80 },
        reason: "test",
      },
    ];
    const base = [
      namespace("apps"),
      namespace("client"),
      deployment("client", "caller"),
      deployment("apps", "web", { labels: { app: "web" } }),
      service("apps", "web", { app: "web" }, [{ name: "http", port: 80, targetPort: "http" }]),
      networkPolicy("apps", "default-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
    ];
    expect(messages(run(networkRule(flows), stateOf(base)))).toEqual([
      expect.stringContaining(
        "flow client-to-web: Deployment client/caller -> Service apps/web:80 (Deployment web)/TCP is blocked by ingress into apps",
      ),
    ]);
    const allow = networkPolicy("apps", "allow-client", {
      podSelector: { matchLabels: { app: "web" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "client" } } }],
          ports: [{ port: 8080, protocol: "TCP" }],
        },
      ],
    });
    expect(run(networkRule(flows), stateOf([...base, allow]))).toEqual([]);
  });

  it("evaluates flows of pods created at run time (pipeline steps) from the labels they get", () => {
    const flows: Flow[] = [
      {
        name: "steps-to-store",
        from: {
          namespace: "jobs",
          podLabels: { "workflows.argoproj.io/workflow": "run" },
          createdAtRunTime: "pipeline step",
        },
        to: { objectStore: true },
        reason: "test",
      },
    ];
    const deny = networkPolicy("jobs", "default-deny", { podSelector: {}, policyTypes: ["Egress"] });
    expect(messages(run(networkRule(flows), stateOf([namespace("jobs"), deny])))).toEqual([
      expect.stringContaining(
        "flow steps-to-store: pipeline step pod in jobs -> object store 52.218.0.10:443/TCP is blocked by egress from jobs",
      ),
    ]);
    const allow = networkPolicy("jobs", "allow-store", {
      podSelector: { matchExpressions: [{ key: "workflows.argoproj.io/workflow", operator: "Exists" }] },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }],
          ports: [{ port: 443, protocol: "TCP" }],
        },
      ],
    });
    expect(run(networkRule(flows), stateOf([namespace("jobs"), deny, allow]))).toEqual([]);
  });

  it("reports table flows whose source matches no pod", () => {
    const flows: Flow[] = [
      { name: "ghost", from: { namespace: "nowhere" }, to: { database: true }, reason: "test" },
    ];
    expect(messages(run(networkRule(flows), stateOf([])))).toEqual([
      expect.stringContaining("flow ghost: source: no pods in nowhere"),
    ]);
  });
});

describe("images", () => {
  const withImage = (image: string) =>
    deployment("apps", "web", { containers: [restrictedContainer("app", { image })] });

  it("passes tags and digests", () => {
    expect(run(imagesRule, stateOf([withImage("registry.example.com/app:1.2.3")]))).toEqual([]);
    expect(run(imagesRule, stateOf([withImage(`app@sha256:${"a".repeat(64)}`)]))).toEqual([]);
  });

  it("reports latest and untagged images", () => {
    expect(messages(run(imagesRule, stateOf([withImage("nginx:latest")])))).toEqual([
      expect.stringContaining("image nginx:latest uses the latest tag"),
    ]);
    expect(messages(run(imagesRule, stateOf([withImage("registry.example.com:5000/team/app")])))).toEqual([
      expect.stringContaining("has no tag (pulls latest)"),
    ]);
  });

  it("reports images outside the mirror registry where the environment has one", () => {
    const found = messages(
      run(imagesRule, stateOf([withImage("quay.io/app:1")], { mirrorRegistry: "mirror.example.com" })),
    );
    expect(found).toEqual([
      expect.stringContaining("image quay.io/app:1 is not from the mirror registry mirror.example.com"),
    ]);
    expect(
      run(
        imagesRule,
        stateOf([withImage("mirror.example.com/quay/app:1")], { mirrorRegistry: "mirror.example.com" }),
      ),
    ).toEqual([]);
  });
});

describe("KServe predictors as the controller builds them", () => {
  const runtime = (
    name: string,
    formats: { name: string; priority: number }[],
    protocols: string[],
  ): KubernetesObject => ({
    apiVersion: "serving.kserve.io/v1alpha1",
    kind: "ClusterServingRuntime",
    metadata: { name },
    spec: {
      protocolVersions: protocols,
      supportedModelFormats: formats.map((f) => ({ ...f, autoSelect: true, version: "2" })),
      containers: [{ name: "kserve-container", image: `registry.example.com/${name}:1.0.0` }],
    },
  });
  const isvc = (protocolVersion: string): KubernetesObject => ({
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name: "churn",
      namespace: "apps",
      annotations: { "serving.kserve.io/deploymentMode": "Standard" },
    },
    spec: {
      predictor: { model: { modelFormat: { name: "mlflow" }, protocolVersion, storageUri: "s3://b/m" } },
    },
  });
  /** The objects with what the KServe controller creates from their InferenceServices (as collect adds them). */
  const withController = (objects: KubernetesObject[]): KubernetesObject[] => [
    ...objects,
    ...operandObjects(objects).map((o) => o.object),
  ];
  const monitor: KubernetesObject = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: "mlserver", namespace: "monitoring" },
    spec: {
      namespaceSelector: { matchNames: ["apps"] },
      selector: { matchExpressions: [{ key: "modelClass", operator: "Exists" }] },
      podMetricsEndpoints: [{ path: "/metrics" }],
    },
  };
  const runtimes = [
    runtime("kserve-mlserver", [{ name: "mlflow", priority: 1 }], ["v2"]),
    runtime("other", [{ name: "mlflow", priority: 2 }], ["v1"]),
  ];

  it("labels MLServer predictors with modelClass, so a PodMonitor selecting it finds them", () => {
    expect(run(referencesRule(), stateOf(withController([...runtimes, isvc("v2"), monitor])))).toEqual([]);
  });

  it("leaves other runtimes' predictors without it", () => {
    expect(
      messages(run(referencesRule(), stateOf(withController([...runtimes, isvc("v1"), monitor])))),
    ).toEqual([
      expect.stringContaining(
        'PodMonitor monitoring/mlserver: selector {"matchExpressions":[{"key":"modelClass","operator":"Exists"}]} matches no pod template in apps',
      ),
    ]);
  });

  it("takes the image from the selected runtime", () => {
    const latest = runtime("kserve-mlserver", [{ name: "mlflow", priority: 1 }], ["v2"]);
    (latest.spec as { containers: { image: string }[] }).containers[0].image = "seldonio/mlserver";
    expect(messages(run(imagesRule, stateOf(withController([latest, isvc("v2")]))))).toEqual([
      expect.stringContaining(
        'Deployment apps/churn-predictor: container "kserve-container" image seldonio/mlserver has no tag',
      ),
    ]);
  });
});
