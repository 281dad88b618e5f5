"""Azure confidential VM evidence: bytes -> frozen views; no crypto.

Layouts: the HCL attestation report (azure-cvm-tooling ``hcl/mod.rs``, packed little-endian),
TPMS_ATTEST and TPMT_SIGNATURE (TCG TPM 2.0 Library Part 2 §10.12.8, §11.3.4, big-endian) and
trustee's ``az-snp-vtpm`` / ``az-tdx-vtpm`` evidence JSON (trustee ``az_*_vtpm/compat.rs``).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.jose import b64url_decode
from cocoverify._core.json import loads_strict
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "KINDS",
    "AzureEvidence",
    "HclReport",
    "PcrSelection",
    "TpmAttest",
    "VarData",
    "detect",
    "parse_evidence",
    "parse_hcl",
    "parse_tpm_attest",
    "parse_tpm_signature",
    "parse_var_data",
]

KINDS = ("az-snp-vtpm", "az-tdx-vtpm")

HCL_SIGNATURE = b"HCLA"
HCL_HW_OFFSET = 32
HCL_HW_SIZE = 1184  # SNP ATTESTATION_REPORT; a TDREPORT uses the first 1024 bytes
HCL_IGVM_OFFSET = HCL_HW_OFFSET + HCL_HW_SIZE  # 1216
HCL_VAR_OFFSET = HCL_IGVM_OFFSET + 20  # 1236
REPORT_TYPE_SNP = 2
REPORT_TYPE_TDX = 4
HASH_TYPE_SHA256 = 1

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018
TPM_ALG_SHA256 = 0x000B
TPM_ALG_RSASSA = 0x0014
PCR_COUNT = 24


def _bad(message: str, field: str, offset: int | None = None) -> MalformedEvidence:
    return MalformedEvidence(message, field=field, offset=offset, reason=Reason.MALFORMED)


def _short(field: str, offset: int, need: int, have: int) -> MalformedEvidence:
    return MalformedEvidence(
        f"{field}: needs {need} bytes, {have} left",
        field=field,
        offset=offset,
        reason=Reason.TRUNCATED,
    )


# --- HCL report ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HclReport:
    """The HCL attestation report: header, hardware report, IGVM request data, var data."""

    version: int
    report_size: int
    request_type: int
    status: int
    hw_report: bytes
    igvm_data_size: int
    igvm_version: int
    report_type: int
    hash_type: int
    var_data: bytes
    raw: bytes

    @property
    def kind(self) -> str:
        return "az-snp-vtpm" if self.report_type == REPORT_TYPE_SNP else "az-tdx-vtpm"

    @property
    def snp_report(self) -> bytes:
        """The SNP ATTESTATION_REPORT (1184 bytes)."""
        return self.hw_report

    @property
    def td_report(self) -> bytes:
        """The TDREPORT_STRUCT (1024 bytes)."""
        return self.hw_report[:1024]


def parse_hcl(data: bytes) -> HclReport:
    """An HCL report: every size checked against the bytes, the padding after var data zero."""
    data = bytes(data)
    if len(data) < HCL_VAR_OFFSET:
        raise _short("hcl_report", 0, HCL_VAR_OFFSET, len(data))
    if data[:4] != HCL_SIGNATURE:
        raise _bad(f"signature {data[:4].hex()} is not 'HCLA'", "hcl_report.signature", 0)
    version, report_size, request_type, status = struct.unpack_from("<4I", data, 4)
    if version not in (1, 2):
        raise UnsupportedEvidence(
            f"HCL report version {version} (known: 1, 2) [hcl_report.version @ offset 0x4]",
            reason=Reason.UNSUPPORTED_VERSION,
        )
    if any(data[20:32]):
        raise MalformedEvidence(
            "reserved bytes are not zero",
            field="hcl_report.reserved",
            offset=20,
            reason=Reason.RESERVED_NONZERO,
        )
    igvm_size, igvm_version, report_type, hash_type, var_size = struct.unpack_from(
        "<5I", data, HCL_IGVM_OFFSET
    )
    if report_type not in (REPORT_TYPE_SNP, REPORT_TYPE_TDX):
        raise UnsupportedEvidence(
            f"HCL report type {report_type} (known: 2 = SNP, 4 = TDX) "
            f"[hcl_report.report_type @ offset {HCL_IGVM_OFFSET + 8:#x}]",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    if hash_type != HASH_TYPE_SHA256:
        raise UnsupportedEvidence(
            f"HCL report data hash type {hash_type} (supported: 1 = SHA-256) "
            f"[hcl_report.hash_type @ offset {HCL_IGVM_OFFSET + 12:#x}]",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    end = HCL_VAR_OFFSET + var_size
    if end > len(data):
        raise _short(
            "hcl_report.variable_data", HCL_VAR_OFFSET, var_size, len(data) - HCL_VAR_OFFSET
        )
    if igvm_size != 20 + var_size:
        raise _bad(
            f"IGVM data_size {igvm_size} != 20 + variable_data_size {var_size}",
            "hcl_report.igvm_data_size",
            HCL_IGVM_OFFSET,
        )
    if report_size != HCL_VAR_OFFSET + var_size:
        raise _bad(
            f"report_size {report_size} != {HCL_VAR_OFFSET} + variable_data_size {var_size}",
            "hcl_report.report_size",
            8,
        )
    if any(data[end:]):
        raise MalformedEvidence(
            "bytes after the variable data are not zero",
            field="hcl_report.padding",
            offset=end,
            reason=Reason.TRAILING_DATA,
        )
    hw = data[HCL_HW_OFFSET:HCL_IGVM_OFFSET]
    if report_type == REPORT_TYPE_TDX and any(hw[1024:]):
        raise MalformedEvidence(
            "bytes after the 1024-byte TDREPORT are not zero",
            field="hcl_report.hw_report",
            offset=HCL_HW_OFFSET + 1024,
            reason=Reason.RESERVED_NONZERO,
        )
    return HclReport(
        version=version,
        report_size=report_size,
        request_type=request_type,
        status=status,
        hw_report=hw,
        igvm_data_size=igvm_size,
        igvm_version=igvm_version,
        report_type=report_type,
        hash_type=hash_type,
        var_data=data[HCL_VAR_OFFSET:end],
        raw=data,
    )


# --- HCL variable data (JSON) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VarData:
    """The runtime claims the HCL report binds: the AK, the VM configuration, user data."""

    ak_n: bytes
    ak_e: bytes
    vm_configuration: Mapping[str, Any]
    user_data: bytes | None
    keys: tuple[str, ...]


def _jwk_int(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise _bad(f"{field}: expected base64url text", field)
    try:
        return b64url_decode(value, strict=False)
    except ValueError:
        raise _bad(f"{field}: not base64url", field) from None


def parse_var_data(raw: bytes) -> VarData:
    """The var-data JSON: the first ``HCLAkPub`` key, ``vm-configuration``, ``user-data``."""
    try:
        obj = loads_strict(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad(
            "variable data is not UTF-8 JSON", "hcl_report.variable_data", HCL_VAR_OFFSET
        ) from None
    if not isinstance(obj, dict):
        raise _bad("variable data is not a JSON object", "hcl_report.variable_data", HCL_VAR_OFFSET)
    keys = obj.get("keys")
    if not isinstance(keys, list):
        raise _bad("variable data has no keys list", "variable_data.keys")
    ak = next((k for k in keys if isinstance(k, dict) and k.get("kid") == "HCLAkPub"), None)
    if ak is None:
        raise _bad("no HCLAkPub key in the variable data", "variable_data.keys")
    if ak.get("kty") != "RSA":
        raise UnsupportedEvidence(
            f"HCLAkPub key type {ak.get('kty')!r} (supported: RSA)",
            reason=Reason.UNSUPPORTED_KEY_TYPE,
        )
    n = _jwk_int(ak.get("n"), "variable_data.HCLAkPub.n")
    e = _jwk_int(ak.get("e"), "variable_data.HCLAkPub.e")
    config = obj.get("vm-configuration", {})
    if not isinstance(config, dict):
        raise _bad("vm-configuration is not an object", "variable_data.vm-configuration")
    user = obj.get("user-data")
    user_data = None
    if user is not None:
        try:
            user_data = bytes.fromhex(user) if isinstance(user, str) else None
        except ValueError:
            user_data = None
        if user_data is None:
            raise _bad("user-data is not hex", "variable_data.user-data")
    kids = tuple(str(k.get("kid")) for k in keys if isinstance(k, dict))
    return VarData(n, e, MappingProxyType(dict(config)), user_data, kids)


# --- TPMS_ATTEST --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PcrSelection:
    """One TPMS_PCR_SELECTION: a bank (hash algorithm) and the PCRs it selects."""

    hash_alg: int
    select: bytes
    pcrs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TpmAttest:
    """TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (TPM 2.0 Part 2 §10.12.8)."""

    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: int
    firmware_version: int
    selections: tuple[PcrSelection, ...]
    pcr_digest: bytes
    raw: bytes


class _Be:
    """Big-endian reader with offsets in its errors."""

    __slots__ = ("data", "pos", "where")

    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where = data, 0, where

    def take(self, n: int, field: str) -> bytes:
        if self.pos + n > len(self.data):
            raise _short(f"{self.where}.{field}", self.pos, n, len(self.data) - self.pos)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "big")

    def sized(self, field: str) -> bytes:
        return self.take(self.uint(2, field + ".size"), field)


def parse_tpm_attest(data: bytes) -> TpmAttest:
    """A quote's TPMS_ATTEST; no trailing bytes."""
    data = bytes(data)
    r = _Be(data, "tpm_quote.message")
    magic = r.uint(4, "magic")
    if magic != TPM_GENERATED_VALUE:
        raise _bad(f"magic {magic:#010x} is not TPM_GENERATED_VALUE", "tpm_quote.message.magic", 0)
    st = r.uint(2, "type")
    if st != TPM_ST_ATTEST_QUOTE:
        raise _bad(f"type {st:#06x} is not TPM_ST_ATTEST_QUOTE", "tpm_quote.message.type", 4)
    signer = r.sized("qualifiedSigner")
    extra = r.sized("extraData")
    clock = r.uint(8, "clockInfo.clock")
    reset = r.uint(4, "clockInfo.resetCount")
    restart = r.uint(4, "clockInfo.restartCount")
    safe_at = r.pos
    safe = r.uint(1, "clockInfo.safe")
    if safe > 1:
        raise _bad(f"clockInfo.safe {safe} is not a TPMI_YES_NO", "tpm_quote.message.safe", safe_at)
    fw = r.uint(8, "firmwareVersion")
    count = r.uint(4, "pcrSelect.count")
    if count > 16:  # TPM 2.0 Part 2: HASH_COUNT banks at most
        raise _bad(f"{count} PCR banks", "tpm_quote.message.pcrSelect.count", r.pos - 4)
    selections = []
    for i in range(count):
        alg = r.uint(2, f"pcrSelect[{i}].hash")
        size_at = r.pos
        size = r.uint(1, f"pcrSelect[{i}].sizeofSelect")
        if size > 4:  # PCR_SELECT_MAX for 32 PCRs
            raise _bad(f"sizeofSelect {size} > 4", f"tpm_quote.message.pcrSelect[{i}]", size_at)
        select = r.take(size, f"pcrSelect[{i}].pcrSelect")
        pcrs = tuple(8 * b + j for b in range(size) for j in range(8) if select[b] >> j & 1)
        selections.append(PcrSelection(alg, select, pcrs))
    digest = r.sized("pcrDigest")
    if r.pos != len(data):
        raise MalformedEvidence(
            f"{len(data) - r.pos} bytes after TPMS_ATTEST",
            field="tpm_quote.message",
            offset=r.pos,
            reason=Reason.TRAILING_DATA,
        )
    return TpmAttest(
        signer, extra, clock, reset, restart, safe, fw, tuple(selections), digest, data
    )


