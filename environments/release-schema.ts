/**
 * What an environment runs: the release file `environments/releases/<env>.json`, written by
 * the promotion command and read by the stacks.
 */
import { z } from "zod";
import { PLATFORM_CHART_NAMES, type PlatformChart } from "../constructs/platform/charts";

const fix = (rule: string, remedy: string): string => `${rule}; fix: ${remedy}`;

const chartVersion = z
  .string({ error: fix("must be a chart version string", 'quote it, e.g. "1.2.3"') })
  .regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, {
    error: fix(
      "must be an exact chart version such as 1.2.3 (no ranges, no latest)",
      "pin the version you tested",
    ),
  });

const charts = z.strictObject(
  Object.fromEntries(PLATFORM_CHART_NAMES.map((name) => [name, chartVersion])) as Record<
    PlatformChart,
    typeof chartVersion
  >,
);

export const releaseContentSchema = z.strictObject({
  /** Exact version of every platform chart. */
  charts,
  /** Kubeflow Pipelines release (a tag of the upstream manifests), e.g. `2.14.3`. */
  kubeflowPipelines: z.string().regex(/^\d+\.\d+\.\d+$/, {
    error: fix(
      "must be a Kubeflow Pipelines release such as 2.14.3",
      "use a tag of github.com/kubeflow/pipelines",
    ),
  }),
});

export const releaseFileSchema = z.strictObject({
  current: releaseContentSchema,
  /** Earlier releases, oldest first. */
  history: z
    .array(
      releaseContentSchema.extend({
        /** When it was promoted into this environment (ISO 8601, UTC). */
        promotedAt: z.iso.datetime({
          error: fix("must be an ISO 8601 UTC time", "use e.g. 2026-01-31T12:00:00Z"),
        }),
        /** The environment it came from; absent for a first release. */
        promotedFrom: z.string().optional(),
      }),
    )
    .default([]),
});

export type ReleaseContent = z.output<typeof releaseContentSchema>;
export type ReleaseFile = z.output<typeof releaseFileSchema>;
