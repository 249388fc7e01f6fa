/** Copies of the release files of environments/releases, for tests of bad or changed releases. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELEASES_DIRECTORY } from "../../environments/releases";

/** A copy of the release files, one of them replaced by `text`. */
export function releasesWith(environment: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), "releases-"));
  cpSync(RELEASES_DIRECTORY, directory, { recursive: true });
  writeFileSync(join(directory, `${environment}.json`), text);
  return directory;
}
/** The text of an environment's release file. */
export const releaseText = (environment: string) =>
  readFileSync(join(RELEASES_DIRECTORY, `${environment}.json`), "utf8");
