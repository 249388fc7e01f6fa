/**
 * Small hand-written cluster states for the verify rules' tests.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import type { ClusterState, EnvironmentFacts } from "../../scripts/verify/state";

export const FACTS: EnvironmentFacts = {
  name: "test",
  kubeVersion: "1.34",
  podCidr: "10.10.0.0/16",
  serviceCidr: "172.20.0.0/16",
  apiServiceIp: "172.20.0.1",
  apiEndpointIp: "10.10.0.200",
  apiEndpointPort: 443,
  databaseIp: "10.10.0.100",
  databasePort: 5432,
  objectStoreIp: "52.218.0.10",
  loadBalancerIp: "10.10.0.50",
  networkPolicyEngine: "pre-dnat",
  distribution: "eks",
  nodeGroups: [
    { name: "general", labels: { workload: "general" }, taints: [], maxSize: 3 },
    {
      name: "gpu",
      labels: { workload: "gpu" },
      taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
      maxSize: 2,
    },
  ],
};

export function stateOf(
  objects: readonly KubernetesObject[],
  facts: Partial<EnvironmentFacts> = {},
): ClusterState {
  return {
    environment: { ...FACTS, ...facts },
    objects: objects.map((object) => ({ object, source: "fixture" })),
    problems: [],
  };
}

export function namespace(
  name: string,
  level: "restricted" | "baseline" | "privileged" = "restricted",
): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "pod-security.kubernetes.io/enforce": level } },
  };
}

/** A container that passes the restricted Pod Security Standard. */
export function restrictedContainer(
  name = "app",
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    image: "registry.example.com/app:1.2.3",
    ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...extra,
  };
}

export function deployment(
  ns: string,
  name: string,
  options: {
    replicas?: number;
    labels?: Record<string, string>;
    containers?: Record<string, unknown>[];
    pod?: Record<string, unknown>;
  } = {},
): KubernetesObject {
  const labels = options.labels ?? { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: options.containers ?? [restrictedContainer()], ...options.pod },
      },
    },
  };
}

export function service(
  ns: string,
  name: string,
  selector: Record<string, string>,
  ports: Record<string, unknown>[],
): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { selector, ports },
  };
}

export function networkPolicy(ns: string, name: string, spec: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns },
    spec,
  };
}
