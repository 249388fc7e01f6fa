/**
 * What the documentation claims that the repository can check: links to files and headings,
 * `npm run` scripts and the flags passed to them, and paths of the repository it names.
 * Each function returns the claims that do not hold, one line each, so a test can list them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/** README.md, ARCHITECTURE.md and every page under docs/, relative to the root. */
export function documentationFiles(root: string): string[] {
  const docs = existsSync(join(root, "docs"))
    ? readdirSync(join(root, "docs"))
        .filter((name) => name.endsWith(".md"))
        .sort()
        .map((name) => `docs/${name}`)
    : [];
  return ["README.md", "ARCHITECTURE.md", ...docs].filter((path) => existsSync(join(root, path)));
}

/** The text outside fenced code blocks (links and headings are only read there). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a page's headings get, duplicates numbered as GitHub numbers them. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = headingSlug(match[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every link target of a page's prose: `[text](target)`. */
export function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\[[^\]\n]*\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

/** Links of `page` (relative to root) to files or headings that do not exist. */
export function brokenLinks(root: string, page: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z]+:/i.test(target)) {
      if (!/^https:\/\//.test(target)) problems.push(`${page}: link ${target} is not an https address`);
      continue;
    }
    const [file, anchor] = target.split("#", 2);
    const path = file === "" ? page : normalize(join(dirname(page), file));
    if (path.startsWith("..")) {
      problems.push(`${page}: link ${target} leaves the repository`);
      continue;
    }
    if (!existsSync(join(root, path))) {
      problems.push(`${page}: link ${target}: ${path} does not exist`);
      continue;
    }
    if (anchor !== undefined) {
      if (!path.endsWith(".md")) {
        problems.push(`${page}: link ${target}: anchors are only checked in Markdown pages`);
        continue;
      }
      const anchors = headingAnchors(readFileSync(join(root, path), "utf8"));
      if (!anchors.has(anchor)) problems.push(`${page}: link ${target}: ${path} has no heading #${anchor}`);
    }
  }
  return problems;
}

export interface NpmRun {
  readonly script: string;
  readonly flags: readonly string[];
}

/**
 * Every `npm run <script>` a page shows, in code spans, code blocks and tables alike, with the
 * flags it passes to the script after `--` (on the same line or code span).
 */
export function npmRuns(markdown: string): NpmRun[] {
  const runs: NpmRun[] = [];
  for (const line of markdown.split("\n")) {
    const pieces = line.includes("`") && !line.startsWith("```") ? line.split("`") : [line];
    const code = pieces.length > 1 ? pieces.filter((_, i) => i % 2 === 1) : pieces;
    for (const piece of code) {
      for (const match of piece.matchAll(/npm run (?:--silent )?([A-Za-z][\w:-]*)([^#;&|]*)/g)) {
        const rest = match[2];
        const dashes = rest.search(/(^|\s)--(\s|$)/);
        const flags =
          dashes < 0 ? [] : [...rest.slice(dashes).matchAll(/(?:^|[\s[])(--[a-z][\w-]*)/g)].map((m) => m[1]);
        runs.push({ script: match[1], flags });
      }
    }
  }
  return runs;
}

/** The source files a package.json script runs: its entry file and the local modules it imports. */
export function scriptSources(root: string, command: string): string[] {
  const entry = command.split(/\s+/).find((word) => /^scripts\/.+\.(ts|js)$/.test(word));
  if (entry === undefined) return [];
  const files: string[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (files.includes(file) || !existsSync(join(root, file))) continue;
    files.push(file);
    const text = readFileSync(join(root, file), "utf8");
    for (const match of text.matchAll(/(?:from|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const base = normalize(join(dirname(file), match[1]));
      if (!base.startsWith("scripts/")) continue;
      const found = [`${base}.ts`, `${base}.js`, join(base, "index.ts"), base].find(
        (candidate) => /\.(ts|js)$/.test(candidate) && existsSync(join(root, candidate)),
      );
      if (found !== undefined) queue.push(found);
    }
  }
  return files;
}

/** Source text without comments, so a flag named only in a comment does not count. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/[^\n]*/g, "$1");
}

/** Whether a script's sources read the flag: as a string literal, or as a `parseArgs` option. */
export function scriptTakesFlag(root: string, command: string, flag: string): boolean {
  const name = flag.slice(2);
  const escaped = name.replace(/[-]/g, "\\-");
  const literal = new RegExp(`["'\`]--${escaped}["'\`=]`);
  const option = new RegExp(`["']?${escaped}["']?\\s*:\\s*\\{\\s*type\\s*:`);
  return scriptSources(root, command).some((file) => {
    const source = withoutComments(readFileSync(join(root, file), "utf8"));
    return literal.test(source) || option.test(source);
  });
}

/** `npm run` commands of a page naming a script package.json lacks, or a flag it does not take. */
export function wrongCommands(
  root: string,
  page: string,
  markdown: string,
  scripts: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const { script, flags } of npmRuns(markdown)) {
    const command = scripts[script];
    if (command === undefined) {
      problems.push(`${page}: npm run ${script}: package.json has no such script`);
      continue;
    }
    for (const flag of flags) {
      if (!scriptTakesFlag(root, command, flag))
        problems.push(`${page}: npm run ${script} -- ${flag}: ${command} does not read ${flag}`);
    }
  }
  return [...new Set(problems)];
}

/**
 * Repository paths a page names in code spans (`scripts/doctor.ts`, `environments/releases/`):
 * a span of path characters whose first segment is a top-level entry of the repository.
 * Templates (`<env>`, `*`) and what builds or installs write are not paths of the repository.
 */
export function missingPaths(
  root: string,
  page: string,
  markdown: string,
  topLevel: readonly string[],
): string[] {
  const generated = new Set(["cdktf.out", "node_modules", ".build", "coverage"]);
  const problems: string[] = [];
  for (const match of markdown.matchAll(/`([^`\s]+)`/g)) {
    const span = match[1];
    if (!/^[\w.-]+(\/[\w.-]*)+$/.test(span)) continue;
    const first = span.split("/")[0];
    if (generated.has(first) || !topLevel.includes(first)) continue;
    if (!existsSync(join(root, span))) problems.push(`${page}: ${span} does not exist`);
  }
  return [...new Set(problems)];
}

/** Top-level entries of the repository a page may name, for `missingPaths`. */
export function topLevelEntries(root: string): string[] {
  return readdirSync(root).filter((name) => name !== ".git");
}
