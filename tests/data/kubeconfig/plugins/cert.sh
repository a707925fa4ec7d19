#!/bin/sh
# Test exec credential plugin returning a client certificate and key (PEM in JSON).
cat <<'JSON'
{
  "apiVersion": "client.authentication.k8s.io/v1",
  "kind": "ExecCredential",
  "status": {
    "clientCertificateData": "-----BEGIN CERTIFICATE-----\nEXEC-CERT\n-----END CERTIFICATE-----\n",
    "clientKeyData": "-----BEGIN PRIVATE KEY-----\nEXEC-KEY\n-----END PRIVATE KEY-----\n",
    "expirationTimestamp": "2999-12-31T23:59:59.5+01:00"
  }
}
JSON