def parse_tpm_signature(data: bytes) -> bytes:
    """The RSA signature: bare (az-*), or a TPMT_SIGNATURE RSASSA/SHA-256 (TPM §11.3.4)."""
    data = bytes(data)
    if len(data) >= 6 and data[:4] == b"\x00\x14\x00\x0b":
        size = int.from_bytes(data[4:6], "big")
        if 6 + size != len(data):
            raise _bad("TPMT_SIGNATURE size does not match", "tpm_quote.signature", 4)
        return data[6:]
    if len(data) not in (256, 384, 512):
        raise _bad(f"signature of {len(data)} bytes", "tpm_quote.signature", 0)
    return data


# --- trustee evidence JSON ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AzureEvidence:
    """trustee's az-snp-vtpm / az-tdx-vtpm evidence (versions 0, 1, 2)."""

    kind: str
    version: int
    signature: bytes
    message: bytes
    pcrs: tuple[bytes, ...]
    hcl_report: bytes
    vcek: bytes | None = None
    td_quote: bytes | None = None


def _looks(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    if {"quote", "report", "vcek"} <= obj.keys() and isinstance(obj.get("quote"), dict):
        return "az-snp-vtpm"
    if {"tpm_quote", "hcl_report"} <= obj.keys():
        if "vcek" in obj:
            return "az-snp-vtpm"
        if "td_quote" in obj:
            return "az-tdx-vtpm"
    return None


def _load(data: bytes) -> Any:
    text = data.strip()
    if not text.startswith(b"{"):
        return None
    if b'"hcl_report"' not in text and b'"vcek"' not in text:
        return None
    try:
        return loads_strict(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def detect(data: bytes) -> str | None:
    """``az-snp-vtpm`` / ``az-tdx-vtpm`` when ``data`` is trustee's evidence JSON; no exceptions."""
    if not data[:64].lstrip().startswith(b"{"):
        return None
    return _looks(_load(data))


def _bytes_list(value: Any, field: str) -> bytes:
    if not isinstance(value, list) or not all(type(b) is int and 0 <= b <= 255 for b in value):
        raise _bad(f"{field}: expected a list of byte values", field)
    return bytes(value)


def _hex(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"{field}: expected hex text", field)
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise _bad(f"{field}: not hex", field) from None


#: serde_with Base64<UrlSafe>: padded or not
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _b64url(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"{field}: expected base64url text", field)
    if not _B64URL.fullmatch(value):
        raise _bad(f"{field}: not base64url", field)
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _bad(f"{field}: not base64url", field) from None


def _pcrs(value: Any, field: str, one: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise _bad(f"{field}: expected a list", field)
    out = tuple(one(v, f"{field}[{i}]") for i, v in enumerate(value))
    for i, pcr in enumerate(out):
        if len(pcr) != 32:
            raise _bad(f"{field}[{i}]: a SHA-256 PCR is 32 bytes, got {len(pcr)}", field)
    return out


def parse_evidence(data: bytes | Mapping[str, Any]) -> AzureEvidence:
    """trustee's evidence JSON, shapes as ``compat.rs`` (V2, V1, V0; ``version`` exact)."""
    obj = dict(data) if isinstance(data, Mapping) else _load(bytes(data))
    kind = _looks(obj)
    if kind is None or not isinstance(obj, dict):
        raise _bad("not az-snp-vtpm / az-tdx-vtpm evidence JSON", "evidence")
    if "version" not in obj:  # V0: byte arrays as integer lists
        q = obj["quote"] if "quote" in obj else obj.get("tpm_quote")
        where = "quote" if "quote" in obj else "tpm_quote"
        if not isinstance(q, dict):
            raise _bad(f"{where}: expected an object", where)
        hcl_key = "report" if kind == "az-snp-vtpm" else "hcl_report"
        if kind == "az-snp-vtpm" and "report" not in obj:
            raise _bad("version 0 az-snp-vtpm evidence needs 'report'", "report")
        vcek = None
        if kind == "az-snp-vtpm":
            v = obj.get("vcek")
            if not isinstance(v, str):
                raise _bad("vcek: expected PEM text", "vcek")
            vcek = v.encode("ascii", "replace")
        return AzureEvidence(
            kind=kind,
            version=0,
            signature=_bytes_list(q.get("signature"), f"{where}.signature"),
            message=_bytes_list(q.get("message"), f"{where}.message"),
            pcrs=_pcrs(q.get("pcrs"), f"{where}.pcrs", _bytes_list),
            hcl_report=_bytes_list(obj.get(hcl_key), hcl_key),
            vcek=vcek,
            td_quote=_bytes_list(obj["td_quote"], "td_quote") if kind == "az-tdx-vtpm" else None,
        )
    version = obj["version"]
    if type(version) is not int or version not in (1, 2):
        raise UnsupportedEvidence(
            f"{kind} evidence version {version!r} (known: 0, 1, 2) [version]",
            reason=Reason.UNSUPPORTED_VERSION,
        )
    q = obj.get("tpm_quote")
    if not isinstance(q, dict):
        raise _bad("tpm_quote: expected an object", "tpm_quote")
    return AzureEvidence(
        kind=kind,
        version=version,
        signature=_hex(q.get("signature"), "tpm_quote.signature"),
        message=_hex(q.get("message"), "tpm_quote.message"),
        pcrs=_pcrs(q.get("pcrs"), "tpm_quote.pcrs", _hex),
        hcl_report=_b64url(obj.get("hcl_report"), "hcl_report"),
        vcek=_b64url(obj["vcek"], "vcek") if kind == "az-snp-vtpm" else None,
        td_quote=_b64url(obj["td_quote"], "td_quote") if kind == "az-tdx-vtpm" else None,
    )
