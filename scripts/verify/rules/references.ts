/**
 * references: what objects point at must exist and match: Service selectors and named target
 * ports, ServiceMonitor/PodMonitor selectors and ports, Ingress backends, HPA targets, PDBs that
 * leave room for an eviction, the ServiceAccounts, Secrets and ConfigMaps pods use, and the CA
 * bundle file a container's AWS_CA_BUNDLE names.
 */
import type { KubernetesObject, Decoded } from "../convert";
import type { Finding } from "../finding";
import { declaredOutOfBand, OUT_OF_BAND, type OutOfBandObject } from "../out-of-band";
import { releasedByOperator } from "../operands";
import type { ClusterState, StateObject } from "../state";
import { KSERVE_LOGGER_CA_MOUNT_PATH } from "../controllers/kserve";
import { allContainers, selects, workloads, type Container, type PodSpec, type Workload } from "../workloads";
import { findingFor, type Rule } from "./rule";

type Selector = Parameters<typeof selects>[0];

function named(state: ClusterState, kind: string, namespace: string, name: string): StateObject | undefined {
  return state.objects.find(
    (o) =>
      o.object.kind === kind && o.object.metadata.namespace === namespace && o.object.metadata.name === name,
  );
}

/** Secrets other objects in the state make: ExternalSecrets, cert-manager Certificates, ... */
function generatedSecrets(state: ClusterState): Set<string> {
  const out = new Set<string>();
  for (const { object } of state.objects) {
    const ns = object.metadata.namespace ?? "";
    const spec = (object.spec ?? {}) as Record<string, Decoded>;
    if (object.kind === "ExternalSecret" && object.apiVersion.startsWith("external-secrets.io/")) {
      if (spec.target?.creationPolicy !== "None")
        out.add(`${ns}/${spec.target?.name ?? object.metadata.name}`);
    }
    if (object.kind === "Certificate" && object.apiVersion.startsWith("cert-manager.io/") && spec.secretName)
      out.add(`${ns}/${spec.secretName}`);
    if (object.kind === "ServiceAccount") {
      // Long-lived tokens: Secrets of type service-account-token are in the state themselves.
    }
  }
  return out;
}

