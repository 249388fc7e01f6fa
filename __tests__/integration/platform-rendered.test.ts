/**
 * The platform as the cluster would receive it: every release rendered by `helm template` from
 * the pinned chart with the values the stacks pass, and Kubeflow Pipelines built by kustomize
 * with the Applications' patches. These assertions hold properties a first deploy needs on the
 * rendered objects, not on our own values. Skipped, with the reason printed, when the pinned
 * chart sources are not on this machine (see docs/verification.md).
 */
import type { ClusterState } from "../../scripts/verify/state";
import { collectPinnedStates, describeWithPinnedState } from "../support/pinned-state";
import type { KubernetesObject } from "../../scripts/verify/convert";
import { hostInCidr, inBlock } from "../../scripts/verify/net";
import { MLFLOW_METRICS_DIRECTORY } from "../../constructs/platform/mlflow";

const suite = describeWithPinnedState("__tests__/integration/platform-rendered.test.ts");

type Obj = KubernetesObject & Record<string, any>;

/** Python's fnmatch, which MLflow's host check uses: `*`, `?` and `[...]`, anchored, case-sensitive. */
function fnmatch(text: string, pattern: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        const body = pattern.slice(i + 1, end);
        source += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s").test(text);
}

suite("the platform as rendered from the pinned charts", () => {
  const states: Record<string, ClusterState> = {};

  beforeAll(async () => {
    const collected = await collectPinnedStates(["dev", "prod"]);
    for (const state of collected) states[state.environment.name] = state;
  }, 240_000);

  const objects = (env: string): Obj[] => states[env].objects.map((o) => o.object as Obj);
  const find = (env: string, kind: string, namespace: string | undefined, name: string): Obj => {
    const found = objects(env).find(
      (o) =>
        o.kind === kind &&
        o.metadata?.name === name &&
        (namespace === undefined || o.metadata?.namespace === namespace),
    );
    if (!found) throw new Error(`${env}: no ${kind} ${namespace ?? ""}/${name} in the rendered state`);
    return found;
  };
  const all = (env: string, kind: string, namespace?: string): Obj[] =>
    objects(env).filter(
      (o) => o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace),
    );
  const podSpecOf = (workload: Obj): any =>
    workload.kind === "CronJob" ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
  const workloads = (env: string, namespace?: string): Obj[] =>
    ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].flatMap((kind) => all(env, kind, namespace));
  const matches = (
    selector: Record<string, string> | undefined,
    labels: Record<string, string> | undefined,
  ) => selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

  it("every release and manifest rendered", () => {
    for (const env of Object.keys(states)) {
      const renders = states[env].problems.filter((p) =>
        /render|chart|kustomize/i.test(`${p.rule} ${p.message}`),
      );
      expect(renders).toEqual([]);
    }
  });

  describe("MLflow", () => {
    const server = (env: string) => {
      const deployment = find(env, "Deployment", "mlflow", "mlflow");
      return {
        deployment,
        container: podSpecOf(deployment).containers.find((c: any) => c.name === "mlflow"),
      };
    };

    it.each(["dev", "prod"])("%s: metrics land in a writable emptyDir under a read-only root", (env) => {
      const { deployment, container } = server(env);
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container.args).toContain(`--expose-prometheus=${MLFLOW_METRICS_DIRECTORY}`);
      const mount = container.volumeMounts.find((m: any) => m.mountPath === MLFLOW_METRICS_DIRECTORY);
      expect(mount).toBeDefined();
      const volume = podSpecOf(deployment).volumes.find((v: any) => v.name === mount.name);
      expect(volume.emptyDir).toBeDefined();
    });

    it.each(["dev", "prod"])(
      "%s: the ServiceMonitor names a port of the Service and authenticates",
      (env) => {
        const monitors = all(env, "ServiceMonitor", "mlflow");
        expect(monitors).toHaveLength(1);
        const [monitor] = monitors;
        const service = find(env, "Service", "mlflow", "mlflow");
        expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
        const [endpoint] = monitor.spec.endpoints;
        const port = service.spec.ports.find((p: any) => p.name === endpoint.port);
        expect(port).toBeDefined();
        // The Service's target port is a named container port of the server.
        const { container } = server(env);
        expect(container.ports.map((p: any) => p.name)).toContain(port.targetPort);
        expect(endpoint.path).toBe("/metrics");
        // MLflow's basic auth protects /metrics; the user's Secret is generated in the cluster.
        const secret = endpoint.basicAuth.password.name;
        expect(endpoint.basicAuth.username.name).toBe(secret);
        const generated = all(env, "ExternalSecret", "mlflow").map(
          (e) => e.spec.target?.name ?? e.metadata.name,
        );
        expect(generated).toContain(secret);
      },
    );

    it.each(["dev", "prod"])("%s: a scrape by pod IP passes MLflow's host check", (env) => {
      const config = find(env, "ConfigMap", "mlflow", "mlflow-env-configmap");
      const allowed = String(config.data.MLFLOW_SERVER_ALLOWED_HOSTS).split(",");
      const podAddress = `${hostInCidr(states[env].environment.podCidr, 4242)}:5000`;
      expect(allowed.some((pattern) => fnmatch(podAddress, pattern))).toBe(true);
      // A name nobody serves is still refused.
      expect(allowed.some((pattern) => fnmatch("attacker.example.net", pattern))).toBe(false);
    });

    it.each(["dev", "prod"])(
      "%s: the load balancer checks /health, which MLflow answers unauthenticated",
      (env) => {
        const ingress = find(env, "Ingress", "mlflow", "mlflow");
        expect(ingress.metadata.annotations?.["alb.ingress.kubernetes.io/healthcheck-path"]).toBe("/health");
      },
    );

    it("prod: browsers on https:// are allowed origins", () => {
      const config = find("prod", "ConfigMap", "mlflow", "mlflow-env-configmap");
      expect(String(config.data.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS).split(",")).toContain(
        "https://mlflow.mlops.example.com",
      );
    });

    it.each(["dev", "prod"])("%s: MLflow connects as its own database user, never the master user", (env) => {
      const { deployment, container } = server(env);
      const fromSecret = (c: any, name: string) =>
        c.env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef?.name;
      expect(fromSecret(container, "PGPASSWORD")).toBe("mlflow-database");
      expect(fromSecret(container, "PGUSER")).toBe("mlflow-database");
      const ini = podSpecOf(deployment).initContainers.find((c: any) => c.name === "ini-file-initializer");
      expect(fromSecret(ini, "DB_PASSWORD")).toBe("mlflow-database");
      // The password is generated without symbols: the chart substitutes it with sed.
      const generator = find(env, "Password", "mlflow", "mlflow-database-password");
      expect(generator.spec.symbols).toBe(0);
      expect(generator.spec.encoding ?? "raw").toBe("raw");
      // Only the Job that creates the user reads the master credentials.
      const readers = workloads(env, "mlflow").filter((w) =>
        JSON.stringify(podSpecOf(w)).includes('"name":"database-admin"'),
      );
      expect(readers.map((w) => w.metadata.name)).toEqual(["mlflow-database-user"]);
    });
  });

  describe("network policies as the VPC CNI agent evaluates them (before DNAT)", () => {
    const allowsEgress = (env: string, namespace: string, address: string, port: number) =>
      all(env, "NetworkPolicy", namespace).some((policy) =>
        (policy.spec.egress ?? []).some(
          (rule: any) =>
            (rule.to ?? []).some((peer: any) => peer.ipBlock && inBlock(address, peer.ipBlock.cidr)) &&
            (rule.ports === undefined || rule.ports.some((p: any) => Number(p.port) === port)),
        ),
      );

    it.each(["kserve", "kubeflow"])("%s pods reach the kubernetes Service", (namespace) => {
      for (const env of Object.keys(states)) {
        expect(allowsEgress(env, namespace, states[env].environment.apiServiceIp, 443)).toBe(true);
      }
    });
  });

  describe("disruption budgets leave every node drainable", () => {
    it.each(["dev", "prod"])("%s", (env) => {
      for (const pdb of all(env, "PodDisruptionBudget")) {
        const selected = workloads(env, pdb.metadata.namespace).filter((w) =>
          matches(pdb.spec.selector?.matchLabels, w.spec.template?.metadata?.labels),
        );
        const replicas = selected.reduce((sum, w) => sum + (w.spec.replicas ?? 1), 0);
        const label = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
        if (pdb.spec.minAvailable !== undefined && !String(pdb.spec.minAvailable).endsWith("%")) {
          expect({ pdb: label, allowed: replicas - Number(pdb.spec.minAvailable) > 0 }).toEqual({
            pdb: label,
            allowed: true,
          });
        }
      }
    });
  });

  it.each([
    ["dev", "http"],
    ["prod", "https"],
  ])("%s: KServe reports InferenceService URLs with the scheme users reach them by (%s)", (env, scheme) => {
    const config = find(env, "ConfigMap", "kserve", "inferenceservice-config");
    expect(JSON.parse(config.data.ingress).urlScheme).toBe(scheme);
  });

  it.each(["dev", "prod"])(
    "%s: KServe makes no Ingress of its own (the serving stack owns every InferenceService's route)",
    (env) => {
      const config = find(env, "ConfigMap", "kserve", "inferenceservice-config");
      expect(JSON.parse(config.data.ingress).disableIngressCreation).toBe(true);
    },
  );

  it("prod: External Secrets controllers with several replicas elect a leader", () => {
    for (const name of ["external-secrets", "external-secrets-cert-controller"]) {
      const deployment = find("prod", "Deployment", "external-secrets", name);
      expect(deployment.spec.replicas).toBeGreaterThan(1);
      expect(podSpecOf(deployment).containers[0].args).toContain("--enable-leader-election=true");
    }
  });

  describe("Kubeflow Pipelines", () => {
    it.each(["dev", "prod"])("%s: the launcher's pipeline root is the artifacts bucket", (env) => {
      const launcher = find(env, "ConfigMap", "kubeflow", "kfp-launcher");
      expect(launcher.data.defaultPipelineRoot).toMatch(/^s3:\/\/[a-z0-9][a-z0-9.-]+\/pipelines$/);
      expect(JSON.parse(launcher.data.providers).s3.default.region).toBeTruthy();
    });

    it.each(["dev", "prod"])("%s: the kubeflow Namespace has one owner, the platform stack", (env) => {
      const owners = states[env].objects.filter(
        (o) => o.object.kind === "Namespace" && o.object.metadata?.name === "kubeflow",
      );
      expect(owners.map((o) => o.source)).toEqual([
        expect.stringMatching(/^[a-z-]+-platform kubernetes_namespace_v1/),
      ]);
    });

    it.each(["dev", "prod"])("%s: the Kubeflow Pipelines builds emit no Namespace", (env) => {
      const built = states[env].objects.filter((o) => / Application kubeflow-pipelines/.test(o.source));
      expect(built.length).toBeGreaterThan(0);
      expect(built.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name)).toEqual(
        [],
      );
    });
  });

  describe("container defaults and quotas", () => {
    it.each(["dev", "prod"])(
      "%s: no container default limit is below a request it would be paired with",
      (env) => {
        for (const limitRange of all(env, "LimitRange")) {
          const defaultLimit = limitRange.spec.limits.find((l: any) => l.type === "Container").default;
          expect(defaultLimit.cpu).toBeUndefined();
          const gib = (q: string) => {
            const m = /^(\d+(?:\.\d+)?)(Mi|Gi)?$/.exec(q);
            if (!m) throw new Error(`unexpected quantity ${q}`);
            return Number(m[1]) / (m[2] === "Mi" ? 1024 : 1);
          };
          for (const workload of workloads(env, limitRange.metadata.namespace)) {
            const spec = podSpecOf(workload);
            for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
              const request = container.resources?.requests?.memory;
              if (request === undefined || container.resources?.limits?.memory !== undefined) continue;
              expect({
                container: `${workload.metadata.name}/${container.name}`,
                fits: gib(request) <= gib(defaultLimit.memory),
              }).toEqual({
                container: `${workload.metadata.name}/${container.name}`,
                fits: true,
              });
            }
          }
        }
      },
    );

    it.each(["dev", "prod"])(
      "%s: every container of the monitoring and Argo CD components sets its own requests and memory limit",
      (env) => {
        const unset: string[] = [];
        for (const namespace of ["monitoring", "argocd"]) {
          for (const workload of workloads(env, namespace)) {
            const spec = podSpecOf(workload);
            for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
              const r = container.resources ?? {};
              if (!r.requests?.cpu || !r.requests?.memory || !r.limits?.memory)
                unset.push(`${namespace}/${workload.metadata.name}/${container.name}`);
            }
          }
        }
        expect(unset).toEqual([]);
      },
    );

    it.each(["dev", "prod"])("%s: quotas cap CPU requests, never CPU limits", (env) => {
      for (const quota of all(env, "ResourceQuota")) {
        expect(quota.spec.hard["limits.cpu"]).toBeUndefined();
        expect(quota.spec.hard["requests.cpu"]).toBeDefined();
      }
    });
  });

  // The Pushgateway is the platform stack's own Deployment and Service; its ServiceMonitor is
  // rendered by kube-prometheus-stack from prometheus.additionalServiceMonitors.
  describe.each(["dev", "prod"])(
    "%s: the Pushgateway's ServiceMonitor as kube-prometheus-stack renders it",
    (env) => {
      it("scrapes the Service's named port with honorLabels, and Prometheus selects it", () => {
        const service = find(env, "Service", "monitoring", "prometheus-pushgateway");
        const monitor = find(env, "ServiceMonitor", "monitoring", "prometheus-pushgateway");
        const [endpoint] = monitor.spec.endpoints;
        expect(monitor.spec.endpoints).toHaveLength(1);
        expect(service.spec.ports.find((p: any) => p.name === endpoint.port)?.port).toBe(9091);
        expect(endpoint.honorLabels).toBe(true);
        expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
        const deployment = find(env, "Deployment", "monitoring", "prometheus-pushgateway");
        expect(matches(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
        const [prometheus] = all(env, "Prometheus", "monitoring");
        expect(
          matches(prometheus.spec.serviceMonitorSelector?.matchLabels ?? {}, monitor.metadata.labels),
        ).toBe(true);
        const namespaces = prometheus.spec.serviceMonitorNamespaceSelector;
        expect(namespaces === undefined || Object.keys(namespaces).length === 0).toBe(true);
      });
    },
  );
});
