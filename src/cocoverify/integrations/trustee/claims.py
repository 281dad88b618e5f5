"""Trustee's parsed claims, per TEE, from an authenticated result: the one place they are built.

Claim names, nesting and encodings are trustee's (``deps/verifier/src/{tdx,sgx}/claims.rs``,
``deps/verifier/src/intel_dcap/claims.rs``, ``deps/verifier/src/snp/mod.rs``
``parse_tee_evidence``, ``deps/verifier/src/cca/mod.rs``, ``deps/verifier/src/az_snp_vtpm``,
``az_tdx_vtpm``, ``deps/verifier/src/se/ibmse.rs``; golden file
``deps/verifier/test_data/parse_tdx_claims_expected.json``). Keys trustee lacks are added under
new names (docs/trustee.md "Claim mapping").
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.x509 import signed_by
from cocoverify.collateral import Collateral
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.hazmat import authenticate_quote, parse_quote, pck_chain_for, verify_crls
from cocoverify.result import VerificationResult, format_time, to_jsonable
from cocoverify.trust import TrustStore

__all__ = ["claims_for", "intel_supplemental"]

#: QVL ``sgx_type`` (the PCK's SGX Type) names.
_SGX_TYPES = {0: "Standard", 1: "Scalable", 2: "Scalable with Integrity"}

#: Our TD attribute flag names (``td_attributes_flags`` claims) -> trustee's.
_TD_ATTRIBUTE_NAMES = {
    "debug": "debug",
    "sept_ve_disable": "septve_disable",
    "pks": "protection_keys",
    "kl": "key_locker",
    "perfmon": "perfmon",
}


def _le(value: int, size: int) -> str:
    return int(value).to_bytes(size, "little").hex()


def _hex(value: Any) -> str:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return value.hex()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def claims_for(result: VerificationResult) -> dict[str, Any]:
    """Trustee's parsed claims for an authenticated result.

    A result whose claims are not what the pipeline of its TEE builds (a hand-made result,
    say) is a ConfigurationError: there is never a partial claim set.
    """
    build = _BUILDERS.get(result.tee)
    if build is None:
        raise ConfigurationError(
            f"no trustee claims for tee {result.tee!r}", reason=Reason.INVALID_ARGUMENT
        )
    try:
        return build(result.claims, result)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigurationError(
            f"no trustee claims: the result's {result.tee} claims are incomplete ({exc!r})",
            reason=Reason.INVALID_ARGUMENT,
        ) from None


def _header(c: Mapping[str, Any]) -> dict[str, str]:
    return {
        "version": _le(c["quote_version"], 2),
        "att_key_type": _le(c["attestation_key_type"], 2),
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
    flags = c["td_attributes_flags"]
    claims: dict[str, Any] = {
        "quote": quote,
        "td_attributes": {theirs: flags[ours] for ours, theirs in _TD_ATTRIBUTE_NAMES.items()},
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
    # reserved ranges are checked to be zero when the quote is parsed
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
    """``platform_instance_id`` and the supplemental claims (intel_dcap/claims.rs)."""
    out: dict[str, Any] = {}
    pck = c.get("pck") or {}
    if pck.get("ca") == "platform" and isinstance(pck.get("platform_instance_id"), bytes):
        # trustee intel_dcap/pck.rs: the GUID is stored little-endian in the extension's
        # OCTET STRING and written big-endian (u128::from_le_bytes(..).to_be_bytes())
        out["platform_instance_id"] = pck["platform_instance_id"][::-1].hex()
    out["tcb_status"] = result.tcb_status
    out["advisory_ids"] = list(result.advisory_ids)
    # an expired item is refused before any claim exists, so nothing here has expired
    out["collateral_expiration_status"] = "0"
    if result.tcb_date is not None:
        out["tcb_date"] = format_time(result.tcb_date)
    # QVL supplemental minor version 5 (DCAP 1.27, which trustee links): the current TCB of a
    # TD updated in place (TD-preserving update). Without a separate current TCB (SGX, TD 1.0,
    # TEE_TCB_SVN2 == TEE_TCB_SVN) it is the launch TCB; for a TD whose TEE_TCB_SVN2 differs
    # the launch values are kept: never better than the current TCB (docs/trustee.md)
    out["tcb_status_current"] = out["tcb_status"]
    if "tcb_date" in out:
        out["tcb_date_current"] = out["tcb_date"]
    out["advisory_ids_current"] = list(out["advisory_ids"])
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


def _snp_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
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
        # extras trustee lacks, under new keys so deployed policies keep their paths
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


def _cca_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    realm, platform = c["realm"], c["platform"]
    return {
        # serde rename_all = "kebab-case" on trustee's RealmClaims / CcaPlatformClaims
        "realm": {
            "cca-realm-personalization-value": _b64(realm["personalization_value"]),
            "cca-realm-initial-measurement": _b64(realm["initial_measurement"]),
            "cca-realm-extensible-measurements": [
                _b64(m) for m in realm["extensible_measurements"]
            ],
            "cca-realm-hash-algo-id": _text(realm["hash_algo_id"]),
            "cca-realm-challenge": _b64(realm["challenge"]),
        },
        "platform": {
            "cca-platform-instance-id": _b64(platform["instance_id"]),
            "cca-platform-implementation-id": _b64(platform["implementation_id"]),
        },
        "report_data": _hex(realm["challenge"]),
        "init_data": _hex(realm["personalization_value"]),
    }


# --- Azure vTPM: the hardware report's claims as trustee's az verifiers flatten them -----------

#: trustee ``parse_tee_evidence_az``: the SNP keys it keeps, every value a string
_AZ_SNP_KEYS = (
    "policy_abi_major", "policy_abi_minor", "policy_smt_allowed", "policy_migrate_ma",
    "policy_debug_allowed", "policy_single_socket", "reported_tcb_bootloader",
    "reported_tcb_tee", "reported_tcb_snp", "reported_tcb_microcode", "platform_tsme_enabled",
    "platform_smt_enabled",
)  # fmt: skip


def _rust_string(value: Any) -> str:
    """``to_string()`` of a Rust integer or bool: ``"3"``, ``"true"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"expected an integer or bool, got {type(value).__name__}")


