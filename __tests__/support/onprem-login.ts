/**
 * The registry's on-prem environments as the login tests read them: the synthesized stacks and
 * the Helm values each platform release passes.
 */
import { parse } from "yaml";
import {
  resourcesOf,
  synthesizeOnPremEnvironments,
  type SynthesizedOnPremEnvironment,
  type TerraformJson,
} from "./synth";

export const synthesized: Record<string, SynthesizedOnPremEnvironment> = synthesizeOnPremEnvironments();
export const names = Object.keys(synthesized);

/** The helm_release named `name`. */
export const releaseOf = (json: TerraformJson, name: string): any => {
  const found = Object.values<any>(resourcesOf(json, "helm_release")).find((r) => r.name === name);
  if (!found) throw new Error(`no helm_release ${name}`);
  return found;
};
/** The values of the helm_release named `name`, its YAML layers merged at the top level. */
export const valuesOf = (json: TerraformJson, name: string): any =>
  Object.assign({}, ...releaseOf(json, name).values.map((text: string) => parse(text)));
/** The synthesized platform stack of an environment. */
export const platformOf = (name: string): TerraformJson => synthesized[name].platform.json;
