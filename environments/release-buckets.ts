/**
 * A release names paths inside the environment's buckets (`artifactPath`, `referenceData`,
 * `groundTruth`); the platform puts `s3://<bucket>/` in front of each. A path that starts with one
 * of the environment's own bucket names was written as `<bucket>/<key>` and would be read from
 * `s3://<bucket>/<bucket>/<key>`, where nothing is. Only the environment knows its bucket names,
 * so this is checked where release and environment meet (synthesis, promote, rollback).
 */
import { isOnPrem, type AnyEnvironment } from "./targets";
import type { ReleaseContent } from "./release-schema";

/** The environment's buckets, with the field that names each. */
function bucketsOf(environment: AnyEnvironment): { field: string; bucket: string }[] {
  return (["artifactsBucket", "dataBucket"] as const).map((field) =>
    isOnPrem(environment)
      ? { field: `objectStore.${field}`, bucket: environment.objectStore[field] }
      : { field: `storage.${field}`, bucket: environment.storage[field] },
  );
}

/**
 * One line per path of `release` (at `entry`, e.g. `current` or `history[2]`, of `releaseFile`)
 * whose first segment is one of `environment`'s bucket names.
 */
export function releaseBucketPathProblems(
  environment: AnyEnvironment,
  release: Pick<ReleaseContent, "models">,
  releaseFile: string,
  entry = "current",
): string[] {
  const buckets = bucketsOf(environment);
  return release.models.flatMap((model, index) => {
    const paths: [string, string | undefined][] = [
      ["artifactPath", model.artifactPath],
      ["canary.artifactPath", model.canary?.artifactPath],
      ["monitoring.referenceData", model.monitoring.referenceData],
      ["monitoring.groundTruth", model.monitoring.groundTruth],
    ];
    return paths.flatMap(([field, path]) => {
      if (path === undefined) return [];
      const [first, ...rest] = path.split("/");
      const named = buckets.find(({ bucket }) => bucket === first);
      if (named === undefined) return [];
      return [
        `${releaseFile}: ${entry}.models[${index}].${field} = ${JSON.stringify(path)}: starts with ${JSON.stringify(first)}, ${environment.name}'s bucket (${named.field}), which the platform already puts in front (it would read s3://${first}/${path}); fix: drop the bucket name and write ${JSON.stringify(rest.join("/"))}`,
      ];
    });
  });
}
