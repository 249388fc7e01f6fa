/**
 * What every environment schema shares: the message form `<rule>; fix: <remedy>` (the loader
 * adds environment, field and value), whole numbers, Kubernetes names and quantities, the
 * environment's name and protection level.
 */
import { z } from "zod";

export const NAME = /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/;
export const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** Stands for a value that was not given, in issues raised after parsing. */
export const MISSING = Symbol("missing");

export const fix = (rule: string, remedy: string): string => `${rule}; fix: ${remedy}`;

export const wholeNumber = (field: string, min: number, max: number, remedy: string) =>
  z
    .number({ error: fix("must be a number", remedy) })
    .int({ error: fix(`${field} must be a whole number`, remedy) })
    .min(min, { error: fix(`must be between ${min} and ${max}`, remedy) })
    .max(max, { error: fix(`must be between ${min} and ${max}`, remedy) });

export const retentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
export const logRetention = z
  .number()
  .refine((n) => retentionDays.includes(n), {
    error: fix(`must be a CloudWatch Logs retention period (${retentionDays.join(", ")})`, "pick 90 or 365"),
  })
  .default(90);

/** Environment name; stacks are named `<name>-platform` etc. */
export const environmentNameSchema = z
  .string()
  .regex(NAME, {
    error: fix(
      "must be 3 to 24 lower-case letters, digits or hyphens, starting with a letter and ending with a letter or digit",
      "use a name like dev or staging",
    ),
  })
  .refine((name) => !name.includes("--"), {
    error: fix(
      "must not hold two hyphens in a row: RDS refuses them in the database identifier mlops-<name>-mlflow",
      "use single hyphens, e.g. ml-dev",
    ),
  });

/**
 * `protected`: nothing stateful can be destroyed by Terraform (prod).
 * `disposable`: everything can be torn down, data included (dev).
 */
export const protectionSchema = z.enum(["protected", "disposable"], {
  error: fix("must be protected or disposable", "use protected for environments holding data you keep"),
});

/**
 * What a value looks like when a credential was pasted where the name of the place holding it
 * belongs (a Secret's name, a Secrets Manager secret's name), or undefined.
 */
export function credentialShape(text: string): string | undefined {
  if (/^(AKIA|ASIA)[A-Z0-9]{16}$/.test(text)) return "an AWS access key id";
  if (/hooks\.slack\.com\/|^T[A-Z0-9]{8,}\/B[A-Z0-9]{8,}\/[A-Za-z0-9]{20,}$/.test(text))
    return "a Slack incoming-webhook URL";
  if (/^xox[abposr]-/.test(text)) return "a Slack token";
  if (/^(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}$/.test(text)) return "a GitHub token";
  if (/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./.test(text)) return "a signed token (JWT)";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return "a URL";
  if (/^[A-Za-z0-9]{32}$/.test(text) && /\d/.test(text) && /[A-Za-z]/.test(text))
    return "a PagerDuty integration (routing) key";
  if (/^[A-Za-z0-9+/]{40}$/.test(text) && /\d/.test(text) && /[A-Za-z]/.test(text))
    return "a secret access key";
  return undefined;
}

/** Kubernetes' limit on a label or taint key's prefix (a DNS subdomain). */
export const LABEL_KEY_PREFIX_MAX = 253;

/** Why a key that matches the label key pattern still breaks Kubernetes' length limits. */
export function labelKeyLengthProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  if (slash > LABEL_KEY_PREFIX_MAX)
    return `has a prefix of ${slash} characters; Kubernetes allows at most ${LABEL_KEY_PREFIX_MAX} (a DNS subdomain) before the /`;
  // A DNS subdomain is also at most 63 characters between dots (RFC 1123, as the API server checks it).
  const long =
    slash > 0
      ? key
          .slice(0, slash)
          .split(".")
          .find((label) => label.length > 63)
      : undefined;
  if (long !== undefined)
    return `has a prefix part of ${long.length} characters ("${long.slice(0, 12)}..."); Kubernetes allows at most 63 between the dots of the prefix (a DNS subdomain)`;
  return undefined;
}