def _hardware(c: Mapping[str, Any], tee: str) -> Mapping[str, Any]:
    hw = c["hardware"]
    if hw["tee"] != tee:
        raise ValueError(f"the hardware report is {hw['tee']}, expected {tee}")
    claims: Mapping[str, Any] = hw["claims"]
    return claims


def _tpm_claims(c: Mapping[str, Any]) -> dict[str, Any]:
    """trustee ``extend_claim``: ``tpm.pcrNN``, then ``report_data`` = hex of the quote's
    extraData and ``init_data`` = hex of PCR8 (both overwrite the hardware report's)."""
    pcrs = c["azure"]["pcrs"]
    out: dict[str, Any] = {
        "tpm": {f"pcr{i:02d}": _hex(pcrs[str(i)]) for i in range(len(pcrs))},
        "report_data": _hex(c["azure"]["tpm_quote"]["extra_data"]),
    }
    if len(pcrs) > 8:
        out["init_data"] = _hex(pcrs["8"])
    return out


def _az_snp_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    """az_snp_vtpm/mod.rs: the SNP claims as strings, MEASUREMENT in standard base64."""
    snp = _snp_claims(_hardware(c, "snp"), result)
    claims: dict[str, Any] = {k: _rust_string(snp[k]) for k in _AZ_SNP_KEYS}
    claims["measurement"] = _b64(_hardware(c, "snp")["measurement"])
    claims.update(_tpm_claims(c))
    return claims


