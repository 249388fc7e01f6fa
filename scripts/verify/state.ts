/**
 * The cluster state each environment's platform and serving stacks would create: rendered
 * charts, Kubeflow Pipelines manifests, `kubernetes_manifest` objects and typed resources, with
 * the facts about the cluster the rules need (node groups, service CIDR, version).
 */
import { App } from "cdktf";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Environment } from "../../environments/schema";
import type { RancherEnvironment } from "../../environments/rancher-schema";
import { isOnPrem, type AnyEnvironmentInput } from "../../environments/targets";
import { loadBuilds } from "../../stacks/synthesize";
import { addEnvironmentStacks } from "../../stacks/app";
import { convertTypedResource, TYPED_RESOURCES, type KubernetesObject } from "./convert";
import {
  resolveDeep,
  resolveString,
  type StackContext,
  type StandInContext,
  type TerraformJson,
} from "./terraform";
import {
  inParallel,
  renderKustomize,
  renderRelease,
  type ChartSources,
  type HelmReleaseInput,
  type RenderResult,
} from "./render";
import type { Tools } from "./tools";
import { firstAddress, hostInCidr, someAddressIn } from "./net";
import { eksApiServerSources, rke2ApiServerSources, type ApiServerSource } from "./api-server-sources";
import type { Finding } from "./finding";
import {
  CLUSTER_PROVIDED,
  OUT_OF_BAND,
  onPremOutOfBand,
  operatorManagedObjects,
  RKE2_PROVIDED,
  type OnPremSecrets,
  type OutOfBandObject,
} from "./out-of-band";
import { GPU_OPERATOR_NODE_LABELS, operandObjects } from "./operands";
import { kubeflowCacheWebhooks } from "./kfp-cache-webhook";
import { rancherClusterTarget } from "../../stacks/targets/rancher-target";

export interface StateObject {
  readonly object: KubernetesObject;
  /** Where it comes from: `dev-platform helm_release kube-prometheus-stack`. */
  readonly source: string;
}

export interface NodeGroupFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
  readonly maxSize: number;
}

export interface EnvironmentFacts {
  readonly name: string;
  /** `1.34` */
  readonly kubeVersion: string;
  /** Where pod addresses come from (the VPC on EKS, the cluster CIDR on RKE2). */
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The `kubernetes` Service's ClusterIP: the first address of the service CIDR. */
  readonly apiServiceIp: string;
  /** An address the API server's endpoints have (EKS control-plane ENIs, RKE2 server nodes). */
  readonly apiEndpointIp: string;
  /** Every address of the API server's endpoints (RKE2: each control-plane node); unset: `apiEndpointIp`. */
  readonly apiEndpointIps?: readonly string[];
  /** Port the API server's endpoints listen on (443 on EKS, 6443 on RKE2). */
  readonly apiEndpointPort: number;
  /**
   * Where the API server's calls to webhooks come from as the called pod's policy engine sees
   * them (`api-server-sources.ts`); unset: the API server's endpoint addresses.
   */
  readonly apiServerSources?: readonly ApiServerSource[];
  /** Where the database resolves (inside the VPC). */
  readonly databaseIp: string;
  readonly databasePort: number;
  /** A public object-store address (S3 regional endpoint range). */
  readonly objectStoreIp: string;
  /** Source address of load-balancer traffic to pods (ALB/NLB nodes in the VPC). */
  readonly loadBalancerIp: string;
  readonly nodeGroups: readonly NodeGroupFacts[];
  /** How NetworkPolicies see Service traffic: EKS's VPC CNI agent matches ipBlock before DNAT. */
  readonly networkPolicyEngine: "pre-dnat" | "post-dnat";
  /** Registry every image must come from (on-prem mirror); undefined on AWS. */
  readonly mirrorRegistry?: string;
  /** The Secret pods pulling from the mirror registry must carry (on the pod or its ServiceAccount). */
  readonly pullSecretName?: string;
  /** The Kubernetes distribution: what the cluster runs before the stacks (CLUSTER_PROVIDED, RKE2_PROVIDED). */
  readonly distribution: "eks" | "rke2";
  /**
   * The database as a Service in the cluster (CloudNativePG's `-rw` Service on-prem): flows to
   * the database go to the pods behind it. Unset: the database is outside the cluster at `databaseIp`.
   */
  readonly databaseService?: { readonly namespace: string; readonly name: string };
  /** UIs sign in against a directory (Dex); no local users are created. */
  readonly directoryLogin?: boolean;
  /** A model of the release logs predictions, so its monitoring job runs. */
  readonly monitoredModels?: boolean;
  /** The Secrets the platform team creates by hand (on-prem), as the environment file names them. */
  readonly handMadeSecrets?: OnPremSecrets;
  /** Objects created out of band in this environment, beside OUT_OF_BAND (filled by collect). */
  readonly outOfBand?: readonly OutOfBandObject[];
}

