"""trustee's generic ``tpm`` evidence: a TPM2 quote with the attestation key beside it.

trustee (``deps/verifier/src/tpm/mod.rs``) trusts the ``ak_public`` in the evidence as is;
nothing then ties the key to a TPM. cocoverify verifies the quote only under an AK the
caller pins: the same public key given as collateral (``--collateral ak.pem``, PEM or DER
SubjectPublicKeyInfo). Without it the evidence is refused (``untrusted_root``, exit 3).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cocoverify._core.json import loads_strict
from cocoverify.collateral import Collateral
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import AuthenticityError, MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.result import Appraisal, freeze
from cocoverify.trust import TrustStore
from cocoverify.wrappers.azure.parse import parse_tpm_attest, parse_tpm_signature
from cocoverify.wrappers.azure.verify import (
    check_pcr_digest,
    check_pcr_selection,
    verify_quote_signature,
)

__all__ = ["appraise_tpm", "describe_tpm", "detect_tpm"]


def _bad(message: str, field: str) -> MalformedEvidence:
    return MalformedEvidence(message, field=field, reason=Reason.MALFORMED)


def _load(data: bytes) -> Any:
    text = data.strip()
    if not text.startswith(b"{") or b'"ak_public"' not in text:
        return None
    try:
        return loads_strict(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def detect_tpm(data: bytes) -> str | None:
    """``tpm`` for trustee's generic TPM evidence JSON ({ak_public, tpm_quote}); no exceptions."""
    if not data[:64].lstrip().startswith(b"{"):
        return None
    obj = _load(data)
    if isinstance(obj, dict) and {"ak_public", "tpm_quote"} <= obj.keys():
        return "tpm"
    return None


def _b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"{field}: expected standard base64 text", field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{field}: not standard base64", field) from None


def appraise_tpm(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore | None = None,
    at: _dt.datetime | None = None,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Signature by the pinned AK, PCR selection = PCRs supplied, PCR digest; nonce at policy.

    ``trust``, ``at``, ``source`` and ``require_crl`` are the registry's pipeline arguments;
    a TPM quote has no certificate, no time and no CRL.
    """
    del trust, at, source, require_crl
    obj = _load(data)
    if not isinstance(obj, dict) or detect_tpm(data) is None:
        raise _bad("not trustee tpm evidence JSON", "evidence")
    quote = obj["tpm_quote"]
    if not isinstance(quote, dict):
        raise _bad("tpm_quote: expected an object", "tpm_quote")
    ak_der = _b64(obj["ak_public"], "ak_public")
    message = _b64(quote.get("message"), "tpm_quote.message")
    signature = parse_tpm_signature(_b64(quote.get("signature"), "tpm_quote.signature"))
    pcrs_hex = quote.get("pcrs")
    if not isinstance(pcrs_hex, list) or not all(isinstance(p, str) for p in pcrs_hex):
        raise _bad("tpm_quote.pcrs: expected a list of hex", "tpm_quote.pcrs")
    try:
        pcrs = tuple(bytes.fromhex(p) for p in pcrs_hex)
    except ValueError:
        raise _bad("tpm_quote.pcrs: not hex", "tpm_quote.pcrs") from None
    if any(len(p) != 32 for p in pcrs):
        raise _bad("tpm_quote.pcrs: a SHA-256 PCR is 32 bytes", "tpm_quote.pcrs")
    try:
        ak = serialization.load_der_public_key(ak_der)
    except ValueError:
        raise _bad("ak_public: not a DER SubjectPublicKeyInfo", "ak_public") from None
    if not isinstance(ak, rsa.RSAPublicKey):
        raise UnsupportedEvidence("ak_public: not an RSA key", reason=Reason.UNSUPPORTED_KEY_TYPE)
    attest = parse_tpm_attest(message)
    # 1. the AK is one the caller pinned (trustee trusts the evidence's own key)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    pinned = {
        k.public_bytes(*spki) for k in collateral.public_keys if isinstance(k, rsa.RSAPublicKey)
    }
    if ak.public_bytes(*spki) not in pinned:
        raise AuthenticityError(
            "the attestation key in tpm evidence is not pinned: give it as collateral "
            "(PEM or DER public key); trustee trusts it as is",
            reason=Reason.UNTRUSTED_ROOT,
        )
    # 2. signature, PCR selection = PCRs supplied, PCR digest
    nums = ak.public_numbers()
    n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
    e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
    verify_quote_signature(n, e, attest.raw, signature)
    check_pcr_selection(attest, len(pcrs))
    check_pcr_digest(attest, pcrs)
    claims: dict[str, Any] = {
        "report_data": attest.extra_data.hex(),
        "ak_public": obj["ak_public"],
    }
    if len(pcrs) > 8:
        claims["init_data"] = pcrs[8].hex()
    claims.update({f"pcr{i:02d}": p.hex() for i, p in enumerate(pcrs)})
    claims["azure"] = {
        "tpm_quote": {
            "qualified_signer": attest.qualified_signer,
            "extra_data": attest.extra_data,
            "clock": attest.clock,
            "reset_count": attest.reset_count,
            "restart_count": attest.restart_count,
            "safe": bool(attest.safe),
            "firmware_version": attest.firmware_version,
            "pcr_selection": [
                {"hash_alg": s.hash_alg, "pcrs": list(s.pcrs)} for s in attest.selections
            ],
            "pcr_digest": attest.pcr_digest,
        },
        "pcrs": {str(i): p for i, p in enumerate(pcrs)},
    }
    return Appraisal(
        tee="tpm",
        claims=freeze(claims),
        report_data=attest.extra_data,
        warnings=("tpm: no hardware root: the quote is as trustworthy as the pinned AK",),
    )


def describe_tpm(data: bytes) -> dict[str, Any]:
    """Decoded fields for ``cocoverify show``; nothing verified."""
    obj = _load(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("tpm_quote"), dict):
        raise _bad("not trustee tpm evidence JSON", "evidence")
    attest = parse_tpm_attest(_b64(obj["tpm_quote"].get("message"), "tpm_quote.message"))
    return {
        "kind": "tpm",
        "extra_data": attest.extra_data.hex(),
        "pcr_selection": [
            {"hash_alg": s.hash_alg, "pcrs": list(s.pcrs)} for s in attest.selections
        ],
        "pcr_digest": attest.pcr_digest.hex(),
        "pcrs": obj["tpm_quote"].get("pcrs"),
    }
