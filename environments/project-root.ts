import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The project's root folder: the nearest folder above this file that holds package.json. Data
 * the app reads at run time (release files, Helm values) is found from here, so the app runs the
 * same from its sources and from its compiled copy in `.build/`.
 */
export function projectRoot(): string {
  let folder = __dirname;
  while (!existsSync(join(folder, "package.json"))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${__dirname}`);
    folder = parent;
  }
  return folder;
}
