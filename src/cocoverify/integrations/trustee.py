"""A stand-in for trustee's verifiers: trustee-shaped evidence in, trustee-shaped claims out.

:func:`evaluate` has the contract of trustee's ``Verifier::evaluate``
(trustee_interface.md §1): evidence JSON for one TEE (§2), an optional expected report data
and init-data hash (§3), and a list of ``(claims, "cpu")`` whose claim names, nesting and
encodings are trustee's (§4), plus a few extra keys trustee does not have. Any failure
raises a :class:`~cocoverify.errors.CocoverifyError`; there is never a partial result.

Two acceptance modes (docs/trustee.md "Acceptance"):

* default -- cocoverify's whole policy applies (fail closed: ``UpToDate`` only, debug
  rejected, SEPT_VE_DISABLE required, ...), plus trustee's own hard checks (SNP VMPL 0, CCA
  report data required).
* ``trustee_semantics=True`` -- the drop-in mode: like trustee, the non-terminal TCB statuses,
  the debug bit, SEPT_VE_DISABLE, a non-zero MRSERVICETD and the SNP MIGRATE_MA bit
  are *returned as claims* for the
  caller's Rego to judge instead of rejected. Bad signatures, chains, revocation, collateral,
  a TCB level that does not match, Revoked, the bindings and any measurement the caller's
  policy pins still reject.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify.api import error_for, verify
from cocoverify.collateral import Collateral
from cocoverify.errors import (
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    UnsupportedEvidence,
)
from cocoverify.policy import Policy
from cocoverify.registry import detect
from cocoverify.result import RuleVerdict, VerificationResult, format_time
from cocoverify.trust import TrustStore

__all__ = [
    "TEES",
    "TrusteeEvidence",
    "claims_for",
    "evaluate",
    "intel_supplemental",
    "parse_evidence",
    "snp_report_from_json",
    "verify_evidence",
]

#: The tee strings this adapter serves (trustee_interface.md §2).
TEES = ("tdx", "sgx", "snp", "cca")

#: Size of the field each TEE's init-data hash is compared with (§3).
INIT_DATA_FIELD = {"tdx": 48, "sgx": 64, "snp": 32, "cca": 64}

#: Rules trustee leaves to the caller's Rego (waived with ``trustee_semantics=True``).
_WAIVABLE = ("tcb_status", "debug", "sept_ve_disable", "mr_service_td", "migrate_ma")
_TERMINAL_STATUSES = frozenset({"Revoked"})

_SGX_TYPES = {0: "Standard", 1: "Scalable", 2: "Scalable with Integrity"}


@dataclasses.dataclass(frozen=True, slots=True)
class TrusteeEvidence:
    """Trustee evidence JSON turned into what :func:`cocoverify.verify` takes."""

    tee: str
    data: bytes
    collateral: Collateral
    warnings: tuple[str, ...] = ()


# --- evidence JSON (trustee_interface.md §2) ----------------------------------------------


def _malformed(message: str, field: str) -> MalformedEvidence:
    return MalformedEvidence(message, field=field, reason=Reason.MALFORMED)


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
        # the AS REST/gRPC form: base64url (no padding) of the JSON bytes (§2)
        try:
            if not text or any(c not in _B64URL for c in text):
                raise ValueError
            decoded = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return data
        if not decoded.strip().startswith((b"{", b'"')):
            return data
        text = decoded
    try:
        value = _strict_json(text)
        if isinstance(value, str):  # doubly encoded, as CCA evidence travels in the KBS
            value = _strict_json(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _malformed("evidence is not valid JSON", "evidence") from None
    if not isinstance(value, dict):
        raise _malformed("evidence JSON is not an object", "evidence")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # serde: "duplicate field"; last-wins would let two readers disagree
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_json(text: str | bytes) -> Any:
    """RFC 8259 JSON as serde_json reads it: no duplicate keys, no NaN/Infinity."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


_B64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


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


