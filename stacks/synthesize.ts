import { App } from "cdktf";
import { loadEnvironments } from "../environments/load";
import { addEnvironmentStacks } from "./app";

export interface SynthesisOptions {
  /** Where stacks are written. @default cdktf's own (`cdktf.out`, or the CLI's choice) */
  readonly outdir?: string;
}

export type SynthesisResult =
  | { readonly ok: true; readonly stacks: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Validates every environment, then synthesizes all their stacks. On any problem nothing is
 * built and nothing is written.
 */
export function synthesizeAll(inputs: readonly unknown[], options: SynthesisOptions = {}): SynthesisResult {
  const loaded = loadEnvironments(inputs);
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const app = new App(options.outdir !== undefined ? { outdir: options.outdir } : {});
  const stacks = addEnvironmentStacks(app, loaded.environments).flatMap((set) =>
    Object.values(set).map((stack) => stack.node.id),
  );
  app.synth();
  return { ok: true, stacks };
}

/** The message printed when validation fails. */
export function describeProblems(problems: readonly string[]): string {
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return `Environment configuration is invalid (${count}); nothing was synthesized:\n${problems.map((p) => `  - ${p}\n`).join("")}`;
}
