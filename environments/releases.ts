/** Reads and validates `environments/releases/<env>.json`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatIssue } from "./load";
import { upstreamOf } from "./promotion";
import { releaseFileSchema, type ReleaseFile } from "./release-schema";
import { chartsInstalledOn } from "../constructs/platform/charts";
import { RELEASE_TAG_PATTERNS, matchesTagPattern } from "../constructs/lib/release-tags";
import { projectRoot } from "./project-root";

/** Where an environment runs, which decides the charts its release pins. */
export type ReleaseTarget = "aws" | "rancher";

export const RELEASES_DIRECTORY = join(projectRoot(), "environments", "releases");

export type ReleaseLoadResult =
  | { readonly ok: true; readonly release: ReleaseFile }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Line and column (both from 1) of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** A key path as the problems print it: `current.models[0].name`. */
function pathKey(path: readonly (string | number)[]): string {
  return path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("");
}

interface JsonLayout {
  /** Line of every key and array element, by path. */
  readonly lines: ReadonlyMap<string, number>;
  /** The first key that appears twice in one object. */
  readonly duplicate?: { readonly path: string; readonly line: number; readonly firstLine: number };
}

/**
 * Walks JSON text that `JSON.parse` accepted and records where each key and element starts,
 * and the first key an object holds twice (`JSON.parse` keeps the last and hides the first).
 */
function layoutOf(text: string): JsonLayout {
  type Frame =
    | {
        kind: "object";
        path: (string | number)[];
        keys: Map<string, number>;
        key?: string;
        expectKey: boolean;
      }
    | { kind: "array"; path: (string | number)[]; index: number };
  const lines = new Map<string, number>();
  const stack: Frame[] = [];
  let duplicate: JsonLayout["duplicate"];
  const valueStarts = (offset: number) => {
    const top = stack[stack.length - 1];
    if (top?.kind === "array") lines.set(pathKey([...top.path, top.index]), position(text, offset).line);
  };
  const childPath = (): (string | number)[] => {
    const top = stack[stack.length - 1];
    if (top === undefined) return [];
    return top.kind === "array" ? [...top.path, top.index] : [...top.path, top.key ?? ""];
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const line = position(text, i).line;
        const first = top.keys.get(key);
        if (first !== undefined && duplicate === undefined)
          duplicate = { path: pathKey([...top.path, key]).slice(1), line, firstLine: first };
        top.keys.set(key, line);
        top.key = key;
        lines.set(pathKey([...top.path, key]), line);
      } else valueStarts(i);
      i = end;
    } else if (char === "{" || char === "[") {
      valueStarts(i);
      const path = childPath();
      stack.push(
        char === "{"
          ? { kind: "object", path, keys: new Map(), expectKey: true }
          : { kind: "array", path, index: 0 },
      );
    } else if (char === "}" || char === "]") stack.pop();
    else if (char === ":") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.expectKey = false;
    } else if (char === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.expectKey = true;
      else if (top?.kind === "array") top.index += 1;
    } else if (!/\s/.test(char)) valueStarts(i);
    // Scalars (numbers, true, false, null) only mark their start; skip the rest of the token.
    if (/[-0-9tfn]/.test(char)) while (i + 1 < text.length && /[-+.\w]/.test(text[i + 1])) i += 1;
  }
  return { lines, duplicate };
}

/** The line of `path`, or of its nearest ancestor the file spells out. */
function lineOf(layout: JsonLayout, path: readonly PropertyKey[]): number | undefined {
  for (let length = path.length; length > 0; length--) {
    const line = layout.lines.get(pathKey(path.slice(0, length) as (string | number)[]));
    if (line !== undefined) return line;
  }
  return undefined;
}

const RELEASE_SHAPE = '{ "current": { ... }, "history": [ ... ] }';

/**
 * Validates release JSON text; `label` names the file in messages. With `environment`, the
 * promotion record is checked too: a release enters an environment only from its upstream. With
 * `target`, the current entry must pin exactly the charts an environment there installs.
 */
export function parseRelease(
  label: string,
  text: string,
  environment?: string,
  target?: ReleaseTarget,
): ReleaseLoadResult {
  const fail = (problem: string): ReleaseLoadResult => ({ ok: false, problems: [problem] });
  if (text.charCodeAt(0) === 0xfeff)
    return fail(
      `${label}:1:1: starts with a byte-order mark; fix: save the file as UTF-8 without a byte-order mark`,
    );
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const offset = /at position (\d+)/.exec(reason);
    const where = offset ? position(text, Number(offset[1])) : position(text, text.length);
    const rule = reason.replace(/ in JSON at position \d+.*$/, "").replace(/, ".*" is not valid JSON$/, "");
    const hint = /^Expected double-quoted property name|^Unexpected token '?[\]}]/.test(rule)
      ? " (a trailing comma?)"
      : "";
    return fail(
      `${label}:${where.line}:${where.column}: not valid JSON: ${rule}${hint}; fix: correct the syntax at that spot`,
    );
  }
  if (input === null || typeof input !== "object" || Array.isArray(input))
    return fail(
      `${label}:1: holds ${input === null ? "null" : Array.isArray(input) ? "a list" : `a ${typeof input}`}, not a release; fix: the file must hold ${RELEASE_SHAPE}`,
    );
  const layout = layoutOf(text);
  if (layout.duplicate) {
    const { path, line, firstLine } = layout.duplicate;
    return fail(
      `${label}:${line}: ${path} is given twice (first on line ${firstLine}); only the last would count; fix: keep one of the two`,
    );
  }
  const at = (path: readonly PropertyKey[]) => {
    const line = lineOf(layout, path);
    return line === undefined ? label : `${label}:${line}`;
  };
  const parsed = releaseFileSchema.safeParse(input, { reportInput: true });
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.flatMap((issue) =>
        formatIssue(at(issue.path), input, issue, releaseFileSchema),
      ),
    };
  const problems = [
    ...(environment === undefined ? [] : promotionProblems(environment, parsed.data, at)),
    ...(target === undefined ? [] : chartSetProblems(target, parsed.data, at)),
    ...(target === "aws" ? releaseTagProblems(parsed.data, at) : []),
    ...monitoringImageProblems(parsed.data, at),
  ];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, release: parsed.data };
}