def _tcb(value: Any, field: str) -> tuple[bytes, bool]:
    """sev ``TcbVersion`` {fmc|null, bootloader, tee, snp, microcode} -> 8 raw bytes.

    With ``fmc`` set it is a Turin TCB, else Milan/Genoa (amd.md §3); returns (raw, turin).
    """
    from cocoverify.tee.snp.parse import encode_tcb

    if not isinstance(value, Mapping):
        raise _malformed(f"{field}: expected an object", field)
    parts = {
        k: _uint(value.get(k), f"{field}.{k}", 8) for k in ("bootloader", "tee", "snp", "microcode")
    }
    fmc = value.get("fmc")
    if fmc is None:
        return encode_tcb("Milan", **parts), False
    return encode_tcb("Turin", fmc=_uint(fmc, f"{field}.fmc", 8), **parts), True


def snp_report_from_json(obj: Any) -> bytes:
    """The 1184-byte report from the ``sev`` crate's serde form (trustee_interface.md §2).

    Field order and sizes as in §2; r and s are 72-byte little-endian values. The bytes are
    re-parsed (reserved ranges, version rules) and the signature checked by the pipeline.
    """
    from cocoverify.tee.snp.parse import REPORT_SIZE, SnpReport

    if not isinstance(obj, Mapping):
        raise _malformed("attestation_report: expected an object", "attestation_report")
    f = "attestation_report"
    version = _uint(obj.get("version"), f"{f}.version", 32)
    tcbs = {}
    turin = set()
    for name in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        raw, is_turin = _tcb(obj.get(name), f"{f}.{name}")
        tcbs[name] = raw
        turin.add(is_turin)
    if len(turin) != 1:
        raise _malformed("TCB versions mix Turin (fmc) and earlier layouts", f"{f}.reported_tcb")
    cpuid: dict[str, int | None] = {}
    for name in ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step"):
        v = obj.get(name)
        cpuid[name] = None if v is None else _uint(v, f"{f}.{name}", 8)
    if len({v is None for v in cpuid.values()}) != 1:
        raise _malformed("cpuid fields must all be set or all be null", f"{f}.cpuid_fam_id")
    mit: dict[str, int | None] = {}
    for name in ("launch_mit_vector", "current_mit_vector"):
        v = obj.get(name)
        mit[name] = None if v is None else _uint(v, f"{f}.{name}", 64)
    versions = {}
    for name in ("current", "committed"):
        ver = obj.get(name)
        if not isinstance(ver, Mapping):
            raise _malformed(f"{f}.{name}: expected {{major, minor, build}}", f"{f}.{name}")
        versions[name] = {
            k: _uint(ver.get(k), f"{f}.{name}.{k}", 8) for k in ("major", "minor", "build")
        }
    sig = obj.get("signature")
    if not isinstance(sig, Mapping):
        raise _malformed(f"{f}.signature: expected {{r, s}}", f"{f}.signature")
    r = _byte_list(sig.get("r"), f"{f}.signature.r", 72)
    s = _byte_list(sig.get("s"), f"{f}.signature.s", 72)
    report = SnpReport(
        version=version,
        guest_svn=_uint(obj.get("guest_svn"), f"{f}.guest_svn", 32),
        policy=_uint(obj.get("policy"), f"{f}.policy", 64),
        family_id=_byte_list(obj.get("family_id"), f"{f}.family_id", 16),
        image_id=_byte_list(obj.get("image_id"), f"{f}.image_id", 16),
        vmpl=_uint(obj.get("vmpl"), f"{f}.vmpl", 32),
        signature_algo=_uint(obj.get("sig_algo"), f"{f}.sig_algo", 32),
        current_tcb=tcbs["current_tcb"],
        platform_info=_uint(obj.get("plat_info"), f"{f}.plat_info", 64),
        key_info=_uint(obj.get("key_info"), f"{f}.key_info", 32),
        report_data=_byte_list(obj.get("report_data"), f"{f}.report_data", 64),
        measurement=_byte_list(obj.get("measurement"), f"{f}.measurement", 48),
        host_data=_byte_list(obj.get("host_data"), f"{f}.host_data", 32),
        id_key_digest=_byte_list(obj.get("id_key_digest"), f"{f}.id_key_digest", 48),
        author_key_digest=_byte_list(obj.get("author_key_digest"), f"{f}.author_key_digest", 48),
        report_id=_byte_list(obj.get("report_id"), f"{f}.report_id", 32),
        report_id_ma=_byte_list(obj.get("report_id_ma"), f"{f}.report_id_ma", 32),
        reported_tcb=tcbs["reported_tcb"],
        cpuid_fam_id=cpuid["cpuid_fam_id"],
        cpuid_mod_id=cpuid["cpuid_mod_id"],
        cpuid_step=cpuid["cpuid_step"],
        chip_id=_byte_list(obj.get("chip_id"), f"{f}.chip_id", 64),
        committed_tcb=tcbs["committed_tcb"],
        current_build=versions["current"]["build"],
        current_minor=versions["current"]["minor"],
        current_major=versions["current"]["major"],
        committed_build=versions["committed"]["build"],
        committed_minor=versions["committed"]["minor"],
        committed_major=versions["committed"]["major"],
        launch_tcb=tcbs["launch_tcb"],
        launch_mit_vector=mit["launch_mit_vector"],
        current_mit_vector=mit["current_mit_vector"],
        signature=r + s + bytes(512 - 144),
    )
    data = report.to_bytes()
    assert len(data) == REPORT_SIZE
    return data


