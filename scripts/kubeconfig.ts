/**
 * How a person reaches an environment's cluster, read offline from the synthesized stacks: the
 * exact command that writes the kubeconfig entry, who may use it with which access, and how to
 * give a person access.
 *
 *   npm run kubeconfig -- --env dev [--out cdktf.out]
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_OUT,
  awsProviderOf,
  hasStack,
  readStack,
  resolveAccountTokens,
  resourcesOfType,
  type StackJson,
} from "./lib/synthesized";

export interface AccessEntry {
  readonly principalArn: string;
  readonly policy: string;
  readonly kubernetesGroups: readonly string[];
}

export interface EksAccess {
  readonly kind: "eks";
  readonly environment: string;
  readonly clusterName: string;
  readonly region: string;
  readonly accountId?: string;
  readonly publicEndpointCidrs?: readonly string[];
  readonly entries: readonly AccessEntry[];
}

export interface RancherAccess {
  readonly kind: "rancher";
  readonly environment: string;
  readonly context: string;
}

/** The cluster and its access entries, from `<env>-foundation`. */
export function eksAccess(environment: string, foundation: StackJson): EksAccess {
  const provider = awsProviderOf(foundation);
  const clusters = Object.values(resourcesOfType(foundation, "aws_eks_cluster"));
  if (provider === undefined || clusters.length !== 1 || typeof clusters[0].name !== "string")
    throw new Error(
      `${environment}-foundation holds no single EKS cluster with an AWS provider region; fix: run npm run synth and check the stack`,
    );
  const cluster = clusters[0];
  const resolve = (value: string) => resolveAccountTokens(value, provider.region, provider.accountId);
  const entries = resourcesOfType(foundation, "aws_eks_access_entry");
  const policies = Object.values(resourcesOfType(foundation, "aws_eks_access_policy_association"));
  const list: AccessEntry[] = Object.entries(entries).map(([id, entry]) => {
    const association = policies.find(
      (p) => p.principal_arn === `\${aws_eks_access_entry.${id}.principal_arn}`,
    );
    const policyArn = typeof association?.policy_arn === "string" ? association.policy_arn : "";
    return {
      principalArn: resolve(String(entry.principal_arn)),
      policy: policyArn.split("/").pop() || "no access policy",
      kubernetesGroups: Array.isArray(entry.kubernetes_groups) ? entry.kubernetes_groups.map(String) : [],
    };
  });
  const vpc = cluster.vpc_config as
    { endpoint_public_access?: boolean; public_access_cidrs?: string[] } | undefined;
  return {
    kind: "eks",
    environment,
    clusterName: cluster.name as string,
    region: provider.region,
    accountId: provider.accountId,
    publicEndpointCidrs: vpc?.endpoint_public_access === true ? (vpc.public_access_cidrs ?? []) : undefined,
    entries: list,
  };
}

/** The kubeconfig context the Kubernetes provider of `<env>-platform` uses. */
export function rancherAccess(environment: string, platform: StackJson): RancherAccess {
  const context = platform.provider?.kubernetes?.[0]?.config_context;
  if (typeof context !== "string")
    throw new Error(
      `${environment}-platform names no kubeconfig context; fix: run npm run synth and check the stack`,
    );
  return { kind: "rancher", environment, context };
}

export function describeAccess(access: EksAccess | RancherAccess): string {
  if (access.kind === "rancher") {
    return [
      `${access.environment}: Rancher (RKE2) cluster, kubeconfig context ${access.context}`,
      "",
      "  # the kubeconfig downloaded from Rancher (cluster > Download KubeConfig), merged into one file",
      "  export KUBE_CONFIG_PATH=~/.kube/rancher.yaml",
      `  kubectl --kubeconfig "$KUBE_CONFIG_PATH" --context ${access.context} get nodes`,
      "",
      "Access is Rancher's: whoever Rancher makes a member of the cluster gets a kubeconfig with the",
      "role Rancher gives them. To add a person, add them (or their AD group) to the cluster's members",
      "in Rancher. The platform's UIs (Argo CD, Grafana, MLflow, Kubeflow Pipelines) log in with AD",
      `groups: directory.roles in environments/${access.environment}.ts maps them to admins, editors`,
      "and viewers; add a person to one of those groups in AD.",
      "",
    ].join("\n");
  }
  const admins = access.entries.filter((e) => e.policy === "AmazonEKSClusterAdminPolicy");
  const others = access.entries.filter((e) => e.policy !== "AmazonEKSClusterAdminPolicy");
  const entry = (e: AccessEntry) =>
    `    ${e.principalArn}${e.kubernetesGroups.length > 0 ? ` (Kubernetes groups ${e.kubernetesGroups.join(", ")})` : ""}`;
  const endpoint =
    access.publicEndpointCidrs === undefined
      ? "The API endpoint is private: run kubectl from inside the VPC (or a network routed to it)."
      : `The API endpoint is public for ${access.publicEndpointCidrs.join(", ")} and private inside the VPC.`;
  return [
    `${access.environment}: EKS cluster ${access.clusterName} in ${access.region}${access.accountId ? `, account ${access.accountId}` : ""}`,
    "",
    `  aws eks update-kubeconfig --name ${access.clusterName} --region ${access.region} --alias ${access.environment}`,
    `  kubectl --context ${access.environment} get nodes`,
    "",
    "Run it with AWS credentials of one of these principals (EKS access entries; no other identity,",
    "the cluster's creator included, has access):",
    "  cluster admin (AmazonEKSClusterAdminPolicy):",
    ...admins.map(entry),
    ...[...new Set(others.map((e) => e.policy))].flatMap((policy) => [
      `  ${policy}:`,
      ...others.filter((e) => e.policy === policy).map(entry),
    ]),
    endpoint,
    "",
    `To give a person access, add the IAM role they assume to eks.adminPrincipalArns in`,
    `environments/${access.environment}.ts and deploy ${access.environment}-foundation.`,
    "",
  ].join("\n");
}

export interface KubeconfigRun {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

const USAGE = "usage: npm run kubeconfig -- --env <environment> [--out <cdktf.out>]";

export function runKubeconfig(args: readonly string[], cwd: string): KubeconfigRun {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { env: { type: "string" }, out: { type: "string" } },
      strict: true,
    });
    if (values.env === undefined) throw new Error(`--env is required; ${USAGE}`);
    const out = values.out ?? DEFAULT_OUT;
    const env = values.env;
    const access = hasStack(cwd, out, `${env}-foundation`)
      ? eksAccess(env, readStack(cwd, out, `${env}-foundation`))
      : rancherAccess(env, readStack(cwd, out, `${env}-platform`));
    return { exitCode: 0, stdout: describeAccess(access), stderr: "" };
  } catch (error) {
    const message = (error as Error).message;
    const usage = message.includes("usage:") || message.includes("fix:") ? "" : `; fix: ${USAGE}`;
    return { exitCode: 1, stdout: "", stderr: `kubeconfig: ${message}${usage}\n` };
  }
}

if (require.main === module) {
  const run = runKubeconfig(process.argv.slice(2), process.cwd());
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  process.exitCode = run.exitCode;
}
