/**
 * Custom resource schemas from the CRDs at the pinned versions (`--crds DIR`): each served
 * version's `openAPIV3Schema` made strict about unknown fields, compiled with ajv.
 */
import type { Decoded } from "./convert";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { CACHE_ROOT } from "./tools";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { loadAll } from "js-yaml";

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly schema?: Record<string, unknown>;
}

export interface Crd {
  readonly file: string;
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly CrdVersion[];
}

export interface CustomValidation {
  readonly found: "no-crd" | "version-not-served" | "no-schema" | "checked";
  readonly errors: readonly { readonly path: string; readonly message: string }[];
  /** The CRD file, for messages. */
  readonly file?: string;
  readonly versions?: readonly string[];
}

/**
 * Turns an OpenAPI v3 structural schema into a JSON schema ajv checks the way the API server
 * prunes and validates: unknown fields are errors unless `x-kubernetes-preserve-unknown-fields`,
 * `x-kubernetes-int-or-string` takes numbers and strings, `nullable` takes null.
 */
export function strictSchema(schema: unknown, path: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => strictSchema(s, path));
  if (schema === null || typeof schema !== "object") return schema;
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable" || key === "format") continue;
    if (key === "properties" && value && typeof value === "object") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, child]) => [
          name,
          strictSchema(child, [...path, name]),
        ]),
      );
    } else if (key === "items" || key === "additionalProperties" || key === "not") {
      out[key] = typeof value === "object" ? strictSchema(value, [...path, key]) : value;
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      // Kubernetes uses these for value constraints only; structural fields stay in `properties`.
      out[key] = (value as unknown[]).map((s) => stripToConstraints(strictSchema(s, path)));
    } else if (key === "pattern" && typeof value === "string") {
      // CRDs carry Go (RE2) patterns; the few JavaScript cannot compile are left unchecked.
      if (compiles(value)) out.pattern = value;
    } else {
      out[key] = value;
    }
  }
  if (source["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }, ...((out.anyOf as unknown[]) ?? [])];
  }
  if (source.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  const preserves = source["x-kubernetes-preserve-unknown-fields"] === true;
  const isMetadata = path.length === 1 && path[0] === "metadata";
  if (isMetadata) return { type: "object" };
  if (out.properties && !preserves && out.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

/**
 * The part of a schema that a set of values reaches: properties the values do not have are
 * dropped (required ones are kept as `{}` so they are still reported missing). Validating the
 * values against it gives the same result as against the whole schema, and large CRDs (pod
 * templates inside InferenceService) compile in milliseconds instead of seconds.
 */
export function reachedSchema(schema: unknown, values: readonly unknown[]): unknown {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return schema;
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = { ...source };
  const objects = values.filter(
    (v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v),
  );
  if (source.properties && typeof source.properties === "object") {
    const properties = source.properties as Record<string, unknown>;
    const required = new Set((source.required as string[] | undefined) ?? []);
    const kept: Record<string, unknown> = {};
    const present = new Set(objects.flatMap((o) => Object.keys(o)));
    for (const [name, child] of Object.entries(properties)) {
      if (present.has(name)) {
        kept[name] = reachedSchema(
          child,
          objects.map((o) => o[name]).filter((v) => v !== undefined),
        );
      } else if (required.has(name)) kept[name] = {};
    }
    out.properties = kept;
  }
  if (source.items && typeof source.items === "object") {
    out.items = reachedSchema(
      source.items,
      values.filter(Array.isArray).flatMap((v) => v as unknown[]),
    );
  }
  if (source.additionalProperties && typeof source.additionalProperties === "object") {
    const declared = new Set(Object.keys((source.properties as Record<string, unknown>) ?? {}));
    out.additionalProperties = reachedSchema(
      source.additionalProperties,
      objects.flatMap((o) =>
        Object.entries(o)
          .filter(([k]) => !declared.has(k))
          .map(([, v]) => v),
      ),
    );
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    if (Array.isArray(source[key]))
      out[key] = (source[key] as unknown[]).map((sub) => reachedSchema(sub, values));
  }
  return out;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

/** Sub-schemas of anyOf/allOf/oneOf must not reject fields their siblings declare. */
function stripToConstraints(schema: unknown): unknown {
  if (!schema || typeof schema !== "object") return schema;
  const { additionalProperties: _a, ...rest } = schema as Record<string, unknown>;
  return rest;
}

function crdOf(doc: Decoded, file: string): Crd {
  return {
    file,
    group: doc.spec.group,
    kind: doc.spec.names.kind,
    versions: (doc.spec.versions ?? []).map((v: Decoded) => ({
      name: v.name,
      served: v.served !== false,
      schema: v.schema?.openAPIV3Schema,
    })),
  };
}

/** CRDs of every YAML file under a folder; parsed files are cached by path, size and time. */
function readCrds(dir: string): Crd[] {
  const files: { path: string; size: number; mtimeMs: number }[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder).sort()) {
      const path = join(folder, entry);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry)) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(dir);
  const key = createHash("sha256").update(JSON.stringify(files)).digest("hex");
  const cached = join(CACHE_ROOT, "crds", `${key}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, "utf8")) as Crd[];
  const out: Crd[] = [];
  for (const { path } of files) {
    for (const doc of loadAll(readFileSync(path, "utf8")) as Decoded[]) {
      if (doc?.kind !== "CustomResourceDefinition") continue;
      out.push(crdOf(doc, relative(dir, path)));
    }
  }
  mkdirSync(dirname(cached), { recursive: true });
  writeFileSync(cached, JSON.stringify(out));
  return out;
}

function pathOf(error: ErrorObject): string {
  const base = error.instancePath.replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
  if (error.keyword === "additionalProperties")
    return `${base}.${(error.params as { additionalProperty: string }).additionalProperty}`;
  if (error.keyword === "required")
    return `${base}.${(error.params as { missingProperty: string }).missingProperty}`;
  return base || ".";
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === "additionalProperties") {
    return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (error.keyword === "required")
    return `required field "${(error.params as { missingProperty: string }).missingProperty}" is missing`;
  if (error.keyword === "enum")
    return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return error.message ?? error.keyword;
}

export class CrdCatalog {
  private readonly crds: Crd[];
  private readonly compiled: Map<string, ValidateFunction>;
  private readonly ajv: Ajv;

  constructor(
    readonly dir: string,
    crds?: readonly Crd[],
    shared?: { compiled: Map<string, ValidateFunction>; ajv: Ajv },
  ) {
    this.crds = crds ? [...crds] : readCrds(dir);
    this.compiled = shared?.compiled ?? new Map();
    this.ajv = shared?.ajv ?? new Ajv({ strict: false, allErrors: true, validateFormats: false });
  }

  /**
   * This catalog, with the CRDs a state installs from pinned charts for the kinds the folder
   * lacks (the folder's copy wins where both have one).
   */
  withFallback(objects: readonly { kind: string; spec?: unknown }[], origin: string): CrdCatalog {
    const extra = objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => crdOf(o, `${origin} (rendered from the pinned chart)`))
      .filter((c) => !this.has(c.group, c.kind));
    if (extra.length === 0) return this;
    const key = extra
      .map((c) => `${c.group}/${c.kind}`)
      .sort()
      .join(",");
    const cached = this.fallbacks.get(key);
    if (cached) return cached;
    const catalog = new CrdCatalog(this.dir, [...this.crds, ...extra], {
      compiled: this.compiled,
      ajv: this.ajv,
    });
    this.fallbacks.set(key, catalog);
    return catalog;
  }

  private readonly fallbacks = new Map<string, CrdCatalog>();

  get size(): number {
    return this.crds.length;
  }

  /** The CRD of a kind, if the catalog has one. */
  crd(group: string, kind: string): Crd | undefined {
    return this.crds.find((c) => c.group === group && c.kind === kind);
  }

  has(group: string, kind: string): boolean {
    return this.crd(group, kind) !== undefined;
  }

  validate(object: { apiVersion: string; kind: string }): CustomValidation {
    const [group, version] = object.apiVersion.includes("/")
      ? object.apiVersion.split("/")
      : ["", object.apiVersion];
    const crd = this.crd(group, object.kind);
    if (!crd) return { found: "no-crd", errors: [] };
    const entry = crd.versions.find((v) => v.name === version && v.served);
    if (!entry)
      return {
        found: "version-not-served",
        errors: [],
        file: crd.file,
        versions: crd.versions.filter((v) => v.served).map((v) => v.name),
      };
    if (!entry.schema) return { found: "no-schema", errors: [], file: crd.file };
    const stored = withoutPrunedNulls(object, entry.schema);
    const schema = strictSchema(reachedSchema(entry.schema, [stored]));
    const key = createHash("sha256").update(JSON.stringify(schema)).digest("hex");
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema as object);
      this.compiled.set(key, validate);
    }
    validate(stored);
    const errors = (validate.errors ?? [])
      .filter((e) => !["anyOf", "oneOf", "if"].includes(e.keyword))
      .map((e) => ({ path: pathOf(e), message: messageOf(e) }));
    return { found: "checked", errors: dedupe(errors), file: crd.file };
  }
}

/**
 * The object as the API server stores it: a field of an object whose value is null and whose
 * schema is not `nullable` is dropped before defaulting and validation (apiextensions-apiserver
 * prunes non-nullable nulls), so a chart that renders `postgresql:` with nothing under it
 * creates the resource without the field.
 */
export function withoutPrunedNulls(value: unknown, schema: unknown): unknown {
  if (!schema || typeof schema !== "object") return value;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(value))
    return s.items && typeof s.items === "object" ? value.map((v) => withoutPrunedNulls(v, s.items)) : value;
  if (value === null || typeof value !== "object") return value;
  const properties = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
  const additional =
    s.additionalProperties && typeof s.additionalProperties === "object"
      ? (s.additionalProperties as Record<string, unknown>)
      : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childSchema = properties[key] ?? additional;
    if (child === null && childSchema && childSchema.nullable !== true) continue;
    out[key] = childSchema ? withoutPrunedNulls(child, childSchema) : child;
  }
  return out;
}

function dedupe<T extends { path: string; message: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = `${i.path} ${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
