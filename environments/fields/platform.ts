/**
 * Platform settings every target shares (domain, exposure, quotas, monitoring, pipelines), the
 * AWS platform section and the serving Deployment.
 */
import { z } from "zod";
import { fix, HOSTNAME, QUANTITY, wholeNumber } from "./common";
import { awsAlertingSchema } from "./alerting";

export const ACM_CERTIFICATE_ARN =
  /^arn:(aws(-[a-z]+)*):acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f-]{36}$/;

/** Refuses a quota of zero, whatever its suffix (0, 0m, 0Gi). */
const nonZeroQuota = (remedy: string) => (text: string, ctx: z.RefinementCtx<string>) => {
  const number = QUANTITY.test(text) ? Number(/^\d+(\.\d+)?/.exec(text)?.[0]) : NaN;
  if (number === 0)
    ctx.addIssue({
      code: "custom",
      input: text,
      message: fix(
        "is zero: the namespace's ResourceQuota would admit no pod that requests it, the platform's own included",
        `${remedy}; to keep workloads out, remove them rather than the quota`,
      ),
    });
};

/** Kubeflow Pipelines settings every target shares (on-prem adds how Argo CD reaches its mirror). */
export const pipelinesShape = {
  /** Git repository of the Kubeflow Pipelines manifests (a mirror on-prem). @default upstream on GitHub */
  manifestsRepository: z
    .string()
    .regex(/^https:\/\/\S+$/, {
      error: (issue) =>
        typeof issue.input === "string" && /^(git@|ssh:\/\/)/.test(issue.input)
          ? fix(
              "is an SSH clone URL; Argo CD reads the manifests over https, with no key configured for them",
              `use the repository's https:// URL, e.g. https://${/^(?:ssh:\/\/)?git@([^:/]+)[:/](.*)$/.exec(issue.input)?.slice(1).join("/") ?? "github.com/kubeflow/pipelines.git"}`,
            )
          : fix(
              "must be an https:// Git URL",
              "use https://github.com/kubeflow/pipelines.git or your mirror",
            ),
    })
    .superRefine((text, ctx) => {
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        return;
      }
      if (url.protocol === "https:" && (url.username !== "" || url.password !== ""))
        ctx.addIssue({
          code: "custom",
          input: text,
          message: fix(
            "carries a user or token in the URL, which would sit in the Argo CD Application, the Helm values and the Terraform state",
            `use https://${url.host}${url.pathname}; a private mirror's credential goes in an Argo CD repository Secret made by hand`,
          ),
        });
    })
    .default("https://github.com/kubeflow/pipelines.git"),
};

/** Platform settings every target shares (AWS adds its certificate and alert receivers). */
export const platformShape = {
  /** Replicas, PodDisruptionBudgets and anti-affinity for every component that supports them. */
  highAvailability: z.boolean({ error: fix("must be true or false", "use true for production") }),
  /** DNS zone of the UIs: mlflow.<domain>, pipelines.<domain>, argocd.<domain>, grafana.<domain>. */
  domain: z
    .string()
    .refine((domain) => domain === domain.toLowerCase(), {
      error: (issue) =>
        fix(
          "must be lower case: the UIs' Ingress hosts and certificates are named after it, and the API server takes only lower-case host names (DNS-1123)",
          `write ${JSON.stringify(String(issue.input).toLowerCase())} (DNS does not tell the cases apart)`,
        ),
      abort: true,
    })
    .regex(HOSTNAME, {
      error: fix("must be a DNS name such as mlops.dev.example.com", "use a zone you can publish records in"),
    }),
  /** Whether the UIs' load balancer is reachable from the internet. @default "internal" */
  exposure: z
    .enum(["internal", "public"], {
      error: fix("must be internal or public", "use internal unless users come from the internet"),
    })
    .default("internal"),
  /**
   * Quota of every platform namespace: CPU requests (the platform sets no CPU limits), memory
   * requests and limits, GPU requests. `npm run verify` checks each namespace's worst case.
   */
  namespaceQuota: z
    .strictObject({
      /** CPU requests. @default "16" */
      cpu: z
        .string()
        .regex(QUANTITY, { error: fix("must be a Kubernetes quantity", "use e.g. 16 or 4500m") })
        .superRefine(nonZeroQuota("use e.g. 16 or 4500m"))
        .default("16"),
      /** @default "64Gi" */
      memory: z
        .string()
        .regex(QUANTITY, { error: fix("must be a Kubernetes quantity", "use e.g. 64Gi") })
        .superRefine(nonZeroQuota("use e.g. 64Gi"))
        .default("64Gi"),
      /** @default 4 */
      gpus: wholeNumber("gpus", 0, 64, "cap GPU requests per namespace (4 is the default)").default(4),
    })
    .prefault({}),
  monitoring: z
    .strictObject({
      /** Days Prometheus keeps samples. @default 15 */
      retentionDays: wholeNumber("retentionDays", 1, 365, "keep 1 to 365 days").default(15),
      /** Prometheus volume size. @default 50 */
      storageGib: wholeNumber("storageGib", 10, 16384, "give Prometheus 10 GiB or more").default(50),
    })
    .prefault({}),
  pipelines: z.strictObject(pipelinesShape).prefault({}),
};

export const awsPlatformSchema = z.strictObject({
  ...platformShape,
  /**
   * ACM certificate for the UIs' host names (`*.<domain>`): HTTPS on 443, HTTP redirected.
   * @default none - plain HTTP on 80 (protected environments must set it)
   */
  tlsCertificateArn: z
    .string()
    .regex(ACM_CERTIFICATE_ARN, {
      error: fix("must be an ACM certificate ARN", "use arn:aws:acm:<region>:<account>:certificate/<id>"),
    })
    .optional(),
  /** Where Alertmanager sends alerts. @default no receivers (alerts are only visible in Alertmanager) */
  alerting: awsAlertingSchema,
});

/** The serving Deployment of the serving stack. */
export const servingSchema = z
  .strictObject({
    /** Replicas (and the HPA's floor). @default 2 */
    replicas: wholeNumber(
      "replicas",
      2,
      50,
      "run 2 or more replicas so a node loss or rollout keeps serving up",
    ).default(2),
    /** HPA ceiling. @default 3 x replicas */
    maxReplicas: wholeNumber(
      "maxReplicas",
      2,
      200,
      "allow the HPA at least as many replicas as the floor",
    ).optional(),
    /** Whether the serving NLB is reachable from the internet. @default "internal" */
    exposure: z
      .enum(["internal", "public"], {
        error: fix("must be internal or public", "use internal unless clients come from the internet"),
      })
      .default("internal"),
  })
  .prefault({});
