/**
 * The pinned upstream sources (charts, CRDs) that tests check the synthesized stacks against,
 * when they are present: `MLOPS_UPSTREAM_DIR`, or `.upstream/` (`npm run fetch-sources`). The
 * project never needs them to install, synthesize or test; checks that do are skipped without.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import Ajv from "ajv";
import { parseAllDocuments } from "yaml";
import { ensureTools } from "../../scripts/verify/tools";
import { renderRelease } from "../../scripts/verify/render";
import { upstreamDirectory } from "../../scripts/verify/upstream";

/** Folder of the pinned upstream sources, or undefined when absent (as `npm run verify` finds it). */
export const UPSTREAM_DIR: string | undefined = upstreamDirectory();

/** An executable named `name`: `$<envVar>`, then the first on PATH. */
export function findExecutable(name: string, envVar: string): string | undefined {
  const candidates = [
    process.env[envVar],
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, name)),
  ];
  return candidates.find((path): path is string => path !== undefined && path !== "" && existsSync(path));
}

/** helm v4 as the verify tool runs it (unpacked from an npm package, nothing downloaded), or `$HELM`. */
function projectHelm(): string | undefined {
  if (process.env.HELM) return process.env.HELM;
  try {
    return ensureTools().helm;
  } catch {
    return findExecutable("helm", "HELM");
  }
}

export const HELM = projectHelm();
export const TERRAFORM = findExecutable("terraform", "TERRAFORM");

export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; [key: string]: unknown };
  readonly [key: string]: any;
}

/** Renders `charts/<chartDir>` of the upstream folder with the given values (YAML texts), as Helm would install it. */
export function renderChart(
  release: string,
  chartDir: string,
  namespace: string,
  values: readonly string[],
): KubernetesObject[] {
  if (!UPSTREAM_DIR || !HELM) throw new Error("upstream charts or helm are not available");
  const work = mkdtempSync(join(tmpdir(), "chart-values-"));
  try {
    const files = values.map((text, index) => {
      const file = join(work, `values-${index}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const output = execFileSync(
      HELM,
      [
        "template",
        release,
        join(UPSTREAM_DIR, "charts", chartDir),
        "-n",
        namespace,
        "--kube-version",
        "1.34.0",
        ...files.flatMap((file) => ["-f", file]),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    return (
      parseAllDocuments(output)
        .map((doc) => doc.toJS() as KubernetesObject | null)
        .filter((object): object is KubernetesObject => object !== null && typeof object === "object")
        // A `List` (some charts wrap objects to order them) is applied as its items.
        .flatMap((object) => (object.kind === "List" ? (object.items as KubernetesObject[]) : [object]))
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Makes a structural schema reject unknown fields, as the API server prunes and strict clients refuse them. */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== "object") return schema;
  const copy: any = Object.fromEntries(
    Object.entries(schema)
      // OpenAPI's int32/int64/date-time formats, which JSON Schema validators do not know.
      .filter(([key, value]) => !(key === "format" && typeof value === "string"))
      .map(([key, value]) => [key, strict(value)]),
  );
  if (
    copy.properties &&
    copy.additionalProperties === undefined &&
    copy["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}

/** The served schema of `group`/`kind` at `version` among `crds/<crdDir>`, strict about unknown fields. */
export function crdSchema(crdDir: string, group: string, kind: string, version: string): object {
  if (!UPSTREAM_DIR) throw new Error("upstream CRDs are not available");
  const dir = join(UPSTREAM_DIR, "crds", crdDir);
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml"))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const crd = doc.toJS();
      if (crd?.kind !== "CustomResourceDefinition") continue;
      if (crd.spec.group !== group || crd.spec.names.kind !== kind) continue;
      const served = crd.spec.versions.find((v: any) => v.name === version && v.served);
      if (!served) throw new Error(`${kind}.${group} ${version} is not served by ${crdDir}`);
      return strict(served.schema.openAPIV3Schema);
    }
  }
  throw new Error(`no CRD for ${kind}.${group} in ${crdDir}`);
}

/** A validator for `schema` (compiled once: CRD schemas are large) that lists errors as `path: message`. */
export function schemaValidator(schema: object): (object: unknown) => string[] {
  const validate = new Ajv({ strict: false, allErrors: true, logger: false }).compile(schema);
  return (object) =>
    validate(object)
      ? []
      : (validate.errors ?? []).map(
          (error) =>
            `${error.instancePath || "/"}: ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ""}`,
        );
}

/**
 * `describe` when the pinned upstream sources are present, otherwise `describe.skip` after one
 * visible `SKIPPED <file> (<what>)` line.
 */
export function describeWithUpstream(file: string, what: string): jest.Describe {
  if (UPSTREAM_DIR !== undefined) return describe;
  process.stdout.write(
    `SKIPPED ${file} (${what}): pinned upstream sources not found; run npm run fetch-sources or set MLOPS_UPSTREAM_DIR\n`,
  );
  return describe.skip;
}

/** `helm template` of a pinned chart from the upstream folder with these values, as the verify tool renders it. */
export async function renderPinnedChart(release: {
  readonly name: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
  readonly values: object;
}): Promise<KubernetesObject[]> {
  if (!UPSTREAM_DIR) throw new Error("the pinned upstream sources are not available");
  const result = await renderRelease(
    ensureTools(),
    { ...release, values: [release.values] },
    { chartsDir: join(UPSTREAM_DIR, "charts"), pull: false },
    { kubeVersion: "1.34.0", apiVersions: [] },
  );
  if (!result.ok) throw new Error(`${result.problem} (${result.fix})`);
  return result.objects as KubernetesObject[];
}
