/** The image mirror the tests rewrite references to: the Artifactory of the on-prem test environment. */
import type { ImageMirror } from "../../constructs/platform/image-mirror";
import { onPremTestInput } from "./onprem-fixture";

/** The Artifactory of the on-prem test environment. */
export const MIRROR: ImageMirror = {
  host: onPremTestInput.registry.host,
  remotes: onPremTestInput.registry.remotes,
  pullSecretName: onPremTestInput.registry.pullSecretName,
};
