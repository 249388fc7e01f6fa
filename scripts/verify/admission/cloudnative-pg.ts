/**
 * CloudNativePG 1.30.0's validating webhooks (chart cloudnative-pg 0.29.0, failurePolicy Fail)
 * for the kinds the platform creates: Cluster (internal/webhook/v1/cluster_webhook.go, validate:
 * validateImageName, validateImagePullPolicy, validateResources, validatePrimaryUpdateStrategy,
 * validateStorageSize / validateStorageConfigurationSize, validateEnv, validateRetentionPolicy)
 * and ScheduledBackup (scheduledbackup_webhook.go, validate).
 */
import type { Decoded } from "../convert";
import { parseQuantity } from "../quantity";
import type { AdmissionCheck, Refusal } from "./types";

const COMPONENT = "CloudNativePG 1.30.0";

/** postgres.IsReservedEnvironmentVariable (pkg/postgres/environment.go). */
function reserved(name: string): boolean {
  const n = name.toUpperCase();
  return n.startsWith("CNPG_") || n.startsWith("PG") || n === "POD_NAME";
}

export const clusterAdmission: AdmissionCheck = {
  group: "postgresql.cnpg.io",
  resource: "clusters",
  kind: "Cluster",
  component: COMPONENT,
  check(object) {
    const spec = (object.spec ?? {}) as Record<string, Decoded>;
    const out: Refusal[] = [];
    const image: string = spec.imageName ?? "";
    if (image) {
      const tag = /@/.test(image) ? "" : (/:([^/:]+)$/.exec(image)?.[1] ?? "latest");
      if (tag === "latest")
        out.push({
          field: "spec.imageName",
          message: `"${image}": can't use 'latest' as image tag`,
          fix: "pin a PostgreSQL version tag",
        });
      else if (tag === "")
        out.push({
          field: "spec.imageName",
          message: `"${image}": can't use just the image sha`,
          fix: "use a version tag (a digest may follow it)",
        });
      else if (!/^\d+(\.\d+)*/.test(tag))
        out.push({
          field: "spec.imageName",
          message: `"${image}": invalid version tag`,
          fix: "use a tag starting with the PostgreSQL version, e.g. 17.6",
        });
    }
    const pull = spec.imagePullPolicy;
    if (pull && !["Always", "Never", "IfNotPresent"].includes(pull))
      out.push({
        field: "spec.imagePullPolicy",
        message: `"${pull}" is invalid`,
        fix: "use Always, Never or IfNotPresent",
      });
    for (const resource of ["cpu", "memory"]) {
      const request = spec.resources?.requests?.[resource];
      const limit = spec.resources?.limits?.[resource];
      if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit))
        out.push({
          field: `spec.resources.requests.${resource}`,
          message: `${request} is greater than the limit ${limit}`,
          fix: `request at most ${limit}`,
        });
    }
    const strategy = spec.primaryUpdateStrategy;
    if (strategy && !["supervised", "unsupervised"].includes(strategy))
      out.push({
        field: "spec.primaryUpdateStrategy",
        message: `"${strategy}" should be empty, 'supervised' or 'unsupervised'`,
        fix: "use unsupervised",
      });
    else if (strategy === "supervised" && (spec.instances ?? 1) === 1)
      out.push({
        field: "spec.primaryUpdateStrategy",
        message: "supervised update strategy is not allowed for clusters with a single instance",
        fix: "use unsupervised, or run more instances",
      });
    const storage = (spec.storage ?? {}) as {
      size?: string;
      pvcTemplate?: { resources?: { requests?: { storage?: string } } };
    };
    if (!storage.size && !storage.pvcTemplate?.resources?.requests?.storage)
      out.push({
        field: "spec.storage.size",
        message: "Size not configured",
        fix: "set storage.size or a storage request in the pvcTemplate",
      });
    ((spec.env ?? []) as { name: string }[]).forEach((e, i) => {
      if (reserved(e.name))
        out.push({
          field: `spec.env[${i}].name`,
          message: `${e.name}: the usage of this environment variable is reserved for the operator`,
          fix: "rename it (CNPG_*, PG* and POD_NAME are reserved)",
        });
    });
    // barman-cloud ValidateRetentionPolicy: ^[1-9][0-9]*[dwm]$
    const retention = spec.backup?.retentionPolicy;
    if (retention !== undefined && !/^[1-9][0-9]*[dwm]$/.test(retention))
      out.push({
        field: "spec.backup.retentionPolicy",
        message: `"${retention}" is not <n>d, <n>w or <n>m`,
        fix: "use e.g. 14d",
      });
    return out;
  },
};

/** A robfig/cron field list as cron.Parse takes it (optional seconds field, six fields). */
function cronProblem(schedule: string): string | undefined {
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every \S+)$/.test(schedule)) return undefined;
  const fields = schedule.trim().split(/\s+/);
  // robfig/cron v1.2.0's default parser: seconds first, day of week optional.
  if (fields.length !== 5 && fields.length !== 6)
    return `expected 6 fields (seconds first), found ${fields.length}`;
  const ok = /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
  const bad = fields.find((f) => !ok.test(f));
  return bad ? `field "${bad}" does not parse` : undefined;
}

export const scheduledBackupAdmission: AdmissionCheck = {
  group: "postgresql.cnpg.io",
  resource: "scheduledbackups",
  kind: "ScheduledBackup",
  component: COMPONENT,
  check(object) {
    const spec = (object.spec ?? {}) as Record<string, Decoded>;
    const out: Refusal[] = [];
    const problem = cronProblem(String(spec.schedule ?? ""));
    if (problem)
      out.push({
        field: "spec.schedule",
        message: `"${spec.schedule}": ${problem}`,
        fix: 'use a six-field schedule with seconds, e.g. "0 0 2 * * *"',
      });
    else if (String(spec.schedule).trim().split(/\s+/).length === 5)
      out.push({
        field: "spec.schedule",
        message: `"${spec.schedule}" has 5 fields, which the operator reads seconds first (the webhook admits it with a warning)`,
        fix: 'add the seconds field, e.g. "0 0 2 * * *" for 02:00 daily',
        severity: "warning",
      });
    if ((spec.method ?? "barmanObjectStore") === "barmanObjectStore") {
      for (const key of ["online", "onlineConfiguration"])
        if (spec[key] !== undefined)
          out.push({
            field: `spec.${key}`,
            message: "can be specified only if the method is volumeSnapshot",
            fix: `remove spec.${key}`,
          });
    }
    return out;
  },
};
