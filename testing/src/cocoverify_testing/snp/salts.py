"""TEST ONLY. The RSA-PSS salts of the committed SNP vectors, so that regenerating reproduces them.

RSA-PSS (RFC 8017 §8.1) signs with a random salt. The committed ``vectors/snp`` files were
signed before salts were made reproducible; :func:`harvest` reads each salt back out of
those signatures (EMSA-PSS-VERIFY, RFC 8017 §9.1.2, with the fixed test keys in
``keys/amd-*.pem``) and ``pss_salts.json`` keeps them per signed message, in the order the
generator signed them. Inside :func:`cocoverify_testing.pki.pss_signing_run` the fake PKI
signs with these salts (and with derived ones for messages never recorded).

Messages that were never recorded (new or changed cases) get a salt derived from key and
message, so they are reproducible too; nothing needs re-recording. To read the salts of
committed files again: ``python vectors/generate.py --record-pss-salts``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from cocoverify_testing.pki import mgf1, pss_message_id, record_pss_salts
from cocoverify_testing.snp.pki import amd_rsa_key

__all__ = ["SALTS_FILE", "harvest", "load", "write"]

SALTS_FILE = Path(__file__).resolve().with_name("pss_salts.json")
_KEYS = Path(__file__).resolve().parent.parent / "keys"
_RSASSA_PSS = "1.2.840.113549.1.1.10"
_HASH = "sha384"  # the AMD KDS profile: SHA-384; MGF1 over SHA-384 (one vector: SHA-256)


def load() -> None:
    """Record the salts of ``pss_salts.json`` (a no-op if the file is missing)."""
    if SALTS_FILE.is_file():
        record_pss_salts(json.loads(SALTS_FILE.read_text(encoding="utf-8")))


def _signed_items(
    data: bytes,
) -> Iterator[x509.Certificate | x509.CertificateRevocationList]:
    """Certificates in a PEM file, or every DER certificate/CRL inside a binary blob."""
    if data.startswith(b"-----BEGIN"):
        yield from x509.load_pem_x509_certificates(data)
        return
    i = data.find(b"\x30\x82")
    while i >= 0:
        end = i + 4 + int.from_bytes(data[i + 2 : i + 4], "big")
        for load in (x509.load_der_x509_certificate, x509.load_der_x509_crl):
            try:
                yield load(data[i:end])
            except ValueError:
                continue
            i = end - 1
            break
        i = data.find(b"\x30\x82", i + 1)


def _salt(signature: bytes, tbs: bytes, key: rsa.RSAPublicKey) -> bytes | None:
    """The salt of an RSA-PSS ``signature`` over ``tbs`` by ``key``, None if it is not one."""
    nums = key.public_numbers()
    em_bits = nums.n.bit_length() - 1
    em_len = (em_bits + 7) // 8
    em = pow(int.from_bytes(signature, "big"), nums.e, nums.n).to_bytes(em_len, "big")
    digest = hashlib.new(_HASH, tbs).digest()
    h = em[-1 - len(digest) : -1]
    if em[-1] != 0xBC:
        return None
    for mgf_hash in (_HASH, "sha256"):
        masked = em[: -1 - len(h)]
        db = bytearray(a ^ b for a, b in zip(masked, mgf1(h, len(masked), mgf_hash), strict=True))
        db[0] &= 0xFF >> (8 * em_len - em_bits)
        one = db.find(b"\x01")
        if one < 0 or any(db[:one]):
            continue
        salt = bytes(db[one + 1 :])
        if hashlib.new(_HASH, bytes(8) + digest + salt).digest() == h:
            return salt
    return None


def harvest(vectors: Path) -> dict[str, list[str]]:
    """Salts (hex) per :func:`pss_message_id`, in first-appearance order over the manifest's
    SNP cases (collateral files, then the evidence), which is the order they were signed."""
    keys = [amd_rsa_key(p.stem.removeprefix("amd-")).public_key() for p in _KEYS.glob("amd-*")]
    manifest = json.loads((vectors / "manifest.json").read_text(encoding="utf-8"))
    seen: set[bytes] = set()
    salts: dict[str, list[str]] = {}
    for case in manifest["cases"]:
        if case["platform"] != "snp":
            continue
        for rel in [*case["collateral"], case["evidence"]]:
            for item in _signed_items((vectors / rel).read_bytes()):
                if item.signature_algorithm_oid.dotted_string != _RSASSA_PSS:
                    continue
                if item.signature in seen:
                    continue
                seen.add(item.signature)
                tbs = (
                    item.tbs_certificate_bytes
                    if isinstance(item, x509.Certificate)
                    else item.tbs_certlist_bytes
                )
                for key in keys:
                    salt = _salt(item.signature, tbs, key)
                    if salt is not None:
                        mid = pss_message_id(key, hashlib.new(_HASH, tbs).digest())
                        salts.setdefault(mid, []).append(salt.hex())
                        break
                else:
                    raise ValueError(f"{rel}: an RSA-PSS signature by no known test key")
    return salts


def write(salts: Mapping[str, Sequence[str]]) -> int:
    """Replace ``pss_salts.json`` with ``salts``; return how many salts it holds."""
    text = json.dumps(salts, indent=1, sort_keys=True) + "\n"
    SALTS_FILE.write_text(text, encoding="utf-8")
    return sum(len(v) for v in salts.values())
