/**
 * Where the pinned upstream sources are: a folder holding `charts/<chart>-<version>`, `crds/` and
 * `kubeflow-pipelines-<version>/`. `MLOPS_UPSTREAM_DIR` names it; without it, `.upstream/` in the
 * project, which `npm run fetch-sources` fills, then `upstream/` in the folder beside the
 * checkout's (where CI keeps its copy), whichever has charts first. The project never needs it to
 * install, synthesize or test; verify and the rendering tests read it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./tools";

/** Where `npm run fetch-sources` puts the sources (upstream-sources.json's `folder`). */
export const DEFAULT_UPSTREAM_DIR = join(PROJECT_ROOT, ".upstream");

/** A copy kept beside the checkout, as CI keeps one (`../shared/upstream`). */
export const SIBLING_UPSTREAM_DIR = join(PROJECT_ROOT, "..", "shared", "upstream");

/** The upstream folder, or undefined when none of the candidates has charts. */
export function upstreamDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return [env.MLOPS_UPSTREAM_DIR || undefined, DEFAULT_UPSTREAM_DIR, SIBLING_UPSTREAM_DIR].find(
    (dir): dir is string => dir !== undefined && existsSync(join(dir, "charts")),
  );
}