const TARGET_NAMES: Record<ReleaseTarget, string> = { aws: "an AWS", rancher: "an on-prem (Rancher)" };

/** The current entry pins a version of every chart the target installs, and of no other. */
function chartSetProblems(
  target: ReleaseTarget,
  release: ReleaseFile,
  at: (path: readonly PropertyKey[]) => string,
): string[] {
  const installed: readonly string[] = chartsInstalledOn(target);
  const pinned = Object.keys(release.current.charts);
  const missing = installed.filter((chart) => !pinned.includes(chart));
  const extra = pinned.filter((chart) => !installed.includes(chart));
  return [
    ...missing.map(
      (chart) =>
        `${at(["current", "charts"])}: current.charts has no version of "${chart}", which ${TARGET_NAMES[target]} environment installs; fix: add "${chart}": "<exact version>" to current.charts`,
    ),
    ...extra.map(
      (chart) =>
        `${at(["current", "charts", chart])}: current.charts["${chart}"] = ${JSON.stringify(release.current.charts[chart as keyof typeof release.current.charts])}: ${TARGET_NAMES[target]} environment does not install this chart; fix: remove it`,
    ),
  ];
}

/**
 * On AWS every image a release names (current and history, the rollback targets) carries a
 * release tag: ECR replication copies every build of the producing environment into the
 * consumers, and the registries' lifecycle expires all but the last few builds except those
 * tagged as releases.
 */
function releaseTagProblems(release: ReleaseFile, at: (path: readonly PropertyKey[]) => string): string[] {
  const entries: [(string | number)[], ReleaseFile["current"]][] = [
    [["current"], release.current],
    ...release.history.map((entry, index): [(string | number)[], ReleaseFile["current"]] => [
      ["history", index],
      entry,
    ]),
  ];
  return entries.flatMap(([path, entry]) =>
    (["serving", "training"] as const).flatMap((component) => {
      const image = entry[component].image;
      const where = [...path, component, "image"];
      const name = where.join(".").replace(/\.(\d+)\./g, "[$1].");
      if (image.tag !== undefined && matchesTagPattern(image.tag)) return [];
      const value = image.tag !== undefined ? `tag = "${image.tag}"` : `digest = "${image.digest}"`;
      return [
        `${at(where)}: ${name}.${value}: on AWS a release names its images by a release tag (${RELEASE_TAG_PATTERNS.join(", ")}), the only images the registries' lifecycle never expires; fix: tag the image with its version (e.g. 1.4.2) and name that tag`,
      ];
    }),
  );
}

/**
 * A release whose models log names the image their monitoring jobs run: without it the logged
 * predictions would be read by nothing.
 */
function monitoringImageProblems(
  release: ReleaseFile,
  at: (path: readonly PropertyKey[]) => string,
): string[] {
  const logging = release.current.models.filter((model) => model.monitoring.logging.mode !== "off");
  if (logging.length === 0 || release.current.monitoring !== undefined) return [];
  return [
    `${at(["current"])}: current.monitoring is missing: ${logging.map((model) => model.name).join(", ")} log${logging.length === 1 ? "s" : ""} predictions, which the monitoring jobs read with the team's monitoring image; fix: add "monitoring": { "image": { "digest": "sha256:<64 hex>" } } naming the image in the training repository, or set monitoring.logging.mode to "off" for these models`,
  ];
}

/** `promotedFrom` of every entry must name the environment's upstream (or be absent). */
function promotionProblems(
  environment: string,
  release: ReleaseFile,
  at: (path: readonly PropertyKey[]) => string,
): string[] {
  const upstream = upstreamOf(environment);
  const entries: [(string | number)[], ReleaseFile["current"]][] = [
    [["current"], release.current],
    ...release.history.map((entry, index): [(string | number)[], ReleaseFile["current"]] => [
      ["history", index],
      entry,
    ]),
  ];
  return entries.flatMap(([path, entry]) => {
    const from = entry.promotedFrom;
    if (from === undefined || from === upstream) return [];
    const field = [...path, "promotedFrom"];
    const where = `${at(field)}: ${path
      .map((k) => (typeof k === "number" ? `[${k}]` : k))
      .join(".")
      .replace(".[", "[")}.promotedFrom = ${JSON.stringify(from)}`;
    return [
      upstream === undefined
        ? `${where}: ${environment} is the start of its promotion path and takes releases from nowhere; fix: remove promotedFrom`
        : `${where}: ${environment} takes releases only from ${upstream}; fix: promote with npm run promote -- --from ${upstream} --to ${environment} instead of editing the record`,
    ];
  });
}

/** Reads the release file of `environment` from `directory`. */
export function loadRelease(
  environment: string,
  directory = RELEASES_DIRECTORY,
  target?: ReleaseTarget,
): ReleaseLoadResult {
  const label = `releases/${environment}.json`;
  let text: string;
  try {
    text = readFileSync(join(directory, `${environment}.json`), "utf8");
  } catch {
    return {
      ok: false,
      problems: [`${label}: missing; fix: create it (copy another environment's and promote into it)`],
    };
  }
  return parseRelease(label, text, environment, target);
}
