/**
 * Where the pinned upstream sources are: a folder holding `charts/<chart>-<version>`, `crds/` and
 * `kubeflow-pipelines-<version>/`. `MLOPS_UPSTREAM_DIR` names it; without it, the folder of that
 * shape kept beside the project checkout (where CI keeps it) is used when present. The project
 * never needs it to install, synthesize or test; verify and the rendering tests read it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./tools";

/** The upstream folder, or undefined when neither `MLOPS_UPSTREAM_DIR` nor the folder beside the project has charts. */
export function upstreamDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return [env.MLOPS_UPSTREAM_DIR || undefined, join(PROJECT_ROOT, "..", "shared", "upstream")].find(
    (dir): dir is string => dir !== undefined && existsSync(join(dir, "charts")),
  );
}
