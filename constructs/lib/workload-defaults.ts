/** Security settings the platform's own workloads run with (Pod Security "restricted"). */

/** An image of a release, pinned by tag or by digest (the release file's shape). */
export interface PinnedImage {
  readonly tag?: string;
  readonly digest?: string;
}

/** Pod security context of a restricted pod running as `uid` (its image's non-root user). */
export function restrictedPodSecurity(uid = 10001) {
  return {
    runAsNonRoot: true,
    runAsUser: String(uid),
    runAsGroup: String(uid),
    fsGroup: String(uid),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export const RESTRICTED_POD_SECURITY = restrictedPodSecurity();

export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/**
 * Pod Security "restricted" for an upstream image that writes under its own root filesystem
 * (KServe's storage initializer, MLServer): everything `RESTRICTED_CONTAINER_SECURITY` sets but
 * the read-only root, which "restricted" does not ask for.
 */
export const RESTRICTED_WRITABLE_ROOT_SECURITY = {
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** `repository:tag` or `repository@sha256:...`. */
export function imageName(repository: string, image: PinnedImage): string {
  if (image.digest) return `${repository}@${image.digest}`;
  if (image.tag) return `${repository}:${image.tag}`;
  throw new Error(`image of ${repository} names neither a tag nor a digest; pin one in the release file`);
}

export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}
