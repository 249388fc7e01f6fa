/**
 * The layering ARCHITECTURE.md states: constructs know nothing of environment files (stacks
 * translate), and provider classes are imported per resource module, so a move to another
 * build of the providers is a rename of import paths.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..");

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const importsOf = (file: string): string[] =>
  [...readFileSync(join(ROOT, file), "utf8").matchAll(/^import[^;]*?from "([^"]+)";/gms)].map((m) => m[1]);

describe("layering", () => {
  it("constructs import nothing from environments/", () => {
    const offending = sources("constructs").flatMap((file) =>
      importsOf(file)
        .filter((spec) => /(^|\/)environments(\/|$)/.test(spec))
        .map((spec) => `${relative(ROOT, join(ROOT, file))} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it("provider classes come from their resource modules, never a provider package's root", () => {
    const offending = ["constructs", "stacks", "scripts", "environments"]
      .flatMap(sources)
      .concat(["main.ts"])
      .flatMap((file) =>
        importsOf(file)
          .filter((spec) => /^@cdktf\/provider-(aws|kubernetes|helm)$/.test(spec))
          .map((spec) => `${file} imports ${spec}`),
      );
    expect(offending).toEqual([]);
  });
});
