/**
 * The command line of the release commands (promote, promote-artifacts, new-environment): flags
 * as `--flag value` or `--flag=value`, each refusal one line naming the flag, the value, the rule
 * and the fix. A flag given twice is refused rather than the last one silently winning, and a
 * mistyped flag or environment name is answered with the nearest one.
 */
import { nearest } from "../../environments/nearest";

export interface FlagSpec {
  /** Flags that take a value, written as typed: `--from`, `--to`. */
  readonly values: readonly string[];
  /** Flags that take none, e.g. `--dry-run`. */
  readonly switches?: readonly string[];
  /** Value flags that may be given more than once (each value kept), e.g. `--set`. */
  readonly repeatable?: readonly string[];
  /** What each value flag holds, for the messages: `{ "--from": "an environment name" }`. */
  readonly meaning?: Readonly<Record<string, string>>;
  /** What a user who wrote bare words probably meant, given them: e.g. `--from a --to b`. */
  readonly positionalHint?: (words: readonly string[]) => string | undefined;
}

/** The values read, by flag name without its dashes (`from`, `dry-run`). */
export interface ParsedFlags {
  readonly values: Readonly<Record<string, string>>;
  readonly lists: Readonly<Record<string, readonly string[]>>;
  readonly switches: ReadonlySet<string>;
}

// The nearest known word is shared with the environment and release files' unknown fields.
export { nearest };

/** The refusal of a name that is not one of `known`: `<flag> "<value>": is not <what> (...); fix: ...`. */
export function unknownName(flag: string, value: string, what: string, known: readonly string[]): string {
  const guess = nearest(value, known);
  return `${flag} ${JSON.stringify(value)}: is not ${what} (${known.join(", ")}); fix: ${
    guess === undefined ? "name one of them" : `use ${flag} ${guess}`
  }`;
}

/** Parses `argv` by `spec`; a string is the one-line refusal (without the command's prefix). */
export function parseFlags(argv: readonly string[], spec: FlagSpec, usage: string): ParsedFlags | string {
  const bare = (flags: readonly string[] | undefined) => (flags ?? []).map((flag) => flag.replace(/^--/, ""));
  const switches = bare(spec.switches);
  const repeatable = bare(spec.repeatable);
  const all = [...bare(spec.values), ...switches];
  const meaning = (flag: string) => spec.meaning?.[`--${flag}`] ?? "a value";
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const on = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (match === null) {
      positional.push(arg);
      continue;
    }
    const [, flag, inline] = match;
    if (!all.includes(flag)) {
      const guess = nearest(flag, all);
      return `--${flag}: is not a flag of this command (${all.map((f) => `--${f}`).join(", ")}); fix: ${
        guess === undefined ? usage : `write --${guess}; ${usage}`
      }`;
    }
    if (switches.includes(flag)) {
      if (inline !== undefined)
        return `--${flag}=${inline}: --${flag} takes no value; fix: write --${flag} alone, or leave it out`;
      on.add(flag);
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i++;
    if (value === undefined || value === "" || (inline === undefined && value.startsWith("--")))
      return `--${flag}: needs ${meaning(flag)}, and ${value === undefined || value === "" ? "none was given" : `${value} is a flag`}; fix: write --${flag} followed by ${meaning(flag)}; ${usage}`;
    if (repeatable.includes(flag)) {
      (lists[flag] ??= []).push(value);
      continue;
    }
    if (values[flag] !== undefined)
      return `--${flag} ${JSON.stringify(value)}: --${flag} is given twice (first ${JSON.stringify(values[flag])}), and only one can hold; fix: keep the one meant`;
    values[flag] = value;
  }
  if (positional.length > 0) {
    const hint = spec.positionalHint?.(positional);
    return `${JSON.stringify(positional[0])}: a word without a flag, which this command does not take; fix: ${
      hint === undefined ? usage : `write ${hint}`
    }`;
  }
  return { values, lists, switches: on };
}

/** The refusal of a required flag left out, or undefined when all are there. */
export function missingFlags(
  parsed: ParsedFlags,
  required: readonly string[],
  usage: string,
): string | undefined {
  const missing = required.filter((flag) => parsed.values[flag] === undefined);
  if (missing.length === 0) return undefined;
  return `${missing.map((flag) => `--${flag}`).join(" and ")}: ${missing.length === 1 ? "is" : "are"} required and missing; fix: ${usage}`;
}

/** A step between two environments, as `--from X --to Y [--dry-run]` names it. */
export interface EnvironmentStep {
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
}

/**
 * Parses `--from X --to Y [--dry-run]`, the arguments of the commands that move a release from
 * one environment to the next (promote, promote-artifacts); a string is the refusal.
 */
export function parseEnvironmentStep(argv: readonly string[], usage: string): EnvironmentStep | string {
  const parsed = parseFlags(
    argv,
    {
      values: ["--from", "--to"],
      switches: ["--dry-run"],
      meaning: { "--from": "an environment name", "--to": "an environment name" },
      positionalHint: (words) => (words.length === 2 ? `--from ${words[0]} --to ${words[1]}` : undefined),
    },
    usage,
  );
  if (typeof parsed === "string") return parsed;
  const missing = missingFlags(parsed, ["from", "to"], usage);
  if (missing !== undefined) return missing;
  return { from: parsed.values.from, to: parsed.values.to, dryRun: parsed.switches.has("dry-run") };
}