def _az_tdx_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    """az_tdx_vtpm/mod.rs: the TD quote's TDX claims (no event log), ``extend_claim``, then
    the DCAP supplemental claims (in ``_tdx_claims``, from the same result)."""
    claims = _tdx_claims(_hardware(c, "tdx"), result)
    claims.update(_tpm_claims(c))
    return claims


def _se_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    """se/ibmse.rs ``SeAttestationClaims`` (``Hex`` fields, ``version`` a u32), plus
    ``user_data`` (docs/trustee.md). ``report_data`` here is the first 64 bytes of the user
    data; :func:`~cocoverify.integrations.trustee.evaluate` writes trustee's value instead
    (the expected report data as given, ``""`` without one)."""
    version = c["version"]
    if type(version) is not int:
        raise TypeError("version: expected an integer")
    return {
        "cuid": _hex(c["cuid"]),
        "report_data": _hex(c["report_data"]),
        "version": version,
        "image_phkh": _hex(c["image_phkh"]),
        "attestation_phkh": _hex(c["attestation_phkh"]),
        "tag": _hex(c["tag"]),
        "user_data": _hex(c["user_data"]),  # extra: not a trustee claim
    }


#: trustee's local-mode GPU claims (deps/verifier/src/nvidia/mod.rs), per device
_GPU_KEYS = ("arch", "uuid", "measurements", "config")


def _gpu_claims(c: Mapping[str, Any], result: VerificationResult) -> dict[str, Any]:
    devices = c.get("devices")
    if devices is not None:  # several devices: one trustee claim set each
        return {"devices": [_gpu_claims(d, result) for d in devices]}
    return {k: to_jsonable(c[k]) for k in _GPU_KEYS}


_BUILDERS: dict[str, Callable[[Mapping[str, Any], VerificationResult], dict[str, Any]]] = {
    "tdx": _tdx_claims,
    "sgx": _sgx_claims,
    "snp": _snp_claims,
    "cca": _cca_claims,
    "gpu": _gpu_claims,
    "az-snp-vtpm": _az_snp_claims,
    "az-tdx-vtpm": _az_tdx_claims,
    "se": _se_claims,
}


# --- QVL supplemental claims: they need the collateral items themselves -----------------------


def _same_quote(parsed: Any, pck: Any, result: VerificationResult) -> None:
    """The quote must be the one ``result`` was made from: same TEE, REPORTDATA and PCK."""
    c = result.claims
    mine = c.get("pck") or {}
    info = pck.info
    same = (
        result.tee == parsed.tee
        and c.get("report_data") == parsed.body.report_data
        and all(mine.get(k) == getattr(info, k) for k in ("fmspc", "ppid", "cpu_svn", "pce_svn"))
    )
    if not same:
        raise ConfigurationError(
            "intel_supplemental: the quote is not the one the result was verified from",
            reason=Reason.INVALID_ARGUMENT,
        )


def intel_supplemental(
    quote: bytes, result: VerificationResult, *, collateral: Collateral, trust: TrustStore
) -> dict[str, Any]:
    """QVL supplemental claims that need the collateral items themselves.

    ``root_key_id`` (SHA-384 of the root CA's uncompressed public point),
    ``earliest_issue_date`` / ``latest_issue_date`` / ``earliest_expiration_date`` over the
    PCK chain, the TCB Signing certificate(s) issued by the same root, both CRLs, TCB Info
    and QE Identity, and ``pck_crl_num`` / ``root_ca_crl_num`` (CRL Number extensions).

    A result carries facts, not the certificates and CRLs behind them, so the PCK chain and
    the CRLs are taken again with the public steps of :mod:`cocoverify.hazmat` at
    ``result.verified_at`` (the selection ``verify()`` made). They are authenticated again
    on purpose: this function is public, and dates must never come from a look-alike item
    the caller's collateral happens to hold.
    """
    at = result.verified_at
    parsed = parse_quote(quote)
    pck = authenticate_quote(parsed, pck_chain_for(parsed, collateral), trust=trust, at=at)
    _same_quote(parsed, pck, result)
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
