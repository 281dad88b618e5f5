"""``cocoverify show`` for Intel quotes: the fields grouped for people, nothing verified.

Groups (QVL ``QuoteStructures.h``): header, body, signature data, the PCK chain of
certification data type 5, the identifiers that select collateral (FMSPC, PCK CA, PCE-ID from
the PCK leaf's SGX extension; QE vendor ID and TEE type from the header), the TCB components
and the decoded flags.
"""

from __future__ import annotations

from typing import Any

from cocoverify._core.certinfo import certificate_summary
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError
from cocoverify.result import to_jsonable
from cocoverify.tee.intel.claims import quote_claims
from cocoverify.tee.intel.parse import INTEL_QE_VENDOR_ID, Quote, SgxReportBody, parse_quote
from cocoverify.tee.intel.pck import pck_chain_for
from cocoverify.tee.intel.pipeline import PCS, ROOT_CA_CRL_URL
from cocoverify.tee.intel.sgxext import parse_pck_extension

__all__ = ["describe_quote"]

#: QVL ``QuoteConstants.h``: attestation key types and certification data types.
_KEY_TYPES = {2: "ECDSA-256-with-P-256", 3: "ECDSA-384-with-P-384"}
_CERT_TYPES = {
    1: "PPID in plain text, CPUSVN, PCESVN",
    2: "PPID encrypted RSA-2048, CPUSVN, PCESVN",
    3: "PPID encrypted RSA-3072, CPUSVN, PCESVN",
    4: "PCK leaf certificate",
    5: "PCK certificate chain (PEM)",
    6: "QE report certification data",
    7: "platform manifest",
}
#: XSAVE feature bits of XFAM / XFRM (Intel SDM vol. 1, 13.1).
_XSAVE = {
    0: "x87",
    1: "sse",
    2: "avx",
    3: "mpx_bndregs",
    4: "mpx_bndcsr",
    5: "avx512_opmask",
    6: "avx512_zmm_hi256",
    7: "avx512_hi16_zmm",
    8: "pt",
    9: "pkru",
    10: "pasid",
    11: "cet_u",
    12: "cet_s",
    13: "hdc",
    14: "uintr",
    15: "lbr",
    16: "hwp",
    17: "amx_tilecfg",
    18: "amx_tiledata",
}
_HEADER = ("quote_version", "attestation_key_type", "tee_type", "qe_svn", "pce_svn")
_NOT_BODY = {*_HEADER, "qe_vendor_id", "user_data", "qe", "certification_data_type"}


def _set_bits(value: int, names: dict[int, str]) -> list[str]:
    return [name for bit, name in names.items() if value >> bit & 1] + [
        f"bit{bit}" for bit in range(64) if value >> bit & 1 and bit not in names
    ]


def _pck(quote: Quote) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
    """The type-5 chain's summaries and the leaf's SGX extension facts (or why not)."""
    try:
        chain = pck_chain_for(quote, Collateral())
        info = parse_pck_extension(chain[0])
    except CocoverifyError as exc:
        return [], {}, str(exc.args[0]) if exc.args else exc.reason.value
    facts = {
        "fmspc": info.fmspc.hex(),
        "pck_ca": info.ca,
        "pce_id": info.pce_id.hex(),
        "pce_svn": info.pce_svn,
        "cpu_svn": info.cpu_svn.hex(),
        "sgx_type": {0: "standard", 1: "scalable", 2: "scalable with integrity"}.get(
            info.sgx_type, str(info.sgx_type)
        ),
        "sgx_tcb_components": list(info.tcb_components),
    }
    if info.platform_instance_id is not None:
        facts["platform_instance_id"] = info.platform_instance_id.hex()
    return [certificate_summary(c) for c in chain], facts, None


