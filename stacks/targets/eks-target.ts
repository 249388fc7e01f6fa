import { Fn } from "cdktf";
import type { ClusterTarget } from "../../constructs/platform/cluster-target";
import { EKS_VERSIONS } from "../../environments/schema";
import { firstHostAddress } from "../../constructs/lib/cidr";
import type { FoundationStack } from "../foundation-stack";
import { configureAwsProvider } from "../aws-provider";
import { RequiredEcrImages } from "../../constructs/aws/required-images";
import { gpuNodePlacement } from "../../constructs/platform/cluster-addons";
import { PULL_REQUEST_DIFF_GROUP } from "../../constructs/platform/pull-request-diff";
import { POD_READINESS_GATE_LABEL } from "../../constructs/platform/cluster-addons";

/**
 * The EKS implementation of the cluster target: everything comes from the foundation stack
 * (cross-stack references, which cdktf turns into remote state reads).
 */
export function eksClusterTarget(foundation: FoundationStack): ClusterTarget {
  const env = foundation.environment;
  const region = env.aws.region;
  const vpc = env.network.vpcCidr;
  const clusterName = foundation.cluster.name;
  const certificate = env.platform.tlsCertificateArn;
  // The foundation's GPU node group contract.
  const gpuNodes = { labels: { workload: "gpu" }, taintKey: "nvidia.com/gpu" };
  const scheme = (exposure: "internal" | "public") =>
    exposure === "public" ? "internet-facing" : "internal";
  return {
    description: `EKS cluster mlops-${env.name}`,
    clusterName,
    access: {
      kind: "exec",
      host: foundation.cluster.endpoint,
      clusterCaCertificate: Fn.base64decode(foundation.cluster.certificateAuthorityData),
      exec: {
        apiVersion: "client.authentication.k8s.io/v1beta1",
        command: "aws",
        args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
      },
    },
    // In-cluster clients dial the `kubernetes` Service; the private endpoint's network
    // interfaces it forwards to live in the cluster's subnets. The API server calls webhooks
    // from the same cross-account interfaces, which EKS places in the subnets the cluster is
    // given (the private subnets, `kubernetes-cluster.ts`) with addresses it picks: the VPC
    // range covers every one of them, now and after EKS replaces them.
    apiServer: {
      serviceIp: firstHostAddress(env.eks.serviceIpv4Cidr),
      servicePort: 443,
      cidrs: [vpc],
      port: 443,
      webhookSourceCidrs: [vpc],
    },
    // The VPC CNI network policy agent matches ipBlock peers before Service DNAT.
    networkPolicyEngine: "pre-dnat",
    // The VPC CNI gives pods addresses of the VPC's subnets.
    podCidrs: [vpc],
    database: {
      host: foundation.database.address,
      port: foundation.database.port,
      name: foundation.database.databaseName,
      credentials: { kind: "external-secret", remoteKey: foundation.database.masterUserSecretArn },
    },
    databaseCidrs: [vpc],
    objectStore: {
      artifactsBucket: foundation.artifactsBucket.bucketName,
      dataBucket: foundation.dataBucket.bucketName,
      region,
      credentials: { kind: "workload-identity" },
    },
    // S3 (through the gateway endpoint) and STS answer on public AWS addresses.
    objectStoreCidrs: ["0.0.0.0/0"],
    registry: {
      servingRepository: foundation.servingRepository.repositoryUrl,
      trainingRepository: foundation.trainingRepository.repositoryUrl,
      // Reads the repositories' image lists with the environment's AWS provider, in the stack
      // that runs the images.
      requireImages: (scope, images) => {
        configureAwsProvider(scope, env);
        const repositories = {
          serving: { name: env.registry.servingRepository, url: foundation.servingRepository.repositoryUrl },
          training: {
            name: env.registry.trainingRepository,
            url: foundation.trainingRepository.repositoryUrl,
          },
        };
        new RequiredEcrImages(scope, "RequiredImages", {
          images: (["serving", "training", "monitoring"] as const).flatMap((kind) => {
            const required = images[kind];
            if (!required) return [];
            // The monitoring image lives in the training repository.
            const repository = repositories[kind === "monitoring" ? "training" : kind];
            return [
              {
                id: { serving: "ServingImage", training: "TrainingImage", monitoring: "MonitoringImage" }[
                  kind
                ],
                repositoryName: repository.name,
                repositoryUrl: repository.url,
                source: required.source,
                image: required.image,
              },
            ];
          }),
        });
      },
    },
    traffic: {
      ingressClassName: "alb",
      ingressAnnotations: (exposure) => ({
        "alb.ingress.kubernetes.io/scheme": scheme(exposure),
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/group.name": `mlops-${env.name}`,
        ...(certificate
          ? {
              "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
              "alb.ingress.kubernetes.io/ssl-redirect": "443",
              "alb.ingress.kubernetes.io/certificate-arn": certificate,
              "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            }
          : {}),
      }),
      healthCheckAnnotations: (path, port) => ({
        "alb.ingress.kubernetes.io/healthcheck-path": path,
        ...(port !== undefined ? { "alb.ingress.kubernetes.io/healthcheck-port": String(port) } : {}),
      }),
      // An ALB limits request bodies only for Lambda targets (1 MB); to ip targets it forwards
      // bodies of any size, and a request that keeps sending data is not idle.
      largeRequestAnnotations: () => ({}),
      tls: certificate !== undefined,
      loadBalancerServiceAnnotations: (exposure) => ({
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme(exposure),
      }),
      // ALB and NLB (IP targets, no client IP preservation) reach pods from their VPC addresses.
      sourceCidrs: [vpc],
      // The load balancer controller provisions an NLB for the serving Service.
      servingExposure: "load-balancer",
      // The controller's weighted forward action across target groups (one per Service).
      weightedRouting: "forward-action",
      // The controller's pod mutating webhook (chart aws-load-balancer-controller 3.5.0,
      // `mpod.elbv2.k8s.aws`) adds readiness gates to pods of namespaces with this label only.
      targetNamespaceLabels: { [POD_READINESS_GATE_LABEL]: "enabled" },
    },
    storageClass: {
      name: "gp3",
      create: {
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", kmsKeyId: foundation.key.arn },
      },
    },
    serviceAccountAnnotations: (account) => ({
      "eks.amazonaws.com/role-arn": foundation.identities[account].roleArn,
    }),
    cloudAddons: {
      region,
      vpcId: foundation.network.vpc.id,
      clusterAutoscalerImageTag: EKS_VERSIONS[env.eks.version].clusterAutoscaler,
      loadBalancerController: true,
    },
    secretStore: { provider: "aws-secrets-manager", region },
    databaseProvisioning: { kind: "managed" },
    // The AL2023 NVIDIA AMI carries the driver and the container toolkit.
    gpu: { kind: "device-plugin" },
    gpuNodes,
    // The foundation's node groups: general, training (tainted) and GPU, each labelled `workload`.
    placement: {
      general: { nodeSelector: { workload: "general" }, tolerations: [] },
      training: {
        nodeSelector: { workload: "training" },
        tolerations: [{ key: "workload", operator: "Equal", value: "training", effect: "NoSchedule" }],
      },
      gpu: gpuNodePlacement(gpuNodes),
    },
    bundled: { metricsServer: false },
    // EKS runs the control plane out of the cluster's reach (no controller-manager, scheduler
    // or etcd endpoints), and its kube-proxy add-on binds metrics to 127.0.0.1:10249.
    scrapeableComponents: { controllerManager: false, scheduler: false, etcd: false, kubeProxy: false },
    pullRequestDiffGroup: PULL_REQUEST_DIFF_GROUP,
  };
}
