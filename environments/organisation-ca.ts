/**
 * Certificate of the example organisation's root CA, which issues the on-prem Git mirror's
 * server certificate. Public by nature (its key never leaves the CA); an environment names it
 * where Argo CD must trust the mirror.
 */
export const ORGANISATION_ROOT_CA = `-----BEGIN CERTIFICATE-----
MIIB8zCCAZmgAwIBAgIUXP/DeT2autmRWuZ3+f58Eyrs+2UwCgYIKoZIzj0EAwIw
RjEdMBsGA1UECgwURXhhbXBsZSBPcmdhbmlzYXRpb24xJTAjBgNVBAMMHEV4YW1w
bGUgT3JnYW5pc2F0aW9uIFJvb3QgQ0EwIBcNMjYxMjA3MDIwNDQ2WhgPMjA1NjEx
MjkwMjA0NDZaMEYxHTAbBgNVBAoMFEV4YW1wbGUgT3JnYW5pc2F0aW9uMSUwIwYD
VQQDDBxFeGFtcGxlIE9yZ2FuaXNhdGlvbiBSb290IENBMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEJX439yQ1yqq+31jw8hF5nBv4sLX2U7IxNwkqpJ2ox6xLgA/l
nMtHzRydTRqfaCBnYm0UAVaMnpkK/ABaa7EqsaNjMGEwHQYDVR0OBBYEFMRRpjJO
XdTh+gdQVkBLkNZpe6mnMB8GA1UdIwQYMBaAFMRRpjJOXdTh+gdQVkBLkNZpe6mn
MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0gA
MEUCIHPUfJ/j3pSI7cgTpHcTftIgoJXydqX7ldh61iAkv9RpAiEA2jfepdfT5djf
K/5ekzVARe6cnQvJgywgarS/dBMWHAM=
-----END CERTIFICATE-----
`;
