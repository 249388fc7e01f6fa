/**
 * pod-security: every pod template against its namespace's Pod Security Admission `enforce`
 * level, with the baseline and restricted controls of the Pod Security Standards.
 */
import type { Finding } from "../finding";
import { allContainers, workloads, type PodSpec } from "../workloads";
import { findingFor, type Rule } from "./rule";

export type Level = "privileged" | "baseline" | "restricted";

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const RESTRICTED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);
const SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

export interface Violation {
  readonly message: string;
  readonly fix: string;
}

/** Violations of a pod spec at a level (none at privileged). */
export function podSecurityViolations(spec: PodSpec, level: Level): Violation[] {
  if (level === "privileged") return [];
  const out: Violation[] = [];
  const pod = spec.securityContext ?? {};
  for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (spec[field] === true)
      out.push({
        message: `${field} is true`,
        fix: `remove ${field} or run the pod in a privileged namespace`,
      });
  }
  if (pod.windowsOptions?.hostProcess === true)
    out.push({ message: "securityContext.windowsOptions.hostProcess is true", fix: "remove hostProcess" });
  for (const volume of spec.volumes ?? []) {
    if (volume.hostPath)
      out.push({
        message: `volume "${volume.name}" is a hostPath`,
        fix: "use an emptyDir, configMap, secret or PVC volume",
      });
  }
  for (const sysctl of (pod.sysctls ?? []) as { name: string }[]) {
    if (!SAFE_SYSCTLS.has(sysctl.name))
      out.push({ message: `sysctl ${sysctl.name} is not in the safe set`, fix: "remove the sysctl" });
  }
  if (pod.seccompProfile?.type === "Unconfined")
    out.push({ message: "pod seccompProfile is Unconfined", fix: "use RuntimeDefault" });
  if (!SELINUX_TYPES.has(pod.seLinuxOptions?.type ?? ""))
    out.push({
      message: `pod seLinuxOptions.type ${pod.seLinuxOptions.type} is not allowed`,
      fix: "drop the SELinux type",
    });
  if (pod.appArmorProfile?.type === "Unconfined")
    out.push({ message: "pod appArmorProfile is Unconfined", fix: "use RuntimeDefault" });

  for (const { container, kind } of allContainers(spec)) {
    const where = `${kind} "${container.name}"`;
    const sc = container.securityContext ?? {};
    if (sc.privileged === true)
      out.push({ message: `${where} is privileged`, fix: "set securityContext.privileged: false" });
    if (sc.windowsOptions?.hostProcess === true)
      out.push({ message: `${where} sets hostProcess`, fix: "remove hostProcess" });
    for (const cap of (sc.capabilities?.add ?? []) as string[]) {
      const allowed = level === "restricted" ? cap === "NET_BIND_SERVICE" : BASELINE_CAPABILITIES.has(cap);
      if (!allowed)
        out.push({
          message: `${where} adds capability ${cap}`,
          fix: `remove ${cap} from securityContext.capabilities.add`,
        });
    }
    for (const port of container.ports ?? []) {
      const hostPort = (port as { hostPort?: number }).hostPort;
      if (hostPort)
        out.push({
          message: `${where} uses hostPort ${hostPort}`,
          fix: "remove hostPort; expose the port through a Service",
        });
    }
    if (sc.seccompProfile?.type === "Unconfined")
      out.push({ message: `${where} seccompProfile is Unconfined`, fix: "use RuntimeDefault" });
    if (sc.appArmorProfile?.type === "Unconfined")
      out.push({ message: `${where} appArmorProfile is Unconfined`, fix: "use RuntimeDefault" });
    if (!SELINUX_TYPES.has(sc.seLinuxOptions?.type ?? ""))
      out.push({ message: `${where} seLinuxOptions.type is not allowed`, fix: "drop the SELinux type" });
    if (sc.procMount && sc.procMount !== "Default")
      out.push({ message: `${where} procMount is ${sc.procMount}`, fix: "use the Default procMount" });
    if (level !== "restricted") continue;
    if (sc.allowPrivilegeEscalation !== false) {
      out.push({
        message: `${where} must set securityContext.allowPrivilegeEscalation=false`,
        fix: "set allowPrivilegeEscalation: false",
      });
    }
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) {
      out.push({
        message: `${where} must drop ALL capabilities`,
        fix: 'set securityContext.capabilities.drop: ["ALL"]',
      });
    }
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true)
      out.push({
        message: `${where} must set runAsNonRoot=true (container or pod)`,
        fix: "set securityContext.runAsNonRoot: true",
      });
    if (sc.runAsUser === 0 || (sc.runAsUser === undefined && pod.runAsUser === 0)) {
      out.push({ message: `${where} runs as user 0`, fix: "run as a non-zero user" });
    }
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      out.push({
        message: `${where} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (container or pod)`,
        fix: "set seccompProfile: {type: RuntimeDefault} on the pod",
      });
    }
  }
  if (level === "restricted") {
    for (const volume of spec.volumes ?? []) {
      const type = Object.keys(volume).find((k) => k !== "name");
      if (type && !RESTRICTED_VOLUMES.has(type))
        out.push({
          message: `volume "${volume.name}" has type ${type}, not allowed by restricted`,
          fix: "use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or PVC volumes",
        });
    }
  }
  return out;
}

export const podSecurityRule: Rule = {
  name: "pod-security",
  summary:
    "every pod template against its namespace's Pod Security Admission enforce level (baseline, restricted)",
  check(state) {
    const findings: Finding[] = [];
    const levels = new Map<string, Level>();
    for (const o of state.objects) {
      if (o.object.kind !== "Namespace") continue;
      const level = o.object.metadata.labels?.["pod-security.kubernetes.io/enforce"];
      if (level === "baseline" || level === "restricted" || level === "privileged")
        levels.set(o.object.metadata.name ?? "", level);
    }
    for (const w of workloads(state)) {
      const level = levels.get(w.namespace);
      if (!level) continue;
      for (const v of podSecurityViolations(w.spec, level)) {
        findings.push(
          findingFor(
            state,
            "pod-security",
            w.owner,
            `${v.message} (namespace ${w.namespace} enforces ${level})`,
            v.fix,
          ),
        );
      }
    }
    return findings;
  },
};
