/** The internal-CA ClusterIssuer the ca-issuer tests check. */
import { caClusterIssuer } from "../../constructs/platform/ca-issuer";

/** A ClusterIssuer of type CA named internal-ca, signing with the Secret internal-ca-key-pair. */
export const issuer = caClusterIssuer({ name: "internal-ca", caSecretName: "internal-ca-key-pair" });
