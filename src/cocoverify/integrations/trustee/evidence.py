"""Trustee evidence JSON, one shape per TEE, turned into what :func:`cocoverify.verify` takes.

The shapes are trustee's (``deps/verifier/src/{tdx,sgx,snp,cca}/mod.rs``: ``TdxEvidence``,
``SgxEvidence``, ``SnpEvidence``, ``CcaEvidence``; ``se/ibmse.rs``: ``SeAttestationResponse``;
the Azure vTPM shapes of ``az_{snp,tdx}_vtpm/compat.rs``); the SNP report is the ``sev`` crate's
serde ``AttestationReport`` (virtee/sev ``src/firmware/guest/types/snp.rs``). Parsing only:
nothing here is verified.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from cocoverify._core.jose import b64url_decode
from cocoverify._core.json import loads_strict
from cocoverify.collateral import Collateral
from cocoverify.errors import ConfigurationError, MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.hazmat import CertTable, CertTableEntry, SnpReport, encode_tcb, table_collateral
from cocoverify.wrappers.azure.parse import detect as azure_kind

__all__ = [
    "AZURE_TEES",
    "SE_RESPONSE_KEYS",
    "SNP_REPORT_KEYS",
    "TEES",
    "TrusteeEvidence",
    "parse_evidence",
    "snp_report_from_json",
]

#: The tee strings this adapter serves (trustee ``deps/verifier/src/lib.rs``, ``Tee``).
TEES = ("tdx", "sgx", "snp", "cca", "nvidia")

#: trustee's Azure vTPM kinds: the evidence JSON itself is what cocoverify verifies
#: (recognised by content, docs/azure.md); parse_evidence checks the kind it names
AZURE_TEES = ("az-snp-vtpm", "az-tdx-vtpm")

#: trustee's IBM Secure Execution ``SeAttestationResponse`` (se/ibmse.rs): every field standard
#: base64; the fields are decoded and checked by the ``se`` pipeline (docs/ibmse.md)
SE_RESPONSE_KEYS = (
    "measurement", "additional_data", "user_data", "cuid", "encr_measurement_key",
    "encr_request_nonce", "image_hdr_tags",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class TrusteeEvidence:
    """Trustee evidence JSON turned into what :func:`cocoverify.verify` takes."""

    tee: str
    data: bytes
    collateral: Collateral
    warnings: tuple[str, ...] = ()
    #: TDX ``cc_eventlog``: the CCEL log area, replayed against RTMR0..3 by the adapter
    cc_eventlog: bytes | None = None


def _malformed(message: str, field: str) -> MalformedEvidence:
    return MalformedEvidence(message, field=field, reason=Reason.MALFORMED)


#: base64url with optional padding: the AS REST ``evidence`` field as clients write it.
_B64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def _json_object(evidence: Mapping[str, Any] | bytes | str) -> dict[str, Any] | bytes:
    """The evidence object; raw bytes come back unchanged when they are not JSON at all."""
    if isinstance(evidence, Mapping):
        return dict(evidence)
    if isinstance(evidence, str):
        evidence = evidence.encode("utf-8")
    if not isinstance(evidence, bytes | bytearray | memoryview):
        raise ConfigurationError(
            "evidence: expected a JSON object, JSON text or bytes", reason=Reason.INVALID_ARGUMENT
        )
    data = bytes(evidence)
    text = data.strip()
    if not text.startswith((b"{", b'"')):
        # AS REST / gRPC: base64url (no padding) of the JSON bytes
        # (trustee attestation-service/src/bin/restful/mod.rs)
        if not text or any(c not in _B64URL for c in text):
            return data
        try:
            decoded = b64url_decode(text.decode("ascii"), strict=False)
        except ValueError:
            return data
        if not decoded.strip().startswith((b"{", b'"')):
            return data
        text = decoded
    try:
        value = loads_strict(text)  # serde_json: duplicate fields and NaN are errors
        if isinstance(value, str):  # doubly encoded, as CCA evidence travels in the KBS
            value = loads_strict(value)
    except ValueError:
        raise _malformed("evidence is not valid JSON", "evidence") from None
    if not isinstance(value, dict):
        raise _malformed("evidence JSON is not an object", "evidence")
    return value


def _b64_std(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise _malformed(f"{field}: expected standard base64 text", field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(f"{field}: not standard base64", field) from None


def _byte_list(value: Any, field: str, size: int | None = None) -> bytes:
    """A serde ``Vec<u8>`` / ``[u8; N]``: a JSON list of integers 0..255."""
    if not isinstance(value, list) or not all(type(b) is int and 0 <= b <= 255 for b in value):
        raise _malformed(f"{field}: expected a list of byte values", field)
    if size is not None and len(value) != size:
        raise _malformed(f"{field}: expected {size} bytes, got {len(value)}", field)
    return bytes(value)


def _uint(value: Any, field: str, bits: int) -> int:
    if type(value) is not int or not 0 <= value < 1 << bits:
        raise _malformed(f"{field}: expected an unsigned {bits}-bit integer", field)
    return value


def _extra_keys(obj: Mapping[str, Any], known: tuple[str, ...], where: str) -> list[str]:
    extra = sorted(set(obj) - set(known))
    return [f"{where}: ignored unknown keys {extra}"] if extra else []


# --- SNP: the sev crate's serde AttestationReport -------------------------------------------


def _tcb(value: Any, field: str) -> tuple[bytes, bool]:
    """sev ``TcbVersion`` {fmc|null, bootloader, tee, snp, microcode} -> 8 raw bytes.

    With ``fmc`` set it is a Turin TCB, else Milan/Genoa (AMD SEV-SNP ABI spec, TCB_VERSION);
    returns (raw, turin).
    """
    if not isinstance(value, Mapping):
        raise _malformed(f"{field}: expected an object", field)
    parts = {
        k: _uint(value.get(k), f"{field}.{k}", 8) for k in ("bootloader", "tee", "snp", "microcode")
    }
    fmc = value.get("fmc")
    if fmc is None:
        return encode_tcb("Milan", **parts), False
    return encode_tcb("Turin", fmc=_uint(fmc, f"{field}.fmc", 8), **parts), True


#: The plain fields of sev's serde ``AttestationReport``, checked in this order: (serde key,
#: :class:`SnpReport` field, "u" with its bits or "b" with its byte length).
_SNP_FIELDS = (
    ("guest_svn", "guest_svn", "u", 32),
    ("policy", "policy", "u", 64),
    ("family_id", "family_id", "b", 16),
    ("image_id", "image_id", "b", 16),
    ("vmpl", "vmpl", "u", 32),
    ("sig_algo", "signature_algo", "u", 32),
    ("plat_info", "platform_info", "u", 64),
    ("key_info", "key_info", "u", 32),
    ("report_data", "report_data", "b", 64),
    ("measurement", "measurement", "b", 48),
    ("host_data", "host_data", "b", 32),
    ("id_key_digest", "id_key_digest", "b", 48),
    ("author_key_digest", "author_key_digest", "b", 48),
    ("report_id", "report_id", "b", 32),
    ("report_id_ma", "report_id_ma", "b", 32),
    ("chip_id", "chip_id", "b", 64),
)


def snp_report_from_json(obj: Any) -> bytes:
    """The 1184-byte report from the ``sev`` crate's serde form.

    Field order and sizes as in sev's ``AttestationReport``; r and s are 72-byte
    little-endian values. The bytes are re-parsed (reserved ranges, version rules) and the
    signature checked by the pipeline.
    """
    if not isinstance(obj, Mapping):
        raise _malformed("attestation_report: expected an object", "attestation_report")
    f = "attestation_report"
    fields: dict[str, Any] = {"version": _uint(obj.get("version"), f"{f}.version", 32)}
    turin = set()
    for name in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        fields[name], is_turin = _tcb(obj.get(name), f"{f}.{name}")
        turin.add(is_turin)
    if len(turin) != 1:
        raise _malformed("TCB versions mix Turin (fmc) and earlier layouts", f"{f}.reported_tcb")
    for name in ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step"):
        v = obj.get(name)
        fields[name] = None if v is None else _uint(v, f"{f}.{name}", 8)
    if len({fields[n] is None for n in ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step")}) != 1:
        raise _malformed("cpuid fields must all be set or all be null", f"{f}.cpuid_fam_id")
    for name in ("launch_mit_vector", "current_mit_vector"):
        v = obj.get(name)
        fields[name] = None if v is None else _uint(v, f"{f}.{name}", 64)
    for name in ("current", "committed"):
        ver = obj.get(name)
        if not isinstance(ver, Mapping):
            raise _malformed(f"{f}.{name}: expected {{major, minor, build}}", f"{f}.{name}")
        for k in ("major", "minor", "build"):
            fields[f"{name}_{k}"] = _uint(ver.get(k), f"{f}.{name}.{k}", 8)
    sig = obj.get("signature")
    if not isinstance(sig, Mapping):
        raise _malformed(f"{f}.signature: expected {{r, s}}", f"{f}.signature")
    r = _byte_list(sig.get("r"), f"{f}.signature.r", 72)
    s = _byte_list(sig.get("s"), f"{f}.signature.s", 72)
    fields["signature"] = r + s + bytes(512 - 144)
    for key, name, kind, size in _SNP_FIELDS:
        value, where = obj.get(key), f"{f}.{key}"
        fields[name] = _uint(value, where, size) if kind == "u" else _byte_list(value, where, size)
    return SnpReport(**fields).to_bytes()


#: The keys of the ``sev`` crate's serde ``AttestationReport``, in its field order.
SNP_REPORT_KEYS = (
    "version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo",
    "current_tcb", "plat_info", "key_info", "report_data", "measurement", "host_data",
    "id_key_digest", "author_key_digest", "report_id", "report_id_ma", "reported_tcb",
    "cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb", "current",
    "committed", "launch_tcb", "launch_mit_vector", "current_mit_vector", "signature",
)  # fmt: skip


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: sev ``CertType`` serde names -> the certificate-table roles of the SNP pipeline.
_CERT_TYPES = {"ARK": "ark", "ASK": "ask", "VCEK": "vcek", "VLEK": "vlek", "CRL": "crl"}


def _snp_cert_chain(value: Any) -> tuple[Collateral, list[str]]:
    """``cert_chain`` entries -> collateral, each checked against its declared type."""
    if value is None:
        return Collateral(), []
    if not isinstance(value, list):
        raise _malformed("cert_chain: expected a list", "cert_chain")
    entries: list[CertTableEntry] = []
    warnings: list[str] = []
    for i, item in enumerate(value):
        field = f"cert_chain[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"cert_type", "data"}:
            raise _malformed(f"{field}: expected {{cert_type, data}}", field)
        ctype = item.get("cert_type")
        data = _byte_list(item.get("data"), f"{field}.data")
        if ctype == "Empty":
            continue
        if isinstance(ctype, Mapping) and set(ctype) == {"OTHER"}:
            guid = ctype["OTHER"]  # sev: a UUID string; anything else is not that type
            if not isinstance(guid, str) or not _UUID.fullmatch(guid):
                raise _malformed(f"{field}.cert_type: OTHER is not a UUID", f"{field}.cert_type")
            warnings.append(f"{field}: OTHER certificate {guid} ignored")
            continue
        if not isinstance(ctype, str) or ctype not in _CERT_TYPES:
            raise _malformed(f"{field}.cert_type: unknown type {ctype!r}", f"{field}.cert_type")
        entries.append(CertTableEntry(guid=ctype, role=_CERT_TYPES[ctype], data=data))
    certs, crls, _ = table_collateral(CertTable(entries=tuple(entries)))
    chains = tuple((c,) for c in certs)
    return Collateral(chains=chains, crls=tuple(crls), sources=("evidence cert_chain",)), warnings


# --- one shape per TEE ------------------------------------------------------------------------


def parse_evidence(tee: str, evidence: Mapping[str, Any] | bytes | str) -> TrusteeEvidence:
    """Trustee evidence for ``tee`` -> bytes for the pipeline plus evidence collateral.

    Accepts the JSON object, its JSON text, or the AS REST ``evidence`` string (base64url of
    the JSON bytes). For ``snp`` the report may also be raw bytes (whole evidence or the
    ``attestation_report`` value as a byte list). Unknown keys are ignored with a warning, as
    serde does; a missing or mistyped field is MalformedEvidence.
    """
    if tee in AZURE_TEES:
        return _azure_evidence(tee, evidence)
    if tee == "se":
        return _se_evidence(evidence)
    if tee not in TEES:
        raise UnsupportedEvidence(
            f"tee {tee!r}: this adapter serves {', '.join((*TEES, *AZURE_TEES, 'se'))}",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    obj = _json_object(evidence)
    if isinstance(obj, bytes):
        if tee != "snp":
            raise _malformed(f"{tee} evidence must be a JSON object (§2)", "evidence")
        return TrusteeEvidence(tee, obj, Collateral())
    if tee in ("tdx", "sgx"):
        return _intel_evidence(tee, obj)
    if tee == "snp":
        return _snp_evidence(obj)
    if tee == "nvidia":
        return _nvidia_evidence(obj)
    warnings = _extra_keys(obj, ("token",), tee)
    return TrusteeEvidence(
        tee, _byte_list(obj.get("token"), "token"), Collateral(), tuple(warnings)
    )


def _azure_evidence(tee: str, evidence: Mapping[str, Any] | bytes | str) -> TrusteeEvidence:
    """``az-snp-vtpm`` / ``az-tdx-vtpm`` evidence JSON, passed on as JSON bytes."""
    obj = _json_object(evidence)
    if isinstance(obj, bytes):
        raise _malformed(f"{tee} evidence must be a JSON object", "evidence")
    data = json.dumps(obj).encode("utf-8")
    kind = azure_kind(data)
    if kind != tee:
        raise UnsupportedEvidence(
            f"evidence for tee {tee!r} is {kind or 'not Azure vTPM'} evidence",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    return TrusteeEvidence(tee, data, Collateral())


def _se_evidence(evidence: Mapping[str, Any] | bytes | str) -> TrusteeEvidence:
    """``SeAttestationResponse``: every field present, passed on as its JSON (the ``se``
    pipeline recognises it and decodes each field strictly); unknown keys are a warning."""
    obj = _json_object(evidence)
    if isinstance(obj, bytes):
        raise _malformed("se evidence must be a JSON object", "evidence")
    missing = [k for k in SE_RESPONSE_KEYS if k not in obj]
    if missing:
        # serde: a missing field is "Failed to deserialize evidence"
        raise _malformed(f"se evidence lacks {missing}", missing[0])
    warnings = _extra_keys(obj, SE_RESPONSE_KEYS, "se")
    data = json.dumps({k: obj[k] for k in SE_RESPONSE_KEYS}).encode("utf-8")
    return TrusteeEvidence("se", data, Collateral(), tuple(warnings))


def _intel_evidence(tee: str, obj: dict[str, Any]) -> TrusteeEvidence:
    """``TdxEvidence`` {quote, cc_eventlog?, aa_eventlog?} / ``SgxEvidence`` {quote}."""
    known: tuple[str, ...] = ("quote", "cc_eventlog", "aa_eventlog") if tee == "tdx" else ("quote",)
    warnings = _extra_keys(obj, known, tee)
    data = _b64_std(obj.get("quote"), "quote")
    ccel = None
    if tee == "tdx":
        # tdx/mod.rs: an absent or empty cc_eventlog means no event log
        if obj.get("cc_eventlog") not in (None, ""):
            ccel = _b64_std(obj["cc_eventlog"], "cc_eventlog")
        if obj.get("aa_eventlog") is not None:
            warnings.append("aa_eventlog present but not replayed (trustee reads no such field)")
    return TrusteeEvidence(tee, data, Collateral(), tuple(warnings), ccel)


def _snp_evidence(obj: dict[str, Any]) -> TrusteeEvidence:
    """``SnpEvidence`` {attestation_report, cert_chain?}."""
    warnings = _extra_keys(obj, ("attestation_report", "cert_chain"), "snp")
    report = obj.get("attestation_report")
    if isinstance(report, list):
        data = _byte_list(report, "attestation_report")
    else:
        data = snp_report_from_json(report)
        if isinstance(report, Mapping):
            warnings += _extra_keys(report, SNP_REPORT_KEYS, "attestation_report")
    coll, more = _snp_cert_chain(obj.get("cert_chain"))
    return TrusteeEvidence("snp", data, coll, tuple(warnings + more))


def _nvidia_evidence(obj: dict[str, Any]) -> TrusteeEvidence:
    """``NvDeviceEvidence`` list {device_evidence_list: [{arch, uuid?, evidence, certificate}]}
    (trustee ``deps/verifier/src/nvidia/mod.rs``): passed on as its JSON, which the GPU
    pipeline recognises and verifies device by device (each with its own chain)."""
    warnings = _extra_keys(obj, ("device_evidence_list",), "nvidia")
    items = obj.get("device_evidence_list")
    if not isinstance(items, list) or not items:
        raise _malformed("device_evidence_list: expected a non-empty list", "device_evidence_list")
    data = json.dumps({"device_evidence_list": items}).encode()
    return TrusteeEvidence("nvidia", data, Collateral(), tuple(warnings))