#: The keys of the ``sev`` crate's serde ``AttestationReport`` (trustee_interface.md §2).
SNP_REPORT_KEYS = (
    "version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo",
    "current_tcb", "plat_info", "key_info", "report_data", "measurement", "host_data",
    "id_key_digest", "author_key_digest", "report_id", "report_id_ma", "reported_tcb",
    "cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb", "current",
    "committed", "launch_tcb", "launch_mit_vector", "current_mit_vector", "signature",
)  # fmt: skip


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: sev ``CertType`` serde names -> the certificate-table roles of evidence/snp.py.
_CERT_TYPES = {"ARK": "ark", "ASK": "ask", "VCEK": "vcek", "VLEK": "vlek", "CRL": "crl"}


def _snp_cert_chain(value: Any) -> tuple[Collateral, list[str]]:
    """``cert_chain`` entries -> collateral, each checked against its declared type."""
    from cocoverify.tee.snp.parse import CertTable, CertTableEntry
    from cocoverify.tee.snp.pipeline import table_collateral

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


def parse_evidence(tee: str, evidence: Mapping[str, Any] | bytes | str) -> TrusteeEvidence:
    """Trustee evidence for ``tee`` (§2) -> bytes for the pipeline plus evidence collateral.

    Accepts the JSON object, its JSON text, or the AS REST ``evidence`` string (base64url of
    the JSON bytes). For ``snp`` the report may also be raw bytes (whole evidence or the
    ``attestation_report`` value as a byte list). Unknown keys are ignored with a warning, as
    serde does; a missing or mistyped field is MalformedEvidence.
    """
    if tee not in TEES:
        raise UnsupportedEvidence(
            f"tee {tee!r}: this adapter serves {', '.join(TEES)}",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    obj = _json_object(evidence)
    if isinstance(obj, bytes):
        if tee != "snp":
            raise _malformed(f"{tee} evidence must be a JSON object (§2)", "evidence")
        return TrusteeEvidence(tee, obj, Collateral())
    if tee in ("tdx", "sgx"):
        known: tuple[str, ...] = (
            ("quote", "cc_eventlog", "aa_eventlog") if tee == "tdx" else ("quote",)
        )
        warnings = _extra_keys(obj, known, tee)
        data = _b64_std(obj.get("quote"), "quote")
        if tee == "tdx":
            for key in ("cc_eventlog", "aa_eventlog"):
                if obj.get(key) is not None:
                    if key == "cc_eventlog":
                        _b64_std(obj[key], key)
                    warnings.append(f"{key} present but not replayed; no event-log claims emitted")
        return TrusteeEvidence(tee, data, Collateral(), tuple(warnings))
    if tee == "snp":
        warnings = _extra_keys(obj, ("attestation_report", "cert_chain"), tee)
        report = obj.get("attestation_report")
        if isinstance(report, list):
            data = _byte_list(report, "attestation_report")
        else:
            data = snp_report_from_json(report)
            if isinstance(report, Mapping):
                warnings += _extra_keys(report, SNP_REPORT_KEYS, "attestation_report")
        coll, more = _snp_cert_chain(obj.get("cert_chain"))
        return TrusteeEvidence(tee, data, coll, tuple(warnings + more))
    warnings = _extra_keys(obj, ("token",), tee)
    return TrusteeEvidence(
        tee, _byte_list(obj.get("token"), "token"), Collateral(), tuple(warnings)
    )


def _check_kind(tee: str, data: bytes) -> None:
    """The bytes must be evidence of the TEE the caller named (trustee rejects SGX as tdx)."""
    kind = detect(data).name
    if tee in ("tdx", "sgx"):
        from cocoverify.tee.intel.parse import parse_quote

        actual = parse_quote(data).tee if kind == "intel" else kind
    else:
        actual = kind
    if actual != tee:
        raise UnsupportedEvidence(
            f"evidence for tee {tee!r} is {actual} evidence", reason=Reason.UNSUPPORTED_TEE_TYPE
        )


# --- verification ---------------------------------------------------------------------------


def _reject(result: VerificationResult, verdict: RuleVerdict) -> PolicyRejected:
    assert verdict.reason is not None
    rejected = dataclasses.replace(
        result, accepted=False, reason=verdict.reason, policy=(*result.policy, verdict)
    )
    err = PolicyRejected(verdict.message, reason=verdict.reason)
    err.result = rejected
    return err


def _waivable(v: RuleVerdict, result: VerificationResult, policy: Policy) -> bool:
    if v.rule == "tcb_status":
        return (
            v.reason is Reason.TCB_STATUS_REJECTED and result.tcb_status not in _TERMINAL_STATUSES
        )
    if v.rule == "mr_service_td":
        return policy.tdx.mr_service_td is None  # the default all-zero rule, not a caller pin
    return v.rule in _WAIVABLE


def verify_evidence(
    tee: str,
    evidence: Mapping[str, Any] | bytes | str | TrusteeEvidence,
    expected_report_data: bytes | None = None,
    expected_init_data_hash: bytes | None = None,
    *,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    policy: Policy | None = None,
    at: _dt.datetime | str | None = None,
    trustee_semantics: bool = False,
) -> VerificationResult:
    """Verify trustee-shaped evidence; the accepted :class:`VerificationResult` or an error.

    Bindings (docs/trustee.md "Binding rules"): report data is zero-padded to the field and a
    longer value rejected; the init-data hash is zero-padded or, like trustee, truncated to
    the field (MRCONFIGID 48, CONFIGID 64, HOST_DATA 32 bytes), except for CCA where it must
    equal the realm personalization value exactly. CCA requires report data.
    """
    ev = evidence if isinstance(evidence, TrusteeEvidence) else parse_evidence(tee, evidence)
    if ev.tee != tee:
        raise ConfigurationError("evidence parsed for another tee", reason=Reason.INVALID_ARGUMENT)
    _check_kind(tee, ev.data)
    for name, value in (
        ("expected_report_data", expected_report_data),
        ("expected_init_data_hash", expected_init_data_hash),
    ):
        if value is not None and not isinstance(value, bytes):
            raise ConfigurationError(f"{name}: expected bytes", reason=Reason.INVALID_ARGUMENT)
    if tee == "cca" and expected_report_data is None:
        # trustee cca/mod.rs: "CCA verifier must provide report data field!"
        raise ConfigurationError(
            "cca: expected report data (the realm challenge) is required",
            reason=Reason.INVALID_ARGUMENT,
        )
    pol = policy if policy is not None else Policy.default()
    if tee == "snp" and pol.snp.vmpl is None:
        # trustee snp/mod.rs: "VMPL must be 0" is a hard check
        pol = pol.replace(snp=dataclasses.replace(pol.snp, vmpl=frozenset({0})))
    init = expected_init_data_hash
    cca_init_length = tee == "cca" and init is not None and len(init) != INIT_DATA_FIELD["cca"]
    if init is not None and tee != "cca":
        init = init[: INIT_DATA_FIELD[tee]]  # regularize_data: truncate a longer digest
    coll = (collateral if collateral is not None else Collateral()) + ev.collateral
    try:
        result = verify(
            ev.data,
            policy=pol,
            collateral=coll,
            trust=trust,
            at=at,
            expected_report_data=expected_report_data,
            expected_init_data=None if cca_init_length else init,
        )
    except PolicyRejected as exc:
        res = exc.result
        if not trustee_semantics or res is None:
            raise
        failed = res.failed_rules()
        if not any(_waivable(v, res, pol) for v in failed):
            raise
        verdicts = tuple(
            dataclasses.replace(v, passed=True, message=f"returned as a claim: {v.message}")
            if not v.passed and _waivable(v, res, pol)
            else v
            for v in res.policy
        )
        remaining = [v for v in verdicts if not v.passed]
        result = dataclasses.replace(
            res,
            accepted=not remaining,
            reason=(remaining[0].reason or Reason.POLICY_REJECTED) if remaining else None,
            policy=verdicts,
            warnings=(
                *res.warnings,
                "trustee_semantics: returned as claims, not rejected: "
                f"{[v.rule for v in failed if _waivable(v, res, pol)]}",
            ),
        )
        if remaining:
            raise error_for(result) from None
    if cca_init_length:
        assert init is not None
        raise _reject(
            result,
            RuleVerdict(
                "init_data",
                False,
                f"init data hash of {len(init)} bytes cannot equal the 64-byte realm "
                "personalization value (compared exactly for CCA)",
                reason=Reason.INIT_DATA_MISMATCH,
                expected=init,
            ),
        )
    if ev.warnings:
        result = dataclasses.replace(result, warnings=(*result.warnings, *ev.warnings))
    return result


def evaluate(
    tee: str,
    evidence: Mapping[str, Any] | bytes | str,
    expected_report_data: bytes | None = None,
    expected_init_data_hash: bytes | None = None,
    *,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    policy: Policy | None = None,
    at: _dt.datetime | str | None = None,
    trustee_semantics: bool = False,
) -> list[tuple[dict[str, Any], str]]:
    """Trustee's ``Verifier::evaluate``: ``[(claims, "cpu")]`` or a CocoverifyError.

    ``at`` is the verification time (default now); ``policy`` defaults to the secure default;
    ``trustee_semantics=True`` is the drop-in mode (module docstring).
    """
    ev = parse_evidence(tee, evidence)
    result = verify_evidence(
        tee,
        ev,
        expected_report_data,
        expected_init_data_hash,
        collateral=collateral,
        trust=trust,
        policy=policy,
        at=at,
        trustee_semantics=trustee_semantics,
    )
    claims = claims_for(result)
    if tee in ("tdx", "sgx"):
        claims.update(
            intel_supplemental(
                ev.data,
                result,
                collateral=(collateral if collateral is not None else Collateral()),
                trust=trust if trust is not None else TrustStore.default(),
            )
        )
    return [(claims, "cpu")]


def intel_supplemental(
    quote: bytes, result: VerificationResult, *, collateral: Collateral, trust: TrustStore
) -> dict[str, Any]:
    """QVL supplemental claims that need the collateral items themselves (§4).

    ``root_key_id`` (SHA-384 of the root CA's uncompressed public point),
    ``earliest_issue_date`` / ``latest_issue_date`` / ``earliest_expiration_date`` over the
    PCK chain, the TCB Signing certificate(s) issued by the same root, both CRLs, TCB Info
    and QE Identity, and ``pck_crl_num`` / ``root_ca_crl_num`` (CRL Number extensions).
    Re-derived with the pipeline's own functions at ``result.verified_at``.
    """
    from cocoverify._core.x509 import signed_by
    from cocoverify.tee.intel.parse import parse_quote
    from cocoverify.tee.intel.verify import authenticate_quote, pck_chain_for, verify_crls

    at = result.verified_at
    parsed = parse_quote(quote)
    pck = authenticate_quote(parsed, pck_chain_for(parsed, collateral), trust=trust, at=at)
    root_crl, pck_crl = verify_crls(pck, collateral, at)
    out: dict[str, Any] = {}
    key = pck.root.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        out["root_key_id"] = hashlib.sha384(point).hexdigest()
    signers = [
        c
        for c in collateral.certificates
        if c.issuer == pck.root.subject
        and any("TCB Signing" in str(a.value) for a in c.subject)
        and signed_by(c, pck.root)  # a look-alike in the collateral must not move the dates
    ]
    certs = [pck.leaf, pck.intermediate, pck.root, *signers]
    coll = result.collateral
    issued = [c.not_valid_before_utc for c in certs] + [
        root_crl.last_update_utc,
        pck_crl.last_update_utc,
        coll["tcb_info_issue_date"],
        coll["qe_identity_issue_date"],
    ]
    expires = [c.not_valid_after_utc for c in certs] + [
        root_crl.next_update_utc,
        pck_crl.next_update_utc,
        coll["tcb_info_next_update"],
        coll["qe_identity_next_update"],
    ]
    dates = [d for d in (*issued, *expires) if isinstance(d, _dt.datetime)]
    if len(dates) == len(issued) + len(expires):
        out["earliest_issue_date"] = format_time(min(issued))
        out["latest_issue_date"] = format_time(max(issued))
        out["earliest_expiration_date"] = format_time(min(expires))
    for name, crl in (("pck_crl_num", pck_crl), ("root_ca_crl_num", root_crl)):
        with contextlib.suppress(x509.ExtensionNotFound):
            out[name] = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    return out


# --- claims (trustee_interface.md §4) -------------------------------------------------------


def _le(value: int, size: int) -> str:
    return int(value).to_bytes(size, "little").hex()


def _hex(value: Any) -> str:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return value.hex()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def claims_for(result: VerificationResult) -> dict[str, Any]:
    """Trustee's parsed claims for an accepted result (names and encodings of §4).

    Extra keys trustee lacks are added under new names (docs/trustee.md "Claim mapping").
    """
    c = result.claims
    if result.tee == "tdx":
        return _tdx_claims(c, result)
    if result.tee == "sgx":
        return _sgx_claims(c, result)
    if result.tee == "snp":
        return _snp_claims(c)
    if result.tee == "cca":
        return _cca_claims(c)
    raise ConfigurationError(
        f"no trustee claims for tee {result.tee!r}", reason=Reason.INVALID_ARGUMENT
    )


def _header(c: Mapping[str, Any]) -> dict[str, str]:
    return {
        "version": _le(c["quote_version"], 2),
        "att_key_type": _le(c["attestation_key_type"], 2),
    }


_TD_FLAGS = {
    "debug": 0,
    "septve_disable": 28,
    "protection_keys": 30,
    "key_locker": 31,
    "perfmon": 63,
}


def _tdx_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    header = _header(c)
    header.update(
        tee_type=_le(c["tee_type"], 4),
        reserved=_le(c["qe_svn"], 2) + _le(c["pce_svn"], 2),
        vendor_id=_hex(c["qe_vendor_id"]),
        user_data=_hex(c["user_data"]),
    )
    body = {
        "tcb_svn": _hex(c["tee_tcb_svn"]),
        "mr_seam": _hex(c["mr_seam"]),
        "mrsigner_seam": _hex(c["mr_signer_seam"]),
        "seam_attributes": _hex(c["seam_attributes"]),
        "td_attributes": _hex(c["td_attributes"]),
        "xfam": _hex(c["xfam"]),
        "mr_td": _hex(c["mr_td"]),
        "mr_config_id": _hex(c["mr_config_id"]),
        "mr_owner": _hex(c["mr_owner"]),
        "mr_owner_config": _hex(c["mr_owner_config"]),
        "rtmr_0": _hex(c["rtmr0"]),
        "rtmr_1": _hex(c["rtmr1"]),
        "rtmr_2": _hex(c["rtmr2"]),
        "rtmr_3": _hex(c["rtmr3"]),
        "report_data": _hex(c["report_data"]),
    }
    if c.get("tee_tcb_svn2") is not None:
        body["tee_tcb_svn2"] = _hex(c["tee_tcb_svn2"])
        body["mr_servicetd"] = _hex(c["mr_service_td"])
    quote: dict[str, Any] = {"header": header, "body": body}
    if c["quote_version"] == 5:
        kind = {"sgx": 1, "td10": 2, "td15": 3}[c["body_type"]]
        quote["type"] = _le(kind, 2)
        quote["size"] = _le({2: 584, 3: 648}[kind], 4)
    attrs = int.from_bytes(c["td_attributes"], "little")
    claims: dict[str, Any] = {
        "quote": quote,
        "td_attributes": {name: bool(attrs >> bit & 1) for name, bit in _TD_FLAGS.items()},
        "report_data": _hex(c["report_data"]),
        "init_data": _hex(c["mr_config_id"]),
    }
    claims.update(_intel_common(c, result))
    return claims


def _sgx_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    header = _header(c)
    header.update(
        att_key_data_0=_le(c["tee_type"], 4),
        qe_svn=_le(c["qe_svn"], 2),
        pce_svn=_le(c["pce_svn"], 2),
        vendor_id=_hex(c["qe_vendor_id"]),
        user_data=_hex(c["user_data"]),
    )
    attributes = c["attributes"]
    # reserved ranges are checked to be zero when parsing (intel.md §2.3)
    body = {
        "cpu_svn": _hex(c["cpu_svn"]),
        "misc_select": _le(c["misc_select"], 4),
        "reserved1": bytes(12).hex(),
        "isv_ext_prod_id": _hex(c["isv_ext_prod_id"]),
        "attributes.flags": _hex(attributes[:8]),
        "attributes.xfrm": _hex(attributes[8:]),
        "mr_enclave": _hex(c["mr_enclave"]),
        "reserved2": bytes(32).hex(),
        "mr_signer": _hex(c["mr_signer"]),
        "reserved3": bytes(32).hex(),
        "config_id": _hex(c["config_id"]),
        "isv_prod_id": _le(c["isv_prod_id"], 2),
        "isv_svn": _le(c["isv_svn"], 2),
        "config_svn": _le(c["config_svn"], 2),
        "reserved4": bytes(42).hex(),
        "isv_family_id": _hex(c["isv_family_id"]),
        "report_data": _hex(c["report_data"]),
    }
    claims: dict[str, Any] = {
        "header": header,
        "body": body,
        "report_data": _hex(c["report_data"]),
        "init_data": _hex(c["config_id"]),
    }
    claims.update(_intel_common(c, result))
    return claims


def _intel_common(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    """``platform_instance_id`` and the supplemental claims (intel_dcap/claims.rs, §4)."""
    out: dict[str, Any] = {}
    pck = c.get("pck") or {}
    if pck.get("ca") == "platform" and isinstance(pck.get("platform_instance_id"), bytes):
        out["platform_instance_id"] = pck["platform_instance_id"].hex()
    out["tcb_status"] = result.tcb_status
    out["advisory_ids"] = list(result.advisory_ids)
    # an expired item is refused before any claim exists, so nothing here has expired
    out["collateral_expiration_status"] = "0"
    if result.tcb_date is not None:
        out["tcb_date"] = format_time(result.tcb_date)
    coll = result.collateral
    numbers = [
        n
        for n in (
            coll.get("tcb_evaluation_data_number"),
            coll.get("qe_identity_evaluation_data_number"),
        )
        if isinstance(n, int)
    ]
    if numbers:
        out["tcb_eval_num"] = min(numbers)  # QVL: the lower of TCB Info's and QE Identity's
    if isinstance(pck.get("ppid"), bytes):
        out["platform_provider_id"] = pck["ppid"].hex()
    sgx_type = pck.get("sgx_type")
    if isinstance(sgx_type, int):
        out["sgx_type"] = _SGX_TYPES.get(sgx_type, f"Unknown ({sgx_type})")
        if sgx_type > 0:
            for key, name in (
                ("dynamic_platform", "is_dynamic_platform"),
                ("cached_keys", "is_cached_keys"),
                ("smt_enabled", "is_smt_enabled"),
            ):
                if isinstance(pck.get(key), bool):
                    out[name] = pck[key]
    if isinstance(pck.get("fmspc"), bytes):
        out["fmspc"] = pck["fmspc"].hex()  # extra: not a trustee claim
    return out


def _snp_claims(c: Mapping[str, Any]) -> dict[str, Any]:
    policy, tcb, plat = c["policy"], c["reported_tcb"], c["platform_info"]
    claims: dict[str, Any] = {
        "policy_abi_major": policy["abi_major"],
        "policy_abi_minor": policy["abi_minor"],
        "policy_smt_allowed": policy["smt"],
        "policy_migrate_ma": policy["migrate_ma"],
        "policy_debug_allowed": policy["debug"],
        "policy_single_socket": policy["single_socket"],
        "reported_tcb_bootloader": tcb["bootloader"],
        "reported_tcb_tee": tcb["tee"],
        "reported_tcb_snp": tcb["snp"],
        "reported_tcb_microcode": tcb["microcode"],
        "platform_tsme_enabled": plat["tsme_en"],
        "platform_smt_enabled": plat["smt_en"],
        "measurement": _hex(c["measurement"]),
        "report_data": _hex(c["report_data"]),
        "init_data": _hex(c["host_data"]),
        "chip_id": _hex(c["chip_id"]),
        # extras trustee lacks (§4 "gaps a superset could fill under new keys")
        "vmpl": c["vmpl"],
        "guest_svn": c["guest_svn"],
        "family_id": _hex(c["family_id"]),
        "image_id": _hex(c["image_id"]),
        "report_version": c["version"],
        "product": c["product"],
        "signing_key": c["signing_key"],
    }
    if tcb.get("fmc") is not None:
        claims["reported_tcb_fmc"] = tcb["fmc"]
    return claims


def _cca_claims(c: Mapping[str, Any]) -> dict[str, Any]:
    realm, platform = c["realm"], c["platform"]
    return {
        "realm": {
            "cca_realm_personalization_value": _b64(realm["personalization_value"]),
            "cca_realm_initial_measurement": _b64(realm["initial_measurement"]),
            "cca_realm_extensible_measurements": [
                _b64(m) for m in realm["extensible_measurements"]
            ],
            "cca_realm_hash_algo_id": realm["hash_algo_id"],
            "cca_realm_challenge": _b64(realm["challenge"]),
        },
        "platform": {
            "cca_platform_instance_id": _b64(platform["instance_id"]),
            "cca_platform_implementation_id": _b64(platform["implementation_id"]),
        },
        "report_data": _hex(realm["challenge"]),
        "init_data": _hex(realm["personalization_value"]),
    }
