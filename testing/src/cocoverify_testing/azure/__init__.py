"""A fake Azure confidential VM: HCL report + vTPM quote under its own attestation key.

By default the hardware report is not built: the wrapper receives it through its ``inner``
callable, so :meth:`AzureBuilder.inner` returns a stand-in appraisal whose REPORT_DATA is
whatever the builder bound (one-defect negatives change exactly one thing). With ``amd`` (a
:class:`~cocoverify_testing.snp.FakeAmdPKI`), ``az-snp-vtpm`` evidence carries a real fake
SNP report signed by that PKI's VCEK (and the VCEK in its ``vcek`` field), so it verifies end
to end through ``cocoverify.verify`` (the generated vectors, ``vectors/azure``); with ``intel`` (a
:class:`~cocoverify_testing.intel.FakeIntelPKI`), ``az-tdx-vtpm`` evidence carries a real fake
TD quote whose REPORTDATA binds the var data. The RSA keys
are fixed files (``keys/azure-ak-<n>.pem``), so the evidence is the same bytes every run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cocoverify.result import Appraisal
from cocoverify_testing.intel.pki import FakeIntelPKI
from cocoverify_testing.intel.quotes import QuoteBuilder
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import FakeAmdPKI, SnpReportBuilder

__all__ = ["DEFECTS", "AzureBuilder", "attestation_key"]

#: one-defect negatives :meth:`AzureBuilder.evidence` knows, with the reason each yields
DEFECTS = {
    "quote_signed_by_other_key": "signature_invalid",
    "signature_bit_flip": "signature_invalid",
    "pcr_value_changed": "binding_invalid",
    "pcr_missing": "binding_invalid",
    "selection_narrower": "binding_invalid",
    "selection_sha1_bank": "binding_invalid",
    "var_data_not_bound": "binding_invalid",
    "report_data_tail_nonzero": "binding_invalid",
    "user_data_mismatch": "binding_invalid",
    "vmpl_1": "binding_invalid",
    "tdreport_report_data": "binding_invalid",
    "hcl_signature": "malformed",
    "hcl_report_type": "unsupported_tee_type",
    "hcl_hash_type": "unsupported_algorithm",
    "hcl_trailing": "trailing_data",
    "attest_magic": "malformed",
    "attest_trailing": "trailing_data",
    "attest_truncated": "truncated",
    "no_ak": "malformed",
    "version_3": "unsupported_version",
}


_KEYS = Path(__file__).resolve().parent.parent / "keys"


@cache
def attestation_key(seed: int = 0) -> rsa.RSAPrivateKey:
    """A fixed RSA-2048 key per seed (0: the AK, 1: the EK, 2: another key)."""
    text = (_KEYS / f"azure-ak-{seed}.pem").read_bytes()
    key = serialization.load_pem_private_key(text[text.index(b"-----BEGIN") :], password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwk(key: rsa.RSAPublicKey, kid: str, ops: str) -> dict[str, Any]:
    nums = key.public_numbers()
    n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
    e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
    return {"kid": kid, "key_ops": [ops], "kty": "RSA", "e": _b64url(e), "n": _b64url(n)}


@dataclass
class AzureBuilder:
    """Builds trustee-shaped ``az-snp-vtpm`` / ``az-tdx-vtpm`` evidence."""

    kind: str = "az-snp-vtpm"
    version: int = 2
    nonce: bytes = b"challenge"
    pcrs: list[bytes] = field(default_factory=lambda: [bytes([i]) * 32 for i in range(24)])
    vm_configuration: dict[str, Any] = field(
        default_factory=lambda: {
            "console-enabled": False,
            "secure-boot": True,
            "tpm-enabled": True,
            "vmUniqueId": "00000000-0000-0000-0000-000000000001",
        }
    )
    #: sign a real SNP report into the HCL (az-snp-vtpm) with this fake AMD PKI
    amd: FakeAmdPKI | None = None
    #: sign a real TD quote (az-tdx-vtpm ``td_quote``) with this fake Intel PKI
    intel: FakeIntelPKI | None = None

    # --- pieces -----------------------------------------------------------------------------

    def var_data(self, defect: str | None = None) -> bytes:
        ak = attestation_key(0).public_key()
        keys = [] if defect == "no_ak" else [_jwk(ak, "HCLAkPub", "sign")]
        keys.append(_jwk(attestation_key(1).public_key(), "HCLEkPub", "encrypt"))
        user = self.nonce if defect != "user_data_mismatch" else b"other"
        obj = {
            "keys": keys,
            "vm-configuration": self.vm_configuration,
            "user-data": (user + bytes(64 - len(user))).hex().upper(),
        }
        return json.dumps(obj, separators=(",", ":")).encode()

    def hw_report_data(self, var: bytes, defect: str | None = None) -> bytes:
        digest = hashlib.sha256(var).digest()
        if defect == "var_data_not_bound":
            digest = hashlib.sha256(var + b" ").digest()
        tail = b"\x01" + bytes(31) if defect == "report_data_tail_nonzero" else bytes(32)
        return digest + tail

    def hcl(self, var: bytes, defect: str | None = None) -> bytes:
        tdx = self.kind == "az-tdx-vtpm"
        hw = bytearray(1184)
        if not tdx and self.amd is not None:
            vmpl = 1 if defect == "vmpl_1" else 0
            report_data = self.hw_report_data(var, defect)
            hw = bytearray(
                SnpReportBuilder.for_product(self.amd.product)
                .set(report_data=report_data, vmpl=vmpl)
                .sign(self.amd)
            )
        if tdx:
            hw[0] = 0x81
            hw[128:192] = self.hw_report_data(var, defect)
            if defect == "tdreport_report_data":
                hw[128] ^= 1
        report_type = 4 if tdx else 2
        if defect == "hcl_report_type":
            report_type = 3
        hash_type = 2 if defect == "hcl_hash_type" else 1
        out = bytearray(b"HCLA" if defect != "hcl_signature" else b"HCLB")
        out += struct.pack("<4I", 2, 1236 + len(var), 2, 0) + bytes(12) + bytes(hw)
        out += struct.pack("<5I", 20 + len(var), 1, report_type, hash_type, len(var)) + var
        out += bytes(max(0, 2600 - len(out)))
        if defect == "hcl_trailing":
            out[-1] = 1
        return bytes(out)

    def attest(self, defect: str | None = None) -> bytes:
        pcrs = list(self.pcrs)
        select, alg = b"\xff\xff\xff", 0x000B
        if defect == "selection_narrower":
            select = b"\xff\xff\x7f"
        if defect == "selection_sha1_bank":
            alg = 0x0004
        name = b"\x00\x0b" + hashlib.sha256(b"ak public area").digest()
        out = bytearray()
        out += (0xFF544347 if defect != "attest_magic" else 0xFF544348).to_bytes(4, "big")
        out += b"\x80\x18" + len(name).to_bytes(2, "big") + name
        out += len(self.nonce).to_bytes(2, "big") + self.nonce
        out += struct.pack(">QIIB", 123456, 1, 0, 1) + (0x2020031200120003).to_bytes(8, "big")
        out += struct.pack(">IHB", 1, alg, len(select)) + select
        digest = hashlib.sha256(b"".join(pcrs)).digest()
        out += len(digest).to_bytes(2, "big") + digest
        if defect == "attest_trailing":
            out += b"\x00"
        if defect == "attest_truncated":
            del out[-5:]
        return bytes(out)

    def sign(self, message: bytes, defect: str | None = None) -> bytes:
        key = attestation_key(2 if defect == "quote_signed_by_other_key" else 0)
        sig = bytearray(key.sign(message, padding.PKCS1v15(), hashes.SHA256()))
        if defect == "signature_bit_flip":
            sig[0] ^= 1
        return bytes(sig)

    # --- evidence and its stand-in hardware appraisal --------------------------------------

    def evidence(self, defect: str | None = None) -> bytes:
        """The evidence JSON (``version`` 0 uses integer lists, as trustee's V0)."""
        if defect is not None and defect not in DEFECTS:
            raise KeyError(defect)
        var = self.var_data(defect)
        hcl = self.hcl(var, defect)
        message = self.attest(defect)
        sig = self.sign(message, defect)
        pcrs = list(self.pcrs)
        if defect == "pcr_value_changed":
            pcrs[5] = bytes(32)
        if defect == "pcr_missing":
            pcrs = pcrs[:23]
        version = 3 if defect == "version_3" else self.version
        tdx = self.kind == "az-tdx-vtpm"
        if version == 0:
            quote = {
                "signature": list(sig),
                "message": list(message),
                "pcrs": [list(p) for p in pcrs],
            }
            if tdx:
                obj: dict[str, Any] = {"tpm_quote": quote, "hcl_report": list(hcl), "td_quote": [1]}
            else:
                obj = {"quote": quote, "report": list(hcl), "vcek": "-----BEGIN CERTIFICATE-----"}
        else:
            obj = {
                "version": version,
                "tpm_quote": {
                    "signature": sig.hex(),
                    "message": message.hex(),
                    "pcrs": [p.hex() for p in pcrs],
                },
                "hcl_report": base64.urlsafe_b64encode(hcl).decode(),
            }
            extra = b"\x01"
            if not tdx and self.amd is not None:
                extra = pem(self.amd.vcek_for(hcl[32 : 32 + 1184]))
            if tdx and self.intel is not None:
                extra = self.td_quote(var, defect)
            obj["td_quote" if tdx else "vcek"] = base64.urlsafe_b64encode(extra).decode()
        return json.dumps(obj).encode()

    def td_quote(self, var: bytes, defect: str | None = None) -> bytes:
        """A TD quote from :attr:`intel` whose REPORTDATA binds ``var`` (SHA-256, zeros)."""
        assert self.intel is not None
        report_data = self.hw_report_data(var, defect)
        return QuoteBuilder.tdx().report_data(report_data).sign(self.intel)

    def tpm_evidence(self, defect: str | None = None) -> bytes:
        """trustee's generic ``tpm`` evidence: base64 SPKI AK, TPMT_SIGNATURE, TPMS_ATTEST."""
        message = self.attest(defect)
        sig = self.sign(message, defect)
        spki = (
            attestation_key(0)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        pcrs = list(self.pcrs)
        if defect == "pcr_value_changed":
            pcrs[5] = bytes(32)
        obj = {
            "ak_public": base64.b64encode(spki).decode(),
            "tpm_quote": {
                "signature": base64.b64encode(b"\x00\x14\x00\x0b\x01\x00" + sig).decode(),
                "message": base64.b64encode(message).decode(),
                "pcrs": [p.hex() for p in pcrs],
            },
        }
        return json.dumps(obj).encode()

    def ak_pem(self) -> bytes:
        """The attestation key as a PEM public key (what a caller pins for ``tpm`` evidence)."""
        return (
            attestation_key(0)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def inner(self, defect: str | None = None) -> Callable[[bytes, tuple[bytes, ...]], Appraisal]:
        """A stand-in for the TEE pipeline: an appraisal binding this builder's var data."""
        report_data = self.hw_report_data(self.var_data(defect), defect)
        tee = "tdx" if self.kind == "az-tdx-vtpm" else "snp"
        claims: dict[str, Any] = {"vmpl": 1 if defect == "vmpl_1" else 0}
        if tee == "snp":
            claims.update(
                policy={"abi_major": 0, "abi_minor": 31, "smt": True, "migrate_ma": False,
                        "debug": False, "single_socket": False},
                reported_tcb={"bootloader": 4, "tee": 0, "snp": 24, "microcode": 219},
                platform_info={"smt_en": True, "tsme_en": False},
                measurement=bytes(range(48)),
            )  # fmt: skip
        base = Appraisal(
            tee=tee, claims=MappingProxyType(claims), tcb_status="UpToDate", report_data=report_data
        )

        def appraise(hw: bytes, files: tuple[bytes, ...]) -> Appraisal:
            del hw, files
            return replace(base)

        return appraise
