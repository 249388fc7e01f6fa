/** Reads and validates `environments/releases/<env>.json`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatIssue } from "./load";
import { releaseFileSchema, type ReleaseFile } from "./release-schema";

export const RELEASES_DIRECTORY = join(__dirname, "releases");

export type ReleaseLoadResult =
  | { readonly ok: true; readonly release: ReleaseFile }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Validates release JSON text; `label` names the file in messages. */
export function parseRelease(label: string, text: string): ReleaseLoadResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [`${label}: not valid JSON (${reason}); fix: correct the syntax`] };
  }
  const parsed = releaseFileSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, release: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap((issue) => formatIssue(label, input, issue)) };
}

/** Reads the release file of `environment` from `directory`. */
export function loadRelease(environment: string, directory = RELEASES_DIRECTORY): ReleaseLoadResult {
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
  return parseRelease(label, text);
}
