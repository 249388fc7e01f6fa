import type { TerraformResource } from "cdktf";

/**
 * `<type>.<logical id>`: a resource's address as `lifecycle.replaceTriggeredBy` must give it.
 * cdktf 0.21 renders a resource given there as `"${<type>.<id>}"`, which Terraform 1.11 refuses
 * in JSON configuration (configs.decodeReplaceTriggeredBy parses each string as a bare HCL
 * reference: "Invalid character").
 */
export function resourceAddress(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}
