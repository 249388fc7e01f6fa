import { App } from "cdktf";
import { loadEnvironments } from "../environments/load";
import { loadRelease, RELEASES_DIRECTORY } from "../environments/releases";
import { addEnvironmentStacks, type EnvironmentBuild } from "./app";

export interface SynthesisOptions {
  /** Where stacks are written. @default cdktf's own (`cdktf.out`, or the CLI's choice) */
  readonly outdir?: string;
  /** Where the release files are. @default environments/releases */
  readonly releasesDirectory?: string;
}

export type SynthesisResult =
  | { readonly ok: true; readonly stacks: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Validates every environment, then synthesizes all their stacks. On any problem nothing is
 * built and nothing is written.
 */
export function synthesizeAll(inputs: readonly unknown[], options: SynthesisOptions = {}): SynthesisResult {
  const loaded = loadBuilds(inputs, options.releasesDirectory);
  if (!loaded.ok) return loaded;
  const app = new App(options.outdir !== undefined ? { outdir: options.outdir } : {});
  const stacks = addEnvironmentStacks(app, loaded.builds).flatMap((set) =>
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

/** Validates the environments and reads each one's release file; every problem is reported. */
export function loadBuilds(
  inputs: readonly unknown[],
  releasesDirectory = RELEASES_DIRECTORY,
):
  | { readonly ok: true; readonly builds: EnvironmentBuild[] }
  | { readonly ok: false; readonly problems: readonly string[] } {
  const loaded = loadEnvironments(inputs);
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const problems: string[] = [];
  const builds: EnvironmentBuild[] = [];
  for (const environment of loaded.environments) {
    const release = loadRelease(environment.name, releasesDirectory);
    if (release.ok) builds.push({ environment, release: release.release.current });
    else problems.push(...release.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, builds };
}
