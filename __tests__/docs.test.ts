import { readFileSync } from "node:fs";
import { join } from "node:path";
import { currentIdentityTable, IDENTITY_TABLE_PAGE, replaceTable } from "../scripts/identity-table";
import { environmentSchema } from "../environments/schema";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { FIELD_REFERENCE_PAGE, withCurrentTables } from "../scripts/field-reference";
import { schemaFieldPaths } from "./support/schema-paths";
import {
  brokenLinks,
  documentationFiles,
  headingAnchors,
  missingPaths,
  topLevelEntries,
  wrongCommands,
} from "./support/doc-checks";

const root = join(__dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const readme = read("README.md");

describe("the generated tables", () => {
  it("docs/security.md carries the identity table the code generates (npm run docs:identities)", () => {
    const page = read(IDENTITY_TABLE_PAGE);
    expect(replaceTable(page, currentIdentityTable())).toBe(page);
  });

  it("docs/environment-reference.md carries the field references the schemas generate (npm run docs:fields)", () => {
    const page = read(FIELD_REFERENCE_PAGE);
    expect(withCurrentTables(page)).toBe(page);
  });

  it.each([
    ["AWS", environmentSchema],
    ["on-prem", rancherEnvironmentSchema],
  ] as const)("docs/environment-reference.md documents every %s environment field", (_kind, schema) => {
    const page = read(FIELD_REFERENCE_PAGE);
    const documented = schemaFieldPaths(schema);
    const missing = documented.filter(
      (path) => !new RegExp(`^\\| \`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` +\\|`, "m").test(page),
    );
    expect(missing).toEqual([]);
  });
});

describe("README.md", () => {
  it("runs the cdktf CLI with its update check off, so no [ERROR] without network", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.cdktf).toBe("CHECKPOINT_DISABLE=1 cdktf");
    expect(readme).not.toMatch(/npx cdktf/);
  });

  it("shows the install-and-synth and the test commands", () => {
    expect(readme).toContain("npm ci && npm run synth");
    expect(readme).toContain("npm test");
  });

  it("stays one page: at most 1,500 words", () => {
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(1500);
  });

  it("deploys dev in order: bootstrap of dev's account, foundation, platform, then every dev stack", () => {
    // Step 1 replaces dev's example account id, so the bootstrap stack is named after the reader's.
    const steps = [
      "npm run cdktf -- deploy bootstrap-<your account id>",
      "npm run cdktf -- deploy dev-foundation",
      "npm run cdktf -- deploy dev-platform",
      "npm run cdktf -- deploy 'dev-*'",
    ].map((command) => readme.indexOf(command));
    expect(steps.every((at) => at >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  });
});

describe("every link and command in README.md and docs/", () => {
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
  const pages = documentationFiles(root);
  const topLevel = topLevelEntries(root);

  it("reads the README, the architecture notes and every page under docs/", () => {
    expect(pages).toEqual(expect.arrayContaining(["README.md", "ARCHITECTURE.md", "docs/security.md"]));
  });

  it("links only to files and headings that exist", () => {
    expect(pages.flatMap((page) => brokenLinks(root, page, read(page)))).toEqual([]);
  });

  it("runs only npm scripts package.json has, with flags the scripts read", () => {
    expect(pages.flatMap((page) => wrongCommands(root, page, read(page), scripts))).toEqual([]);
  });

  it("names only repository paths that exist", () => {
    expect(pages.flatMap((page) => missingPaths(root, page, read(page), topLevel))).toEqual([]);
  });

  it("never sends readers outside the repository (../shared or a machine's folders)", () => {
    const outside = pages.filter((page) => /\.\.\/shared|\/work\//.test(read(page)));
    expect(outside).toEqual([]);
  });
});

describe("the documentation checks", () => {
  const page = "docs/security.md";
  const scripts = { verify: "tsx scripts/verify/main.ts", doctor: "tsx scripts/doctor.ts" };

  it("find a link to a missing page or heading, and accept one that exists", () => {
    const text = [
      "[ok](../README.md#where-to-go-next) [self](#which-service-account-touches-which-aws-service)",
      "[gone](missing.md) [no heading](../README.md#no-such-heading) [plain](http://example.com)",
    ].join("\n");
    expect(brokenLinks(root, page, text)).toEqual([
      "docs/security.md: link missing.md: docs/missing.md does not exist",
      "docs/security.md: link ../README.md#no-such-heading: README.md has no heading #no-such-heading",
      "docs/security.md: link http://example.com is not an https address",
    ]);
  });

  it("number headings as GitHub does", () => {
    expect([...headingAnchors("# A `b` (c)\n## Same\n## Same\n```sh\n# not a heading\n```\n")]).toEqual([
      "a-b-c",
      "same",
      "same-1",
    ]);
  });

  it("find an unknown script and a flag the script does not read", () => {
    const text = "`npm run verify -- --env dev --pull`, `npm run doctor -- --bogus`, `npm run nothing`";
    expect(wrongCommands(root, page, text, scripts)).toEqual([
      "docs/security.md: npm run doctor -- --bogus: tsx scripts/doctor.ts does not read --bogus",
      "docs/security.md: npm run nothing: package.json has no such script",
    ]);
  });

  it("find a missing repository path and leave templates and build output alone", () => {
    const text = "`scripts/doctor.ts` `scripts/no-such.ts` `helm-values/<chart>.yaml` `cdktf.out/stacks/dev`";
    expect(missingPaths(root, page, text, topLevelEntries(root))).toEqual([
      "docs/security.md: scripts/no-such.ts does not exist",
    ]);
  });
});
