/**
 * Lists the environments of the registry, validated, in promotion order.
 *
 *   npm run environments                                   # a table
 *   npm run --silent environments -- --json --deployed-by pipeline --target aws
 *
 * The workflows build their job matrices from the JSON form (one line, for $GITHUB_OUTPUT).
 */
import { deliveryEntries, type DeliveryEntry, type DeliveryFilter } from "../environments/delivery";
import { loadEnvironments } from "../environments/load";

export interface ListRun {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

const USAGE =
  "usage: npm run environments -- [--json] [--deployed-by pipeline|manual] [--target aws|rancher]";

function table(entries: readonly DeliveryEntry[]): string {
  const rows = entries.map((e) => [
    e.name,
    e.target,
    e.deployedBy,
    e.runsOn?.join(",") ?? "-",
    e.target === "rancher"
      ? "in the cluster"
      : e.foundationState
        ? `s3://${e.foundationState.bucket}`
        : "local",
  ]);
  const all = [["environment", "target", "deployed by", "runner", "state"], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return (
    all
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** Parses the arguments, validates the registry and prints the list; never throws for bad input. */
export function listEnvironments(args: readonly string[], inputs: readonly unknown[]): ListRun {
  let json = false;
  const filter: { deployedBy?: DeliveryFilter["deployedBy"]; target?: DeliveryFilter["target"] } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if (arg === "--json") json = true;
    else if (arg === "--deployed-by" && (value === "pipeline" || value === "manual")) {
      filter.deployedBy = value;
      i++;
    } else if (arg === "--target" && (value === "aws" || value === "rancher")) {
      filter.target = value;
      i++;
    } else
      return {
        exitCode: 1,
        stdout: "",
        stderr: `${arg} ${value ?? ""}`.trim() + `: not an option this command takes; fix: ${USAGE}\n`,
      };
  }
  const loaded = loadEnvironments(inputs);
  if (!loaded.ok)
    return {
      exitCode: 1,
      stdout: "",
      stderr: `The environment registry is invalid:\n${loaded.problems.map((p) => `  - ${p}\n`).join("")}`,
    };
  const entries = deliveryEntries(loaded.environments, filter);
  return { exitCode: 0, stdout: json ? `${JSON.stringify(entries)}\n` : table(entries), stderr: "" };
}

if (require.main === module) {
  void import("../environments").then(({ ENVIRONMENTS }) => {
    const run = listEnvironments(process.argv.slice(2), ENVIRONMENTS);
    process.stdout.write(run.stdout);
    process.stderr.write(run.stderr);
    process.exitCode = run.exitCode;
  });
}
