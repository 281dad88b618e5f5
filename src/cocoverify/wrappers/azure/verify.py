"""Azure vTPM checks: the quote signature by the HCL attestation key, the bindings."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cocoverify.errors import AuthenticityError, Reason, SignatureInvalid, UnsupportedEvidence
from cocoverify.wrappers.azure.parse import PCR_COUNT, TPM_ALG_SHA256, TpmAttest

__all__ = ["check_pcr_digest", "check_pcr_selection", "check_report_data", "verify_quote_signature"]


def verify_quote_signature(n: bytes, e: bytes, message: bytes, signature: bytes) -> None:
    """RSASSA-PKCS1-v1_5 with SHA-256 over the raw TPMS_ATTEST (TPM 2.0 Part 1 §18.4)."""
    modulus = int.from_bytes(n, "big")
    exponent = int.from_bytes(e, "big")
    if modulus.bit_length() < 2048 or exponent < 3 or exponent % 2 == 0:
        raise UnsupportedEvidence(
            f"HCLAkPub: RSA-{modulus.bit_length()} e={exponent} is not an accepted key",
            reason=Reason.UNSUPPORTED_KEY_TYPE,
        )
    try:
        key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(
            "the vTPM quote is not signed by HCLAkPub from the HCL variable data",
            reason=Reason.SIGNATURE_INVALID,
        ) from None


def check_report_data(hw_report_data: bytes, var_data: bytes, where: str) -> None:
    """REPORT_DATA = SHA-256(var data) || 32 zero bytes (the HCL binds its var data)."""
    want = hashlib.sha256(var_data).digest() + bytes(32)
    if not hmac.compare_digest(hw_report_data, want):
        raise AuthenticityError(
            f"HCL variable data digest {want[:32].hex()} is not in the {where} REPORT_DATA "
            f"({hw_report_data.hex()}, expected SHA-256 then 32 zero bytes)",
            reason=Reason.BINDING_INVALID,
        )


def check_pcr_selection(attest: TpmAttest, count: int) -> None:
    """Stricter than trustee: one SHA-256 bank selecting exactly PCR 0..count-1, all supplied."""
    banks = attest.selections
    if len(banks) != 1 or banks[0].hash_alg != TPM_ALG_SHA256:
        raise AuthenticityError(
            f"the quote selects {len(banks)} PCR bank(s) "
            f"{[f'{b.hash_alg:#06x}' for b in banks]}; expected one SHA-256 bank",
            reason=Reason.BINDING_INVALID,
        )
    selected = banks[0].pcrs
    if selected != tuple(range(count)) or count != PCR_COUNT:
        raise AuthenticityError(
            f"the quote selects PCRs {list(selected)} but {count} PCR values were supplied "
            f"(expected PCR 0..{PCR_COUNT - 1})",
            reason=Reason.BINDING_INVALID,
        )


def check_pcr_digest(attest: TpmAttest, pcrs: tuple[bytes, ...]) -> None:
    """pcrDigest = SHA-256(PCR values in selection order) (TPM 2.0 Part 3 TPM2_Quote)."""
    got = hashlib.sha256(b"".join(pcrs)).digest()
    if not hmac.compare_digest(got, attest.pcr_digest):
        raise AuthenticityError(
            f"digest of the supplied PCRs {got.hex()} does not match the quote's pcrDigest "
            f"{attest.pcr_digest.hex()}",
            reason=Reason.BINDING_INVALID,
        )