export interface ClusterState {
  readonly environment: EnvironmentFacts;
  readonly objects: StateObject[];
  /** Problems found while building the state (charts missing, renders failing). */
  readonly problems: Finding[];
}

export interface CollectOptions {
  readonly environments: readonly AnyEnvironmentInput[];
  readonly tools: Tools;
  readonly charts: ChartSources;
  /** Folder holding `kubeflow-pipelines-<version>/manifests` or a `manifests` folder itself. */
  readonly kubeflowPipelinesDir?: string;
}

/** Kinds the API server keeps without a namespace (built-in); CRDs add theirs. */
export const CLUSTER_SCOPED_KINDS = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "APIService",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "FlowSchema",
  "PriorityLevelConfiguration",
  "CertificateSigningRequest",
]);

export interface SynthesizedEnvironment {
  readonly input: AnyEnvironmentInput;
  readonly name: string;
  readonly stacks: Record<string, TerraformJson>;
  readonly facts: EnvironmentFacts;
}

/** Synthesizes every stack of the environments into a temporary folder and reads them back. */
export function synthesize(environments: readonly AnyEnvironmentInput[]): SynthesizedEnvironment[] {
  const loaded = loadBuilds(environments);
  if (!loaded.ok) throw new Error(`environment configuration is invalid:\n${loaded.problems.join("\n")}`);
  const outdir = mkdtempSync(join(tmpdir(), "mlops-verify-synth-"));
  try {
    const app = new App({ outdir });
    const all = addEnvironmentStacks(app, loaded.builds);
    app.synth();
    return loaded.builds.map(({ environment, release }, index) => {
      const stacks: Record<string, TerraformJson> = {};
      for (const stack of Object.values(all[index]).filter((s) => s !== undefined)) {
        const id = stack.node.id;
        stacks[id] = JSON.parse(readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8"));
      }
      const input = environments.find(
        (e) => (e as { name: string }).name === environment.name,
      ) as AnyEnvironmentInput;
      return {
        input,
        name: environment.name,
        stacks,
        facts: {
          ...(isOnPrem(environment)
            ? onPremFactsOf(environment)
            : factsOf(environment, stacks[`${environment.name}-foundation`])),
          monitoredModels: release.models.some((model) => model.monitoring.logging.mode !== "off"),
        },
      };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const EKS_EFFECTS: Record<string, string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

/**
 * An on-prem cluster as its environment file describes it: the nodes are one general pool and
 * the labelled GPU nodes (which the GPU Operator labels for its operands); pods (the database's
 * included) draw from the cluster CIDR; Canal matches policies after DNAT; MLflow's database is
 * the CloudNativePG cluster's read-write Service the target names; every image comes from
 * Artifactory with the pull Secret; the Secrets the file names exist where it says.
 */
function onPremFactsOf(environment: RancherEnvironment): EnvironmentFacts {
  const cluster = environment.cluster;
  const gpu = cluster.gpuNodes;
  const target = rancherClusterTarget(environment);
  const [service, namespace] = target.database.host.split(".");
  const directory = environment.directory as RancherEnvironment["directory"] & {
    caSecret?: { name: string };
  };
  const tls = environment.tls as RancherEnvironment["tls"] & { caBundleSecret?: { name: string } };
  const receivers = (environment.platform.alerting?.receivers ?? []) as { name: string }[];
  return {
    distribution: "rke2",
    databaseService: { namespace, name: service },
    directoryLogin: target.directoryLogin !== undefined,
    pullSecretName: environment.registry.pullSecretName,
    handMadeSecrets: {
      pullSecretName: environment.registry.pullSecretName,
      objectStoreCredentials: environment.objectStore.credentialsSecret,
      objectStoreCaBundle: environment.objectStore.caBundleSecret?.name,
      directoryBindPassword: directory.bindPasswordSecret.name,
      directoryCa: directory.caSecret?.name,
      issuerCa: tls.caSecret,
      issuerCaBundle: tls.caBundleSecret?.name,
      alertReceivers: [
        ...receivers.map((r) => r.name),
        ...(environment.platform.alerting?.heartbeat ? ["heartbeat"] : []),
      ],
    },
    name: environment.name,
    kubeVersion: cluster.kubernetesVersion,
    podCidr: cluster.podCidr,
    serviceCidr: cluster.serviceCidr,
    apiServiceIp: firstAddress(cluster.serviceCidr),
    apiEndpointIp: someAddressIn(cluster.apiServerCidrs[0]),
    apiEndpointIps: cluster.apiServerCidrs.map(someAddressIn),
    apiEndpointPort: cluster.apiServerPort,
    apiServerSources: rke2ApiServerSources(cluster.apiServerCidrs, cluster.podCidr),
    databaseIp: hostInCidr(cluster.podCidr, 100),
    databasePort: 5432,
    objectStoreIp: someAddressIn(environment.objectStore.cidrs[0]),
    loadBalancerIp: hostInCidr(cluster.ingressSourceCidrs[0], 1),
    nodeGroups: [
      { name: "general", labels: {}, taints: [], maxSize: cluster.maxNodes - gpu.maxNodes },
      {
        name: "gpu",
        labels: { [gpu.labelKey]: gpu.labelValue, ...GPU_OPERATOR_NODE_LABELS },
        taints: gpu.taintKey ? [{ key: gpu.taintKey, effect: "NoSchedule" }] : [],
        maxSize: gpu.maxNodes,
      },
    ],
    networkPolicyEngine: "post-dnat",
    mirrorRegistry: environment.registry.host,
  };
}

function factsOf(environment: Environment, foundation: TerraformJson | undefined): EnvironmentFacts {
  const groups = Object.entries(foundation?.resource?.aws_eks_node_group ?? {}).map(([id, group]) => {
    const g = group as {
      node_group_name?: string;
      labels?: Record<string, string>;
      taint?: { key: string; value?: string; effect: string }[];
      scaling_config?: { max_size: number } | { max_size: number }[];
    };
    const scaling = Array.isArray(g.scaling_config) ? g.scaling_config[0] : g.scaling_config;
    return {
      name: g.labels?.workload ?? id,
      labels: g.labels ?? {},
      taints: (g.taint ?? []).map((t) => ({
        key: t.key,
        value: t.value,
        effect: EKS_EFFECTS[t.effect] ?? t.effect,
      })),
      maxSize: scaling?.max_size ?? 0,
    };
  });
  const vpc = environment.network.vpcCidr;
  return {
    distribution: "eks",
    name: environment.name,
    kubeVersion: environment.eks.version,
    podCidr: vpc,
    serviceCidr: environment.eks.serviceIpv4Cidr,
    apiServiceIp: firstAddress(environment.eks.serviceIpv4Cidr),
    apiEndpointIp: hostInCidr(vpc, 200),
    apiEndpointPort: 443,
    apiServerSources: eksApiServerSources(vpc, foundation),
    databaseIp: hostInCidr(vpc, 100),
    databasePort: 5432,
    objectStoreIp: "52.218.0.10",
    loadBalancerIp: hostInCidr(vpc, 50),
    nodeGroups: groups,
    networkPolicyEngine: "pre-dnat",
  };
}

function isNamespaced(kind: string, clusterScopedCustom: ReadonlySet<string>): boolean {
  return !CLUSTER_SCOPED_KINDS.has(kind) && !clusterScopedCustom.has(kind);
}

interface PendingRelease {
  readonly environment: string;
  readonly stack: string;
  readonly release: HelmReleaseInput;
}

function releasesOf(env: SynthesizedEnvironment, context: StandInContext): PendingRelease[] {
  const out: PendingRelease[] = [];
  for (const [stackName, json] of Object.entries(env.stacks)) {
    const stack: StackContext = { name: stackName, json };
    for (const raw of Object.values(json.resource?.helm_release ?? {})) {
      const r = raw as {
        name: string;
        namespace?: string;
        chart: string;
        version: string;
        repository?: string;
        values?: string[];
        set?: unknown[];
      };
      const values = (r.values ?? []).map((text) => parseYaml(resolveString(text, stack, context)));
      if (r.set && r.set.length > 0) {
        throw new Error(
          `${stackName} helm_release ${r.name}: "set" values are not supported by verify; pass them in values`,
        );
      }
      out.push({
        environment: env.name,
        stack: stackName,
        release: {
          name: resolveString(r.name, stack, context),
          namespace: resolveString(r.namespace ?? "default", stack, context),
          chart: r.chart,
          version: r.version,
          repository: r.repository,
          values,
        },
      });
    }
  }
  return out;
}

/** A `kubernetes_annotations` resource: annotations Terraform sets on an object it does not own. */
interface AnnotationPatch {
  readonly source: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * A `kubernetes_config_map_v1_data` resource: keys Terraform writes into a ConfigMap it does not
 * own (server-side apply; with `force`, over the owner's fields), as the live object holds them.
 */
interface ConfigMapDataPatch {
  readonly source: string;
  readonly name: string;
  readonly namespace: string;
  readonly data: Readonly<Record<string, string>>;
  readonly force: boolean;
}

function typedObjects(
  env: SynthesizedEnvironment,
  context: StandInContext,
  problems: Finding[],
  annotations: AnnotationPatch[],
  dataPatches: ConfigMapDataPatch[],
): StateObject[] {
  const out: StateObject[] = [];
  for (const [stackName, json] of Object.entries(env.stacks)) {
    const stack: StackContext = { name: stackName, json };
    for (const [type, resources] of Object.entries(json.resource ?? {})) {
      if (type === "kubernetes_manifest") {
        for (const [id, resource] of Object.entries(resources)) {
          const manifest = resolveDeep((resource as { manifest: KubernetesObject }).manifest, stack, context);
          out.push({ object: manifest, source: `${stackName} kubernetes_manifest.${id}` });
        }
        continue;
      }
      if (!type.startsWith("kubernetes_")) continue;
      if (type === "kubernetes_annotations") {
        for (const [id, resource] of Object.entries(resources)) {
          const r = resolveDeep(resource, stack, context) as {
            api_version: string;
            kind: string;
            metadata: { name: string; namespace?: string } | { name: string; namespace?: string }[];
            annotations?: Record<string, string>;
            template_annotations?: Record<string, string>;
          };
          const metadata = Array.isArray(r.metadata) ? r.metadata[0] : r.metadata;
          annotations.push({
            source: `${stackName} ${type}.${id}`,
            apiVersion: r.api_version,
            kind: r.kind,
            name: metadata.name,
            namespace: metadata.namespace,
            annotations: r.annotations ?? {},
          });
        }
        continue;
      }
      if (type === "kubernetes_config_map_v1_data") {
        for (const [id, resource] of Object.entries(resources)) {
          const r = resolveDeep(resource, stack, context) as {
            metadata: { name: string; namespace?: string } | { name: string; namespace?: string }[];
            data?: Record<string, string>;
            force?: boolean;
          };
          const metadata = Array.isArray(r.metadata) ? r.metadata[0] : r.metadata;
          dataPatches.push({
            source: `${stackName} ${type}.${id}`,
            name: metadata.name,
            namespace: metadata.namespace ?? "default",
            data: r.data ?? {},
            force: r.force === true,
          });
        }
        continue;
      }
      if (!TYPED_RESOURCES[type]) {
        problems.push({
          environment: env.name,
          source: `${stackName} ${type}`,
          object: type,
          rule: "collect",
          severity: "error",
          message: `resource type ${type} has no Kubernetes mapping, so its objects are not checked`,
          fix: "add the type to TYPED_RESOURCES in scripts/verify/convert.ts",
        });
        continue;
      }
      for (const [id, resource] of Object.entries(resources)) {
        const resolved = resolveDeep(resource, stack, context) as Record<string, unknown>;
        const { object, problems: conversion } = convertTypedResource(type, resolved);
        for (const p of conversion) {
          problems.push({
            environment: env.name,
            source: `${stackName} ${type}.${id}`,
            object: `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name ?? id}`,
            rule: "schema",
            severity: "error",
            message: `${p.path} ${p.message}`,
            fix: "give the block the shape the Kubernetes field has",
          });
        }
        out.push({ object, source: `${stackName} ${type}.${id}` });
      }
    }
  }
  return out;
}

function renderFailure(
  environment: string,
  source: string,
  object: string,
  result: Extract<RenderResult, { ok: false }>,
): Finding {
  return {
    environment,
    source,
    object,
    rule: "render",
    severity: "error",
    message: result.problem,
    fix: result.fix,
  };
}

/** Group/versions the custom resource definitions in a set of objects serve. */
export function servedApiVersions(objects: readonly KubernetesObject[]): string[] {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== "CustomResourceDefinition") continue;
    const spec = o.spec as { group?: string; versions?: { name: string; served?: boolean }[] } | undefined;
    for (const v of spec?.versions ?? [])
      if (v.served !== false && spec?.group) out.add(`${spec.group}/${v.name}`);
  }
  return [...out].sort();
}

function kubeflowRoot(dir: string, version: string): string {
  const direct = join(dir, "manifests");
  try {
    readFileSync(join(direct, "kustomize", "env", "platform-agnostic", "kustomization.yaml"));
    return dir;
  } catch {
    return join(dir, `kubeflow-pipelines-${version}`);
  }
}

/** Builds the cluster state of every environment. */
export async function collect(options: CollectOptions): Promise<ClusterState[]> {
  const synthesized = synthesize(options.environments);
  const states: ClusterState[] = [];
  const pending: {
    env: SynthesizedEnvironment;
    releases: PendingRelease[];
    objects: StateObject[];
    problems: Finding[];
    annotations: AnnotationPatch[];
    dataPatches: ConfigMapDataPatch[];
    reads: { name: string; namespace: string }[];
  }[] = [];
  for (const env of synthesized) {
    const account = ((env.input as { aws?: { allowedAccountIds?: string[] } }).aws?.allowedAccountIds ?? [
      "000000000000",
    ])[0];
    const region = (env.input as { aws?: { region?: string } }).aws?.region ?? "eu-west-1";
    const context: StandInContext = { accountId: account, region, stacks: env.stacks };
    const problems: Finding[] = [];
    const annotations: AnnotationPatch[] = [];
    const dataPatches: ConfigMapDataPatch[] = [];
    const objects = typedObjects(env, context, problems, annotations, dataPatches);
    const reads = secretReads(env, context);
    pending.push({
      env,
      releases: releasesOf(env, context),
      objects,
      problems,
      annotations,
      dataPatches,
      reads,
    });
  }

  const render = (apiVersions: (env: string) => string[]) => (p: PendingRelease) =>
    renderRelease(options.tools, p.release, options.charts, {
      kubeVersion: `${synthesized.find((s) => s.name === p.environment)!.facts.kubeVersion}.0`,
      apiVersions: apiVersions(p.environment),
    });
  const all = pending.flatMap((p) => p.releases);
  const first = await inParallel(
    all,
    2,
    render(() => []),
  );
  // Templates gated on an API (ServiceMonitor, ...) render once the CRDs the state installs are known.
  const served = new Map<string, string[]>();
  for (const p of pending) {
    const rendered = first.flatMap((r, i) => (r.ok && all[i].environment === p.env.name ? r.objects : []));
    served.set(p.env.name, servedApiVersions([...rendered, ...p.objects.map((o) => o.object)]));
  }
  const gated = all.map((_p, i) => {
    const r = first[i];
    return r.ok && chartUsesCapabilities(r.chartDir);
  });
  const second = await inParallel(
    all.map((p, i) => ({ p, i })).filter(({ i }) => gated[i]),
    2,
    ({ p }) => render((env) => served.get(env) ?? [])(p),
  );
  const results = [...first];
  all
    .map((_p, i) => i)
    .filter((i) => gated[i])
    .forEach((i, k) => (results[i] = second[k]));

  for (const p of pending) {
    const { env, objects, problems } = p;
    for (const [i, release] of all.entries()) {
      if (release.environment !== env.name) continue;
      const source = `${release.stack} helm_release ${release.release.name}`;
      const r = results[i];
      if (!r.ok) {
        problems.push(
          renderFailure(env.name, source, `release ${release.release.namespace}/${release.release.name}`, r),
        );
        continue;
      }
      for (const object of r.objects) {
        objects.push({ object: defaultNamespace(object, release.release.namespace), source });
      }
    }
    await addKubeflowPipelines(options, env, objects, problems);
    // Before the controllers' objects: KServe reads its ConfigMap as the stacks leave it.
    problems.push(...applyConfigMapData(env.name, objects, p.dataPatches));
    if (env.facts.distribution === "rke2") {
      for (const object of RKE2_PROVIDED) objects.push({ object, source: "cluster (shipped with RKE2)" });
    } else {
      for (const object of CLUSTER_PROVIDED)
        objects.push({ object, source: "cluster (present in every EKS cluster)" });
    }
    for (const object of operatorManagedObjects(objects.map((o) => o.object))) {
      objects.push({ object, source: "cluster (maintained by prometheus-operator)" });
    }
    objects.push(...operandObjects(objects.map((o) => o.object)));
    objects.push(...kubeflowCacheWebhooks(objects.map((o) => o.object)));
    const customScopes = clusterScopedCustomKinds(objects.map((o) => o.object));
    const finalObjects = objects.map((o) =>
      isNamespaced(o.object.kind, customScopes) ? o : { ...o, object: withoutNamespace(o.object) },
    );
    const facts = withOutOfBand(env.facts, finalObjects, p.reads);
    problems.push(...applyAnnotations(facts, finalObjects, p.annotations));
    states.push({ environment: facts, objects: finalObjects, problems });
  }
  return states;
}

/**
 * Sets each `kubernetes_annotations` resource's annotations on its object; the object must be in
 * the state or declared out of band (the provider fails when it does not exist).
 */
function applyAnnotations(
  facts: EnvironmentFacts,
  objects: StateObject[],
  patches: readonly AnnotationPatch[],
): Finding[] {
  const problems: Finding[] = [];
  for (const patch of patches) {
    const index = objects.findIndex(
      (o) =>
        o.object.kind === patch.kind &&
        o.object.apiVersion === patch.apiVersion &&
        o.object.metadata.name === patch.name &&
        (o.object.metadata.namespace ?? undefined) === patch.namespace,
    );
    const object = `${patch.kind} ${patch.namespace ? `${patch.namespace}/` : ""}${patch.name}`;
    if (index >= 0) {
      const target = objects[index];
      const metadata = {
        ...target.object.metadata,
        annotations: { ...(target.object.metadata.annotations ?? {}), ...patch.annotations },
      };
      objects[index] = { ...target, object: { ...target.object, metadata } };
      continue;
    }
    const kind = patch.kind as OutOfBandObject["kind"];
    const declared = [...OUT_OF_BAND, ...(facts.outOfBand ?? [])].some(
      (entry) =>
        entry.kind === kind &&
        (entry.namespace === "*" || entry.namespace === patch.namespace) &&
        (typeof entry.name === "string" ? entry.name === patch.name : entry.name.test(patch.name)),
    );
    if (declared) continue;
    problems.push({
      environment: facts.name,
      source: patch.source,
      object,
      rule: "references",
      severity: "error",
      message: `annotates ${object}, which nothing in the state creates (kubernetes_annotations needs an existing object)`,
      fix: "create the object, or declare it in scripts/verify/out-of-band.ts with who creates it",
    });
  }
  return problems;
}

/**
 * Writes each `kubernetes_config_map_v1_data` resource's keys into its ConfigMap, which must be in
 * the state (the provider fails on a missing one). Without `force`, a key another manager set
 * (a chart's) is a conflict the apply fails on.
 */
function applyConfigMapData(
  environment: string,
  objects: StateObject[],
  patches: readonly ConfigMapDataPatch[],
): Finding[] {
  const problems: Finding[] = [];
  for (const patch of patches) {
    const object = `ConfigMap ${patch.namespace}/${patch.name}`;
    const index = objects.findIndex(
      (o) =>
        o.object.kind === "ConfigMap" &&
        o.object.metadata.name === patch.name &&
        (o.object.metadata.namespace ?? "default") === patch.namespace,
    );
    if (index < 0) {
      problems.push({
        environment,
        source: patch.source,
        object,
        rule: "references",
        severity: "error",
        message: `writes data into ${object}, which nothing in the state creates (the provider fails: "The ConfigMap does not exist")`,
        fix: "create the ConfigMap first (the release that renders it), or correct the name and namespace",
      });
      continue;
    }
    const target = objects[index];
    const data = (target.object.data ?? {}) as Record<string, string>;
    const owned = Object.keys(patch.data).filter((key) => key in data && data[key] !== patch.data[key]);
    if (!patch.force && owned.length > 0) {
      problems.push({
        environment,
        source: patch.source,
        object,
        rule: "ownership",
        severity: "error",
        message: `changes ${owned.join(", ")} of ${object}, which ${target.source} sets: server-side apply refuses the conflict without force`,
        fix: "set force: true on the kubernetes_config_map_v1_data resource",
      });
      continue;
    }
    objects[index] = { ...target, object: { ...target.object, data: { ...data, ...patch.data } } };
  }
  return problems;
}

/** The facts with the environment's hand-made Secrets placed in the namespaces the stacks create. */
function withOutOfBand(
  facts: EnvironmentFacts,
  objects: readonly StateObject[],
  reads: readonly { name: string; namespace: string }[],
): EnvironmentFacts {
  if (!facts.handMadeSecrets) return facts;
  const namespaces = objects
    .filter((o) => o.object.kind === "Namespace" && !o.source.startsWith("cluster ("))
    .map((o) => o.object.metadata.name ?? "");
  // Where the stacks read a hand-made Secret to copy it, it exists only where it is read.
  const declared = onPremOutOfBand(facts.handMadeSecrets, namespaces);
  const readAt = (name: string) => reads.filter((r) => r.name === name).map((r) => r.namespace);
  const narrowed = declared.filter(
    (entry) =>
      typeof entry.name !== "string" ||
      readAt(entry.name).length === 0 ||
      readAt(entry.name).includes(entry.namespace),
  );
  for (const read of reads)
    if (!narrowed.some((e) => e.name === read.name && e.namespace === read.namespace))
      narrowed.push(
        ...declared
          .filter((e) => e.name === read.name)
          .slice(0, 1)
          .map((e) => ({ ...e, namespace: read.namespace })),
      );
  return { ...facts, outOfBand: narrowed };
}

/** The Secrets the stacks read through `data.kubernetes_secret_v1` (they must exist at plan time). */
function secretReads(
  env: SynthesizedEnvironment,
  context: StandInContext,
): { name: string; namespace: string }[] {
  const out: { name: string; namespace: string }[] = [];
  for (const [stackName, json] of Object.entries(env.stacks)) {
    const data =
      (json as { data?: Record<string, Record<string, unknown>> }).data?.kubernetes_secret_v1 ?? {};
    for (const read of Object.values(data)) {
      const r = resolveDeep(read, { name: stackName, json }, context) as {
        metadata?: { name?: string; namespace?: string } | { name?: string; namespace?: string }[];
      };
      const metadata = Array.isArray(r.metadata) ? r.metadata[0] : r.metadata;
      if (metadata?.name) out.push({ name: metadata.name, namespace: metadata.namespace ?? "default" });
    }
  }
  return out;
}

const capabilityCache = new Map<string, boolean>();
function chartUsesCapabilities(dir: string): boolean {
  const cached = capabilityCache.get(dir);
  if (cached !== undefined) return cached;
  let found = false;
  try {
    execFileSync("grep", ["-rqs", "APIVersions", dir]);
    found = true;
  } catch {
    found = false;
  }
  capabilityCache.set(dir, found);
  return found;
}

function defaultNamespace(object: KubernetesObject, namespace: string): KubernetesObject {
  if (!object.metadata) object.metadata = {};
  if (object.metadata.namespace) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

function withoutNamespace(object: KubernetesObject): KubernetesObject {
  if (!object.metadata?.namespace) return object;
  const { namespace: _namespace, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** Kinds of the CRDs in the state whose scope is Cluster. */
export function clusterScopedCustomKinds(objects: readonly KubernetesObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    const spec = o.spec as { scope?: string; names?: { kind?: string } } | undefined;
    if (o.kind === "CustomResourceDefinition" && spec?.scope === "Cluster" && spec.names?.kind)
      out.add(spec.names.kind);
  }
  return out;
}

async function addKubeflowPipelines(
  options: CollectOptions,
  env: SynthesizedEnvironment,
  objects: StateObject[],
  problems: Finding[],
): Promise<void> {
  const applications = objects.filter(
    (o) => o.object.kind === "Application" && o.object.apiVersion.startsWith("argoproj.io/"),
  );
  for (const application of applications) {
    const spec = application.object.spec as {
      source?: {
        repoURL?: string;
        path?: string;
        targetRevision?: string;
        kustomize?: { patches?: unknown[]; images?: string[] };
      };
      destination?: { namespace?: string };
    };
    const source = spec.source;
    if (!source?.path || !/pipelines/.test(source.repoURL ?? "")) continue;
    const where = `${application.source} Application ${application.object.metadata.name}`;
    const name = `Application ${application.object.metadata.namespace}/${application.object.metadata.name}`;
    if (!options.kubeflowPipelinesDir) {
      problems.push({
        environment: env.name,
        source: where,
        object: name,
        rule: "render",
        severity: "error",
        message: `the Kubeflow Pipelines manifests (${source.repoURL} ${source.path} at ${source.targetRevision}) are not available`,
        fix: "pass --kubeflow-pipelines DIR (or MLOPS_KUBEFLOW_PIPELINES_DIR) holding the manifests at the pinned tag",
      });
      continue;
    }
    const root = kubeflowRoot(options.kubeflowPipelinesDir, source.targetRevision ?? "");
    const result = await renderKustomize(options.tools, {
      root,
      path: source.path,
      patches: source.kustomize?.patches ?? [],
      images: source.kustomize?.images ?? [],
    });
    if (!result.ok) {
      problems.push(renderFailure(env.name, where, name, result));
      continue;
    }
    const namespace = spec.destination?.namespace ?? "default";
    for (const object of result.objects) {
      objects.push({ object: defaultNamespace(object, namespace), source: `${where} (${source.path})` });
    }
  }
}
