/**
 * The stacks a pull-request diff plans without refresh: each AWS environment's platform and
 * serving stacks (docs/delivery.md, "Pull-request diffs of deployed environments").
 */
import type { SynthesizedEnvironment, TerraformJson } from "./synth";

export function plannedWithoutRefresh(
  environments: Record<string, SynthesizedEnvironment>,
): [stack: string, json: TerraformJson][] {
  return Object.entries(environments).flatMap(([name, environment]) => [
    [`${name}-platform`, environment.platform.json],
    [`${name}-serving`, environment.serving.json],
  ]);
}
