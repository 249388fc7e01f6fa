import { Construct } from "constructs";
import { CronJobV1 } from "@cdktf/provider-kubernetes/lib/cron-job-v1";
import {
  RESTRICTED_CONTAINER_SECURITY,
  RESTRICTED_POD_SECURITY,
  type ContainerResources,
} from "../lib/workload-defaults";
import type { NodePlacement } from "../platform/cluster-target";
import { providerPlacement, type ObjectStoreAccess } from "./object-store-access";
import { pullSecrets } from "../platform/image-mirror";

export interface ScheduledJobSpec {
  readonly name: string;
  /** Labels of the CronJob, its Jobs and pods. @default `app.kubernetes.io/name: <name>` */
  readonly labels?: Readonly<Record<string, string>>;
  /** Cron expression, evaluated in UTC. */
  readonly schedule: string;
  readonly image: string;
  readonly args: string[];
  readonly serviceAccountName: string;
  readonly env: Record<string, string>;
  /** Secret whose keys become environment variables (MLflow client credentials). */
  readonly envFromSecret?: string;
  /** Node selector and tolerations of the nodes the job runs on (the target's). */
  readonly placement: NodePlacement;
  /** Existing image pull Secret of the registry the image is in; unset: none needed. */
  readonly imagePullSecret?: string;
  /** Object store endpoint, keys and CA bundle. @default none (workload identity) */
  readonly objectStore?: ObjectStoreAccess;
  /** Seconds before a run is stopped. */
  readonly deadlineSeconds: number;
  readonly resources: ContainerResources;
}

export interface ScheduledJobsProps {
  readonly namespace: string;
  readonly jobs: readonly ScheduledJobSpec[];
}

const CRON = /^(\S+\s+){4}\S+$/;

/**
 * CronJobs that never overlap (Forbid), retry a bounded number of times, keep a short history,
 * give up after a deadline and run restricted, each with its own workload identity.
 */
export class ScheduledJobs extends Construct {
  public readonly cronJobs: CronJobV1[] = [];

  constructor(scope: Construct, id: string, props: ScheduledJobsProps) {
    super(scope, id);
    for (const job of props.jobs) {
      const store = job.objectStore ?? { env: [], mounts: [] };
      if (!CRON.test(job.schedule)) {
        throw new Error(
          `ScheduledJobs ${job.name}: schedule "${job.schedule}" must be a five-field cron expression such as "0 3 1 * *"`,
        );
      }
      if (!Number.isInteger(job.deadlineSeconds) || job.deadlineSeconds < 60) {
        throw new Error(
          `ScheduledJobs ${job.name}: deadlineSeconds (${job.deadlineSeconds}) must be a whole number >= 60`,
        );
      }
      const labels = { ...(job.labels ?? { "app.kubernetes.io/name": job.name }) };
      this.cronJobs.push(
        new CronJobV1(this, job.name, {
          metadata: {
            name: job.name,
            namespace: props.namespace,
            labels: { ...labels },
          },
          spec: {
            schedule: job.schedule,
            timezone: "Etc/UTC",
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels: { ...labels } },
              spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: job.deadlineSeconds,
                ttlSecondsAfterFinished: "604800",
                template: {
                  metadata: { labels: { ...labels } },
                  spec: {
                    restartPolicy: "Never",
                    serviceAccountName: job.serviceAccountName,
                    securityContext: RESTRICTED_POD_SECURITY,
                    imagePullSecrets: pullSecrets(job.imagePullSecret),
                    ...providerPlacement(job.placement),
                    container: [
                      {
                        name: job.name,
                        image: job.image,
                        args: job.args.length > 0 ? job.args : undefined,
                        env: [
                          ...Object.entries(job.env).map(([name, value]) => ({ name, value })),
                          ...store.env.map((variable) => ({ ...variable })),
                        ],
                        envFrom: job.envFromSecret ? [{ secretRef: { name: job.envFromSecret } }] : undefined,
                        resources: {
                          requests: { ...job.resources.requests },
                          limits: { ...job.resources.limits },
                        },
                        securityContext: RESTRICTED_CONTAINER_SECURITY,
                        volumeMount: [
                          { name: "tmp", mountPath: "/tmp" },
                          ...store.mounts.map(({ mount }) => ({ ...mount })),
                        ],
                      },
                    ],
                    volume: [
                      { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
                      ...store.mounts.map(({ volume }) => structuredClone(volume)),
                    ],
                  },
                },
              },
            },
          },
        }),
      );
    }
  }
}
