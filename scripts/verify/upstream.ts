/**
 * Where the pinned upstream sources are: a folder holding `charts/<chart>-<version>`, `crds/` and
 * `kubeflow-pipelines-<version>/`. `MLOPS_UPSTREAM_DIR` names it; without it, `.upstream/` in the
 * project, which `npm run fetch-sources` fills, is used when present. The project never needs it
 * to install, synthesize or test; verify and the rendering tests read it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./tools";

/** Where `npm run fetch-sources` puts the sources (upstream-sources.json's `folder`). */
export const DEFAULT_UPSTREAM_DIR = join(PROJECT_ROOT, ".upstream");

/** The upstream folder, or undefined when neither `MLOPS_UPSTREAM_DIR` nor `.upstream/` has charts. */
export function upstreamDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return [env.MLOPS_UPSTREAM_DIR || undefined, DEFAULT_UPSTREAM_DIR].find(
    (dir): dir is string => dir !== undefined && existsSync(join(dir, "charts")),
  );
}
