/**
 * A copy of the project in a temporary folder whose environment registry and release files a
 * test owns, for running the commands (`npm run synth`, `promote`, `new-environment`,
 * `promote-artifacts`) as processes on them. Sources are copied (the app compiles them into its
 * own `.build/`); node_modules is linked.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const COPIED = [
  "environments",
  "constructs",
  "stacks",
  "scripts",
  "helm-values",
  "main.ts",
  "package.json",
  "cdktf.json",
  "tsconfig.json",
];

export interface ProcessRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class FixtureProject {
  readonly root: string;

  constructor(prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), `${prefix}-`));
    for (const entry of COPIED) cpSync(join(ROOT, entry), join(this.root, entry), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(this.root, "node_modules"));
  }

  /** Replaces the registry with exactly these environment inputs (as data). */
  writeRegistry(inputs: readonly unknown[]): void {
    writeFileSync(
      join(this.root, "environments", "index.ts"),
      `import type { AnyEnvironmentInput } from "./targets";\n\nexport const ENVIRONMENTS: readonly AnyEnvironmentInput[] = ${JSON.stringify(inputs, null, 2)} as never;\n`,
    );
  }

  /** Writes `releases/<name>.json` as a copy of `from`'s, changed by `change`. */
  writeRelease(name: string, from: string, change: (release: any) => void = () => undefined): void {
    const release = JSON.parse(this.read(`environments/releases/${from}.json`));
    change(release);
    writeFileSync(
      join(this.root, "environments", "releases", `${name}.json`),
      `${JSON.stringify(release, null, 2)}\n`,
    );
  }

  write(file: string, text: string): void {
    writeFileSync(join(this.root, file), text);
  }

  read(file: string): string {
    return readFileSync(join(this.root, file), "utf8");
  }

  exists(file: string): boolean {
    return existsSync(join(this.root, file));
  }

  /** Every file of a folder with its content, to prove a refused command wrote nothing. */
  snapshot(folder: string): Record<string, string> {
    const walk = (relative: string): [string, string][] =>
      readdirSync(join(this.root, relative), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? walk(join(relative, entry.name))
          : [
              [join(relative, entry.name), readFileSync(join(this.root, relative, entry.name), "utf8")] as [
                string,
                string,
              ],
            ],
      );
    return Object.fromEntries(walk(folder));
  }

  /** `npm run <script> -- <args>` in the copy. */
  npm(script: string, ...args: string[]): ProcessRun {
    const run = spawnSync("npm", ["run", "--silent", script, "--", ...args], {
      cwd: this.root,
      env: { ...process.env, CDKTF_OUTDIR: join(this.root, "cdktf.out"), FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: 240_000,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  /**
   * `npm run <script> -- <args>` in the copy, without waiting: for commands that only read the
   * copy, run side by side.
   */
  npmAsync(script: string, ...args: string[]): Promise<ProcessRun> {
    return new Promise((resolve) => {
      const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
        cwd: this.root,
        env: { ...process.env, CDKTF_OUTDIR: join(this.root, "cdktf.out"), FORCE_COLOR: "0" },
        timeout: 240_000,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** Removes one file of the copy, or the whole copy. */
  remove(file?: string): void {
    rmSync(file === undefined ? this.root : join(this.root, file), { recursive: true, force: true });
  }
}
