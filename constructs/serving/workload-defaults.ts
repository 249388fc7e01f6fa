/** Security settings every serving-stack workload runs with (Pod Security "restricted"). */
import type { ImageReference } from "../../environments/release-schema";

export const RESTRICTED_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: "10001",
  runAsGroup: "10001",
  fsGroup: "10001",
  seccompProfile: { type: "RuntimeDefault" },
};

export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** `repository:tag` or `repository@sha256:...`. */
export function imageName(repository: string, image: ImageReference): string {
  if (image.digest) return `${repository}@${image.digest}`;
  if (image.tag) return `${repository}:${image.tag}`;
  throw new Error(`image of ${repository} names neither a tag nor a digest; pin one in the release file`);
}

export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}
