/**
 * Readers of the model registration Job in a synthesized serving stack, shared by the in-process
 * tests of the Job and the ones that run its script.
 */
import { resourcesOf, type TerraformJson } from "./synth";

/** The stack's one registration Job. */
export const jobOf = (json: TerraformJson): any => {
  const jobs = Object.values(resourcesOf(json, "kubernetes_job_v1"));
  expect(jobs).toHaveLength(1);
  return jobs[0];
};
/** The Job's container. */
export const containerOf = (json: TerraformJson): any => jobOf(json).spec.template.spec.container[0];
/** The Job container's environment, by name. */
export const envOf = (json: TerraformJson): Record<string, string> =>
  Object.fromEntries(containerOf(json).env.map((e: any) => [e.name, e.value]));
/** The Python script the Job runs (`python3 -c <script>`). */
export const scriptOf = (json: TerraformJson): string => containerOf(json).command[2];
