"""Vendor-free building blocks: bounded reader, DER, X.509 helpers, CBOR/COSE, strict JSON,
JOSE, time, text decoding and policy-rule helpers. Nothing here knows a TEE."""
