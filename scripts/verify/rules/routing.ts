/**
 * Canary traffic: an InferenceService whose `spec.canary[]` gives a predictor a trafficPercent
 * must have a route that sends that share to the canary's Service. KServe v0.20.0's own Ingress
 * (reconcilers/ingress/kube_ingress_reconciler.go, createRawIngress) points every rule at the
 * primary predictor's Service; trafficPercent only sizes the canary's replicas. Two routes count:
 * - AWS Load Balancer Controller v3.5.0: a rule whose backend is `service.name: <action>`,
 *   `port.name: use-annotation` (pkg/ingress/enhanced_backend_builder.go), with the annotation
 *   `alb.ingress.kubernetes.io/actions.<action>` holding a `forward` action whose
 *   `forwardConfig.targetGroups` (pkg/ingress/config_types.go, TargetGroupTuple serviceName,
 *   servicePort, weight) list the primary and the canary Service with the canary's share;
 * - ingress-nginx (internal/ingress/annotations/canary): an Ingress annotated
 *   `nginx.ingress.kubernetes.io/canary: "true"` with `canary-weight` of `canary-weight-total`
 *   (default 100) on the host and path of a non-canary Ingress to the primary, its backend the
 *   canary's Service.
 * And every predictor a route sends requests to is ready only once its model is loaded: its
 * `kserve-container` has an HTTP readiness probe. KServe v0.20.0 otherwise gives it a TCP probe
 * on the runtime's port (reconcilers/deployment/deployment_reconciler.go, setDefaultPodSpec),
 * which MLServer opens before it loads the model.
 */
import type { KubernetesObject } from "../convert";
import { predictorServiceName } from "../controllers/kserve";
import type { Finding } from "../finding";
import type { Container, PodSpec } from "../workloads";
import { findingFor, type Rule } from "./rule";

interface Path {
  readonly host: string;
  readonly path: string;
  readonly service?: string;
  readonly portName?: string;
}

function paths(ingress: KubernetesObject): Path[] {
  const rules = ((ingress.spec as { rules?: unknown[] } | undefined)?.rules ?? []) as {
    host?: string;
    http?: {
      paths?: { path?: string; backend?: { service?: { name?: string; port?: { name?: string } } } }[];
    };
  }[];
  return rules.flatMap((r) =>
    (r.http?.paths ?? []).map((p) => ({
      host: r.host ?? "",
      path: p.path ?? "/",
      service: p.backend?.service?.name,
      portName: p.backend?.service?.port?.name,
    })),
  );
}

/** The canary's share of an ALB forward action listing both Services, or undefined. */
function albShare(ingress: KubernetesObject, primary: string, canary: string): number | undefined {
  const annotations = ingress.metadata.annotations ?? {};
  for (const p of paths(ingress)) {
    if (p.portName !== "use-annotation" || !p.service) continue;
    const text = annotations[`alb.ingress.kubernetes.io/actions.${p.service}`];
    if (!text) continue;
    let action: {
      type?: string;
      forwardConfig?: { targetGroups?: { serviceName?: string; weight?: number }[] };
    };
    try {
      action = JSON.parse(text);
    } catch {
      continue;
    }
    if (action.type !== "forward") continue;
    const groups = action.forwardConfig?.targetGroups ?? [];
    const weightOf = (name: string) => groups.find((g) => g.serviceName === name);
    const a = weightOf(primary);
    const b = weightOf(canary);
    if (!a || !b) continue;
    const total = groups.reduce((n, g) => n + (g.weight ?? 1), 0);
    return total === 0 ? 0 : Math.round(((b.weight ?? 1) * 100) / total);
  }
  return undefined;
}