/** The literal AWS_CA_BUNDLE of a container, where it has one. */
function caBundleFile(container: Container): string | undefined {
  const env = (container.env ?? []) as { name: string; value?: unknown }[];
  const value = env.filter((e) => e.name === "AWS_CA_BUNDLE").pop()?.value;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Why no volume of `container` provides `file`, or undefined when one does: a mount whose path is
 * the file (subPath) or a directory above it, from a ConfigMap or Secret volume whose items (or,
 * for a ConfigMap in the state, whose keys) hold the rest of the path. A Secret's keys are not in
 * the state (copied from hand-made Secrets), nor is what other volume types hold: taken as given.
 */
function unprovidedFile(
  state: ClusterState,
  namespace: string,
  spec: PodSpec,
  container: Container,
  file: string,
): string | undefined {
  const mounts = (container.volumeMounts ?? []) as { name: string; mountPath: string; subPath?: string }[];
  const mount = mounts.find((m) =>
    m.subPath ? m.mountPath === file : file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`),
  );
  if (!mount)
    return `no volume mount of the container contains (mounts: ${mounts.map((m) => m.mountPath).join(", ") || "none"})`;
  const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume) return `volume mount "${mount.name}" names no volume of the pod`;
  const key = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
  const source = (volume.configMap ?? volume.secret) as
    | { name?: string; secretName?: string; items?: { key: string; path: string }[]; optional?: boolean }
    | undefined;
  if (!source) return undefined;
  if (source.items) {
    return source.items.some((item) => item.path === key)
      ? undefined
      : `volume "${mount.name}" does not project (items: ${source.items.map((i) => i.path).join(", ")})`;
  }
  if (!volume.configMap) return undefined;
  const configMap = named(state, "ConfigMap", namespace, source.name ?? "");
  if (!configMap)
    return `volume "${mount.name}" would hold from ConfigMap ${namespace}/${source.name}, which nothing in the state creates`;
  const data = {
    ...((configMap.object.data as Record<string, string>) ?? {}),
    ...((configMap.object.binaryData as Record<string, string>) ?? {}),
  };
  return key in data
    ? undefined
    : `volume "${mount.name}" does not hold: ConfigMap ${namespace}/${source.name} has no key "${key}" (keys: ${Object.keys(data).join(", ") || "none"})`;
}

function servicePorts(
  service: KubernetesObject,
): { name?: string; port: number; targetPort?: number | string }[] {
  return (
    (service.spec as { ports?: { name?: string; port: number; targetPort?: number | string }[] })?.ports ?? []
  );
}

function podsOf(
  all: Workload[],
  namespace: string,
  selector: Record<string, string> | Selector | undefined,
  isLabelSelector: boolean,
): Workload[] {
  if (!selector) return [];
  return all.filter(
    (w) =>
      w.namespace === namespace &&
      (isLabelSelector
        ? selects(selector as Selector, w.labels)
        : Object.entries(selector as Record<string, string>).every(([k, v]) => w.labels[k] === v)),
  );
}

function containerPortNames(w: Workload): Map<string, number> {
  const out = new Map<string, number>();
  for (const { container } of allContainers(w.spec))
    for (const p of container.ports ?? []) if (p.name) out.set(p.name, p.containerPort);
  return out;
}

function namespacesOf(
  state: ClusterState,
  monitor: KubernetesObject,
  namespaceSelector: { any?: boolean; matchNames?: string[] } | undefined,
): string[] {
  if (namespaceSelector?.any)
    return [
      ...new Set(state.objects.map((o) => o.object.metadata.namespace).filter((n): n is string => !!n)),
    ];
  if (namespaceSelector?.matchNames?.length) return namespaceSelector.matchNames;
  return [monitor.metadata.namespace ?? ""];
}

function percentOf(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number(value);
  const exact = (total * Number(match[1])) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function referencesRule(outOfBand: readonly OutOfBandObject[] = OUT_OF_BAND): Rule {
  return {
    name: "references",
    summary:
      "Service, ServiceMonitor, PodMonitor, Ingress, HPA and PDB targets exist and match; ServiceAccounts, Secrets and ConfigMaps pods use exist; a volume provides the CA bundle AWS_CA_BUNDLE names",
    check(state) {
      const findings: Finding[] = [];
      const all = workloads(state);
      const add = (at: StateObject, message: string, fix: string) =>
        findings.push(findingFor(state, "references", at, message, fix));
      const secrets = generatedSecrets(state);

      for (const at of state.objects) {
        const o = at.object;
        const ns = o.metadata.namespace ?? "";
        const spec = (o.spec ?? {}) as Record<string, Decoded>;
        switch (o.kind) {
          case "Service": {
            if (!spec.selector || spec.type === "ExternalName") break;
            const pods = podsOf(all, ns, spec.selector, false);
            // An operator's Services follow roles its pods take at run time: CloudNativePG's `-ro`
            // selects replicas, which a one-instance cluster has none of.
            if (pods.length === 0 && at.source.startsWith("operator (")) break;
            if (pods.length === 0) {
              add(
                at,
                `selector ${JSON.stringify(spec.selector)} matches no pod template in ${ns}`,
                "make the selector match the labels of the pods that serve it",
              );
              break;
            }
            for (const port of servicePorts(o)) {
              if (typeof port.targetPort !== "string") continue;
              if (!pods.some((w) => containerPortNames(w).has(port.targetPort as string))) {
                add(
                  at,
                  `port ${port.name ?? port.port} targets container port "${port.targetPort}", which no selected pod names`,
                  "name the container port or target an existing name or number",
                );
              }
            }
            break;
          }
          case "ServiceMonitor": {
            const namespaces = namespacesOf(state, o, spec.namespaceSelector);
            const services = state.objects.filter(
              (s) =>
                s.object.kind === "Service" &&
                namespaces.includes(s.object.metadata.namespace ?? "") &&
                selects(spec.selector, s.object.metadata.labels ?? {}),
            );
            if (services.length === 0) {
              add(
                at,
                `selector ${JSON.stringify(spec.selector)} matches no Service in ${namespaces.join(", ")}`,
                "make the selector match the labels of the Service to scrape",
              );
              break;
            }
            for (const endpoint of (spec.endpoints ?? []) as {
              port?: string;
              targetPort?: number | string;
              path?: string;
            }[]) {
              if (
                endpoint.port &&
                !services.some((s) => servicePorts(s.object).some((p) => p.name === endpoint.port))
              ) {
                const names = services.flatMap((s) =>
                  servicePorts(s.object).map((p) => p.name ?? String(p.port)),
                );
                add(
                  at,
                  `endpoint port "${endpoint.port}" is not a port name of the selected Service(s) (${names.join(", ")})`,
                  `set the endpoint port to one of: ${names.join(", ")}`,
                );
              }
              if (endpoint.path && !endpoint.path.startsWith("/"))
                add(
                  at,
                  `endpoint path "${endpoint.path}" does not start with /`,
                  "use an absolute path such as /metrics",
                );
            }
            break;
          }
          case "PodMonitor": {
            const namespaces = namespacesOf(state, o, spec.namespaceSelector);
            const pods = all.filter(
              (w) => namespaces.includes(w.namespace) && selects(spec.selector, w.labels),
            );
            if (pods.length === 0) {
              add(
                at,
                `selector ${JSON.stringify(spec.selector)} matches no pod template in ${namespaces.join(", ")}`,
                "make the selector match the labels of the pods to scrape",
              );
              break;
            }
            for (const endpoint of (spec.podMetricsEndpoints ?? []) as {
              port?: string;
              portNumber?: number;
              targetPort?: number | string;
            }[]) {
              if (endpoint.port && !pods.some((w) => containerPortNames(w).has(endpoint.port as string))) {
                const names = [...new Set(pods.flatMap((w) => [...containerPortNames(w).keys()]))];
                add(
                  at,
                  `endpoint port "${endpoint.port}" is not a container port name of the selected pods (${names.join(", ") || "none named"})`,
                  names.length
                    ? `set the port to one of: ${names.join(", ")}`
                    : "name the container port in the pod template",
                );
              }
              if (
                endpoint.portNumber !== undefined &&
                !pods.some(
                  (w) =>
                    [...containerPortNames(w).values()].includes(endpoint.portNumber as number) ||
                    allContainers(w.spec).some(({ container }) =>
                      (container.ports ?? []).some((p) => p.containerPort === endpoint.portNumber),
                    ),
                )
              ) {
                add(
                  at,
                  `endpoint portNumber ${endpoint.portNumber} is not a container port of the selected pods`,
                  "use a port the containers declare",
                );
              }
            }
            break;
          }
          case "Ingress": {
            const backends: { service?: { name: string; port?: { name?: string; number?: number } } }[] = [];
            if (spec.defaultBackend) backends.push(spec.defaultBackend);
            for (const rule of spec.rules ?? [])
              for (const path of rule.http?.paths ?? []) backends.push(path.backend);
            // The AWS Load Balancer Controller reads a backend whose port is `use-annotation` from
            // the action annotation of that name (v3.5.0 pkg/ingress/enhanced_backend_builder.go);
            // a forward action's target groups name Services and ports.
            const annotations = o.metadata.annotations ?? {};
            for (const backend of [...backends]) {
              if (backend?.service?.port?.name !== "use-annotation") continue;
              backends.splice(backends.indexOf(backend), 1);
              const key = `alb.ingress.kubernetes.io/actions.${backend.service.name}`;
              const text = annotations[key];
              if (text === undefined) {
                add(
                  at,
                  `backend ${backend.service.name} uses annotation ${key}, which is not set`,
                  `set ${key} or point the backend at a Service`,
                );
                continue;
              }
              const action = JSON.parse(text) as {
                forwardConfig?: { targetGroups?: { serviceName?: string; servicePort?: number | string }[] };
              };
              for (const group of action.forwardConfig?.targetGroups ?? []) {
                if (!group.serviceName) continue;
                backends.push({
                  service: {
                    name: group.serviceName,
                    port:
                      typeof group.servicePort === "number"
                        ? { number: group.servicePort }
                        : { name: group.servicePort },
                  },
                });
              }
            }
            for (const backend of backends) {
              if (!backend?.service) continue;
              const service = named(state, "Service", ns, backend.service.name);
              if (!service) {
                add(
                  at,
                  `backend Service ${ns}/${backend.service.name} does not exist`,
                  "point the backend at a Service in the state",
                );
                continue;
              }
              const port = backend.service.port;
              const ports = servicePorts(service.object);
              if (port?.name && !ports.some((p) => p.name === port.name))
                add(
                  at,
                  `backend port "${port.name}" is not a port name of Service ${backend.service.name}`,
                  `use one of: ${ports.map((p) => p.name ?? p.port).join(", ")}`,
                );
              if (port?.number !== undefined && !ports.some((p) => p.port === port.number))
                add(
                  at,
                  `backend port ${port.number} is not a port of Service ${backend.service.name}`,
                  `use one of: ${ports.map((p) => p.port).join(", ")}`,
                );
            }
            break;
          }
          case "HorizontalPodAutoscaler": {
            const ref = spec.scaleTargetRef ?? {};
            if (!named(state, ref.kind, ns, ref.name))
              add(
                at,
                `scale target ${ref.kind} ${ns}/${ref.name} does not exist`,
                "point scaleTargetRef at a workload in the state",
              );
            break;
          }
          case "PodDisruptionBudget": {
            const pods = all.filter(
              (w) => w.namespace === ns && selects(spec.selector, w.labels) && w.minPods > 0,
            );
            if (pods.length === 0) {
              add(
                at,
                `selector ${JSON.stringify(spec.selector)} matches no running pods in ${ns}`,
                "make the selector match the workload it protects",
              );
              break;
            }
            const replicas = pods.reduce((n, w) => n + w.minPods, 0);
            const allowed =
              spec.maxUnavailable !== undefined
                ? percentOf(spec.maxUnavailable, replicas, true)
                : replicas - percentOf(spec.minAvailable ?? 1, replicas, true);
            if (
              allowed < 1 &&
              !releasedByOperator(
                o,
                state.objects.map((x) => x.object),
              )
            ) {
              add(
                at,
                `allows no eviction: ${spec.maxUnavailable !== undefined ? `maxUnavailable ${spec.maxUnavailable}` : `minAvailable ${spec.minAvailable}`} with ${replicas} replica(s), so node drains block`,
                `run at least ${replicas + 1} replicas or lower minAvailable to ${Math.max(replicas - 1, 0)} (or set maxUnavailable: 1)`,
              );
            }
            break;
          }
          default:
            break;
        }
      }

      const seenUse = new Set<string>();
      for (const w of all) {
        const ns = w.namespace;
        const need = (kind: OutOfBandObject["kind"], name: string, how: string, optional = false) => {
          if (optional || !name) return;
          const key = `${w.owner.source} ${kind} ${name} ${how}`;
          if (seenUse.has(key)) return;
          seenUse.add(key);
          if (named(state, kind, ns, name)) return;
          if (kind === "Secret" && secrets.has(`${ns}/${name}`)) return;
          if (declaredOutOfBand(outOfBand, kind, ns, name)) return;
          if (declaredOutOfBand(state.environment.outOfBand ?? [], kind, ns, name)) return;
          add(
            w.owner,
            `${how} ${kind} ${ns}/${name}, which nothing in the state creates`,
            `create the ${kind}, or declare it in scripts/verify/out-of-band.ts with who creates it`,
          );
        };
        const account = w.spec.serviceAccountName ?? w.spec.serviceAccount ?? "default";
        need("ServiceAccount", account, "runs as");
        for (const volume of w.spec.volumes ?? []) {
          if (volume.secret)
            need(
              "Secret",
              volume.secret.secretName,
              `mounts volume "${volume.name}" from`,
              volume.secret.optional === true,
            );
          if (volume.configMap)
            need(
              "ConfigMap",
              volume.configMap.name,
              `mounts volume "${volume.name}" from`,
              volume.configMap.optional === true,
            );
          for (const source of volume.projected?.sources ?? []) {
            if (source.secret)
              need(
                "Secret",
                source.secret.name,
                `projects into "${volume.name}"`,
                source.secret.optional === true,
              );
            if (source.configMap)
              need(
                "ConfigMap",
                source.configMap.name,
                `projects into "${volume.name}"`,
                source.configMap.optional === true,
              );
          }
        }
        for (const pull of w.spec.imagePullSecrets ?? []) need("Secret", pull.name, "pulls images with");
        for (const { container } of allContainers(w.spec)) {
          for (const env of container.env ?? []) {
            const from = env.valueFrom ?? {};
            if (from.secretKeyRef)
              need(
                "Secret",
                from.secretKeyRef.name,
                `reads env ${env.name} of "${container.name}" from`,
                from.secretKeyRef.optional === true,
              );
            if (from.configMapKeyRef)
              need(
                "ConfigMap",
                from.configMapKeyRef.name,
                `reads env ${env.name} of "${container.name}" from`,
                from.configMapKeyRef.optional === true,
              );
          }
          const bundle = caBundleFile(container);
          if (bundle) {
            const problem = unprovidedFile(state, ns, w.spec, container, bundle);
            if (problem)
              add(
                w.owner,
                `container "${container.name}" gets AWS_CA_BUNDLE=${bundle}, which ${problem}: the AWS SDK fails to load it and the container cannot reach the object store`,
                container.name === "agent"
                  ? `give the logger entry of kserve/inferenceservice-config "caBundle": the ConfigMap holding the file (KServe mounts it at ${KSERVE_LOGGER_CA_MOUNT_PATH}), and point the store Secret's serving.kserve.io/s3-cabundle at ${KSERVE_LOGGER_CA_MOUNT_PATH}/<key>`
                  : "mount the CA bundle at that path, or point AWS_CA_BUNDLE at the file a volume provides",
              );
          }
          for (const source of container.envFrom ?? []) {
            if (source.secretRef)
              need(
                "Secret",
                source.secretRef.name,
                `loads the environment of "${container.name}" from`,
                source.secretRef.optional === true,
              );
            if (source.configMapRef)
              need(
                "ConfigMap",
                source.configMapRef.name,
                `loads the environment of "${container.name}" from`,
                source.configMapRef.optional === true,
              );
          }
        }
      }
      return findings;
    },
  };
}
