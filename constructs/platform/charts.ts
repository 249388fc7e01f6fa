/**
 * Where each chart of the platform comes from. Versions are not here: they come from the
 * environment's release file (`environments/releases/<env>.json`) so they are promoted.
 */
import type { ChartSource } from "./helm-release";

export const PLATFORM_CHARTS = {
  "cert-manager": { repository: "https://charts.jetstack.io", chart: "cert-manager" },
  "aws-load-balancer-controller": {
    repository: "https://aws.github.io/eks-charts",
    chart: "aws-load-balancer-controller",
  },
  "cluster-autoscaler": {
    repository: "https://kubernetes.github.io/autoscaler",
    chart: "cluster-autoscaler",
  },
  "metrics-server": {
    repository: "https://kubernetes-sigs.github.io/metrics-server",
    chart: "metrics-server",
  },
  "nvidia-device-plugin": {
    repository: "https://nvidia.github.io/k8s-device-plugin",
    chart: "nvidia-device-plugin",
  },
  "dcgm-exporter": {
    repository: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    chart: "dcgm-exporter",
  },
  "external-secrets": { repository: "https://charts.external-secrets.io", chart: "external-secrets" },
  mlflow: { repository: "https://community-charts.github.io/helm-charts", chart: "mlflow" },
  "argo-cd": { repository: "https://argoproj.github.io/argo-helm", chart: "argo-cd" },
  "argocd-apps": { repository: "https://argoproj.github.io/argo-helm", chart: "argocd-apps" },
  "kserve-crd": { repository: "oci://ghcr.io/kserve/charts", chart: "kserve-crd" },
  "kserve-resources": { repository: "oci://ghcr.io/kserve/charts", chart: "kserve-resources" },
  "kserve-runtime-configs": { repository: "oci://ghcr.io/kserve/charts", chart: "kserve-runtime-configs" },
  "kube-prometheus-stack": {
    repository: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
  },
  "platform-resources": { repository: "https://bedag.github.io/helm-charts", chart: "raw" },
  // On-prem (Rancher) only.
  "cloudnative-pg": { repository: "https://cloudnative-pg.github.io/charts", chart: "cloudnative-pg" },
  "postgres-cluster": { repository: "https://cloudnative-pg.github.io/charts", chart: "cluster" },
  "gpu-operator": { repository: "https://helm.ngc.nvidia.com/nvidia", chart: "gpu-operator" },
} as const satisfies Record<string, ChartSource>;

export type PlatformChart = keyof typeof PLATFORM_CHARTS;
export const PLATFORM_CHART_NAMES = Object.keys(PLATFORM_CHARTS) as PlatformChart[];
/** Charts only AWS environments install (their on-prem counterparts: the GPU Operator, RKE2's own metrics-server, no cloud controllers). */
export const AWS_ONLY_CHARTS = [
  "aws-load-balancer-controller",
  "cluster-autoscaler",
  "nvidia-device-plugin",
  "dcgm-exporter",
  "metrics-server",
] as const satisfies readonly PlatformChart[];

/** Upstream repositories of the charts an on-prem environment installs (each needs an Artifactory remote). */
export function onPremChartRepositories(): string[] {
  const awsOnly: readonly string[] = AWS_ONLY_CHARTS;
  return [
    ...new Set(
      PLATFORM_CHART_NAMES.filter((chart) => !awsOnly.includes(chart)).map(
        (chart) => PLATFORM_CHARTS[chart].repository,
      ),
    ),
  ].sort();
}

/** Charts only Rancher environments install. */
export const ON_PREM_CHARTS = [
  "cloudnative-pg",
  "postgres-cluster",
  "gpu-operator",
] as const satisfies readonly PlatformChart[];

/** The charts an environment of each target installs: exactly these have versions in its release file. */
export function chartsInstalledOn(target: "aws" | "rancher"): PlatformChart[] {
  const excluded: readonly string[] = target === "aws" ? ON_PREM_CHARTS : AWS_ONLY_CHARTS;
  return PLATFORM_CHART_NAMES.filter((chart) => !excluded.includes(chart));
}