/** The canary's share through an ingress-nginx canary Ingress beside a primary Ingress, or undefined. */
function nginxShare(
  ingresses: readonly KubernetesObject[],
  primary: string,
  canary: string,
): number | undefined {
  const isCanary = (i: KubernetesObject) =>
    i.metadata.annotations?.["nginx.ingress.kubernetes.io/canary"] === "true";
  const main = ingresses
    .filter((i) => !isCanary(i))
    .flatMap(paths)
    .filter((p) => p.service === primary);
  for (const ingress of ingresses.filter(isCanary)) {
    const annotations = ingress.metadata.annotations ?? {};
    const onPrimary = paths(ingress).some(
      (p) => p.service === canary && main.some((m) => m.host === p.host && m.path === p.path),
    );
    if (!onPrimary) continue;
    const weight = Number(annotations["nginx.ingress.kubernetes.io/canary-weight"] ?? 0);
    const total = Number(annotations["nginx.ingress.kubernetes.io/canary-weight-total"] ?? 100);
    return total > 0 ? Math.round((weight * 100) / total) : 0;
  }
  return undefined;
}

export const routingRule: Rule = {
  name: "routing",
  summary:
    "every InferenceService canary with a trafficPercent has a route sending that share to its Service (an ALB weighted forward action or an ingress-nginx canary Ingress), and every predictor is ready only once its model answers (HTTP readiness probe)",
  check(state) {
    const findings: Finding[] = [];
    for (const at of state.objects) {
      const isvc = at.object;
      if (isvc.kind !== "InferenceService" || !isvc.apiVersion.startsWith("serving.kserve.io/")) continue;
      const spec = isvc.spec as {
        predictor?: { name?: string };
        canary?: { predictor?: { name?: string }; trafficPercent?: number }[];
      };
      const name = isvc.metadata.name ?? "";
      const namespace = isvc.metadata.namespace;
      const primary = predictorServiceName(name, spec.predictor?.name);
      const ingresses = state.objects
        .map((o) => o.object)
        .filter((o) => o.kind === "Ingress" && o.metadata.namespace === namespace);
      const predictors = [spec.predictor?.name, ...(spec.canary ?? []).map((c) => c.predictor?.name)];
      for (const predictor of predictors) {
        const deploymentName = predictorServiceName(name, predictor);
        const deployment = state.objects
          .map((o) => o.object)
          .find(
            (o) =>
              o.kind === "Deployment" &&
              o.metadata.namespace === namespace &&
              o.metadata.name === deploymentName,
          );
        const containers = ((deployment?.spec as { template?: { spec?: PodSpec } } | undefined)?.template
          ?.spec?.containers ?? []) as Container[];
        const runtime = containers.find((c) => c.name === "kserve-container");
        const probe = runtime?.readinessProbe as
          { httpGet?: unknown; tcpSocket?: { port?: unknown } } | undefined;
        if (!runtime || probe?.httpGet) continue;
        findings.push(
          findingFor(
            state,
            "routing",
            at,
            `predictor ${predictor ?? "(unnamed)"} (Deployment ${deploymentName}) is ready ${probe?.tcpSocket ? `once port ${String(probe.tcpSocket.port)} accepts connections` : "without a readiness check"}, before its model is loaded: its route sends requests to pods that cannot answer them`,
            "give the predictor's model an HTTP readinessProbe on the runtime's readiness path (model.readinessProbe.httpGet, e.g. /v2/health/ready on port 8080)",
          ),
        );
      }
      for (const canary of spec.canary ?? []) {
        const percent = canary.trafficPercent ?? 0;
        if (percent <= 0) continue;
        const service = predictorServiceName(name, canary.predictor?.name);
        const shares = [
          ...ingresses.map((i) => albShare(i, primary, service)),
          nginxShare(ingresses, primary, service),
        ].filter((s): s is number => s !== undefined);
        if (shares.includes(percent)) continue;
        findings.push(
          findingFor(
            state,
            "routing",
            at,
            shares.length === 0
              ? `canary ${canary.predictor?.name ?? "?"} has trafficPercent ${percent} but no route sends traffic to its Service ${service}: KServe's Ingress routes only to ${primary}`
              : `canary ${canary.predictor?.name ?? "?"} has trafficPercent ${percent} but its route sends it ${shares.join("/")}%`,
            `route ${percent}% to Service ${namespace}/${service} and the rest to ${primary}: an ALB forward action (alb.ingress.kubernetes.io/actions.<name>, backend port use-annotation) or an ingress-nginx canary Ingress with canary-weight ${percent}`,
          ),
        );
      }
    }
    return findings;
  },
};
