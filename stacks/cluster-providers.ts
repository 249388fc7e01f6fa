import type { TerraformStack } from "cdktf";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import type { ClusterAccess } from "../constructs/platform/cluster-target";

/** Kubernetes (and, unless `helm` is false, Helm) providers that reach the target's cluster. */
export function configureClusterProviders(stack: TerraformStack, access: ClusterAccess, helm = true): void {
  if (access.kind === "exec") {
    const exec = { apiVersion: access.exec.apiVersion, command: access.exec.command, args: access.exec.args };
    new KubernetesProvider(stack, "kubernetes", {
      host: access.host,
      clusterCaCertificate: access.clusterCaCertificate,
      exec: [exec],
    });
    if (helm) {
      new HelmProvider(stack, "helm", {
        kubernetes: { host: access.host, clusterCaCertificate: access.clusterCaCertificate, exec },
      });
    }
    return;
  }
  new KubernetesProvider(stack, "kubernetes", {
    configPath: access.configPath,
    configContext: access.context,
  });
  if (helm) {
    new HelmProvider(stack, "helm", {
      kubernetes: { configPath: access.configPath, configContext: access.context },
    });
  }
}
