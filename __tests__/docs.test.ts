import { readFileSync } from "node:fs";
import { join } from "node:path";
import { currentIdentityTable, replaceTable } from "../scripts/identity-table";
import { environmentSchema } from "../environments/schema";
import { schemaFieldPaths } from "./support/schema-paths";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");

describe("README.md", () => {
  it("carries the identity table the code generates", () => {
    expect(replaceTable(readme, currentIdentityTable())).toBe(readme);
  });

  it("documents every environment field", () => {
    const documented = schemaFieldPaths(environmentSchema)
      .map((path) => path.replace(/^nodeGroups\.(general|training|gpu)(?=\.|$)/, "nodeGroups.<group>"))
      .filter((path, index, all) => all.indexOf(path) === index);
    const missing = documented.filter(
      (path) => !new RegExp(`^\\| \`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` +\\|`, "m").test(readme),
    );
    expect(missing).toEqual([]);
  });

  it("shows the install-and-synth and the test commands", () => {
    expect(readme).toContain("npm ci && npm run synth");
    expect(readme).toContain("npm test");
  });
});