def describe_quote(data: bytes) -> dict[str, Any]:
    """The existing ``kind/verified/claims`` keys plus the groups of the text view."""
    q = parse_quote(data)
    claims = to_jsonable(quote_claims(q))
    h = q.header
    tee = "TDX" if h.tee_type == 0x81 else "SGX"
    vendor = h.qe_vendor_id.hex() + (" (Intel)" if h.qe_vendor_id == INTEL_QE_VENDOR_ID else "")
    header = {
        "version": h.version,
        "attestation_key_type": f"{h.attestation_key_type} "
        f"({_KEY_TYPES.get(h.attestation_key_type, 'unknown')})",
        "tee_type": f"{h.tee_type:#x} ({tee})",
        "qe_svn": h.qe_svn,
        "pce_svn": h.pce_svn,
        "qe_vendor_id": vendor,
        "user_data": h.user_data.hex(),
    }
    certificates, pck, why = _pck(q)
    signature = {
        "quote_signature": q.signature.hex(),
        "attestation_key": q.attestation_key.hex(),
        "qe_report": claims["qe"],
        "qe_report_signature": q.qe_report_signature.hex(),
        "qe_auth_data": q.qe_auth_data.hex(),
        "certification_data_type": f"{q.certification.type} "
        f"({_CERT_TYPES.get(q.certification.type, 'unknown')})",
        "certification_data_bytes": len(q.certification.data),
    }
    if q.trailing:
        signature["unsigned_trailing_bytes"] = q.trailing
    identifiers: dict[str, Any] = {"tee_type": tee, "qe_vendor_id": vendor}
    identifiers.update(
        {k: pck[k] for k in ("fmspc", "pck_ca", "pce_id", "pce_svn", "cpu_svn") if k in pck}
    )
    if "fmspc" in pck and "pck_ca" in pck:  # where the collateral comes from (PCS API v4)
        api = f"{PCS}/{tee.lower()}/certification/v4"
        identifiers["tcb_info_url"] = f"{api}/tcb?fmspc={pck['fmspc']}"
        identifiers["qe_identity_url"] = f"{api}/qe/identity"
        identifiers["pck_crl_url"] = (
            f"{PCS}/sgx/certification/v4/pckcrl?ca={pck['pck_ca']}&encoding=der"
        )
        identifiers["root_ca_crl_url"] = ROOT_CA_CRL_URL
    if why is not None:
        identifiers["pck"] = f"not read from the quote: {why}"
    elif "platform_instance_id" in pck:
        identifiers["platform_instance_id"] = pck["platform_instance_id"]
    tcb: dict[str, Any] = {}
    if "sgx_tcb_components" in pck:
        tcb["sgx_tcb_components"] = pck["sgx_tcb_components"]
        tcb["pce_svn"] = pck["pce_svn"]
    body = q.body
    flags: dict[str, Any]
    if isinstance(body, SgxReportBody):
        tcb["cpu_svn"] = body.cpu_svn.hex()
        flags = {
            "attributes": [k for k, v in claims["attributes_flags"].items() if v],
            "xfrm": _set_bits(int.from_bytes(body.xfrm, "little"), _XSAVE),
            "misc_select": _set_bits(body.misc_select, {0: "exinfo"}),
        }
    else:
        tcb["tee_tcb_svn"] = list(body.tee_tcb_svn)
        if body.tee_tcb_svn2 is not None:
            tcb["tee_tcb_svn2"] = list(body.tee_tcb_svn2)
        # TEE_TCB_SVN byte 1 names the module identity in TCB Info, byte 0 is its ISVSVN
        tcb["tdx_module_identity"] = f"TDX_{body.tee_tcb_svn[1]:02X}"
        tcb["tdx_module_isv_svn"] = body.tee_tcb_svn[0]
        flags = {
            "td_attributes": [k for k, v in claims["td_attributes_flags"].items() if v],
            "xfam": _set_bits(int.from_bytes(body.xfam, "little"), _XSAVE),
            "seam_attributes": body.seam_attributes.hex(),
        }
    tcb["qe_svn"] = h.qe_svn
    tcb["qe_isv_svn"] = q.qe_report.isv_svn
    return {
        "kind": q.tee,
        "verified": False,
        "claims": claims,
        "identifiers": identifiers,
        "header": header,
        "body": {k: v for k, v in claims.items() if k not in _NOT_BODY},
        "signature": signature,
        "certificates": certificates,
        "tcb": tcb,
        "flags": flags,
    }
