"""Helpers of the Intel tests (tests/tee/intel): hand-made TCB Info documents, and a valid
quote with its complete collateral built with the TEST-ONLY fake Intel PKI
(``cocoverify_testing.intel``), so that a test changes exactly one thing."""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import cocoverify
from cocoverify import Collateral, Policy, TrustStore
from cocoverify.tee.intel.documents import TcbInfo, parse_tcb_info
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import NOW, FakeIntelPKI, QuoteBuilder

SIGNER = "aa" * 48
DATE = "2024-03-13T00:00:00Z"


def level(
    sgx: int, pce: int, tdx: list[int], status: str, adv: list[str] | None = None, date: str = DATE
) -> dict[str, Any]:
    return {
        "tcb": {
            "sgxtcbcomponents": [{"svn": sgx}] * 16,
            "pcesvn": pce,
            "tdxtcbcomponents": [{"svn": t} for t in tdx + [0] * (16 - len(tdx))],
        },
        "tcbDate": date,
        "tcbStatus": status,
        "advisoryIDs": adv or [],
    }


def tcb_info(levels: list[dict[str, Any]], modules: list[dict[str, Any]] | None = None) -> TcbInfo:
    return parse_tcb_info(
        {
            "id": "TDX",
            "version": 3,
            "issueDate": DATE,
            "nextUpdate": "2024-04-13T00:00:00Z",
            "fmspc": "00806f050000",
            "pceId": "0000",
            "tcbType": 0,
            "tcbEvaluationDataNumber": 17,
            "tdxModule": {
                "mrsigner": SIGNER,
                "attributes": "0000000000000000",
                "attributesMask": "FFFFFFFFFFFFFFFF",
            },
            "tdxModuleIdentities": modules
            if modules is not None
            else [
                {
                    "id": "TDX_01",
                    "mrsigner": SIGNER,
                    "attributes": "0000000000000000",
                    "attributesMask": "FFFFFFFFFFFFFFFF",
                    "tcbLevels": [
                        {"tcb": {"isvsvn": 4}, "tcbDate": DATE, "tcbStatus": "UpToDate"},
                        {
                            "tcb": {"isvsvn": 2},
                            "tcbDate": DATE,
                            "tcbStatus": "OutOfDate",
                            "advisoryIDs": ["INTEL-SA-MOD"],
                        },
                    ],
                }
            ],
            "tcbLevels": levels,
        }
    )


LEVELS = [
    level(3, 11, [3, 1, 4], "UpToDate"),
    level(2, 11, [2, 1, 3], "OutOfDate", ["INTEL-SA-1"]),
    level(2, 11, [1, 1, 2], "ConfigurationNeeded", ["INTEL-SA-2"]),
]


PKI = FakeIntelPKI()
TRUST = TrustStore(intel_roots=frozenset({PKI.root_fingerprint()}))
DER = serialization.Encoding.DER


def collateral(
    tee: str = "sgx",
    *,
    pki: FakeIntelPKI = PKI,
    tcb: bytes | None = None,
    qe: bytes | None = None,
    signing: tuple[x509.Certificate, ...] | None = None,
) -> Collateral:
    """The complete, valid collateral of the default ``tee`` platform."""
    ca = "processor" if tee == "sgx" else "platform"
    if tcb is None:
        tcb = pki.tcb_info_body(fi.sgx_tcb_info() if tee == "sgx" else fi.tdx_tcb_info())
    if qe is None:
        qe = pki.qe_identity_body(fi.sgx_qe_identity() if tee == "sgx" else fi.td_qe_identity())
    return Collateral(
        chains=(signing or (pki.tcb_signing_cert, pki.root_cert), (pki.ca_cert(ca), pki.root_cert)),
        crls=(pki.root_crl, pki.pck_crl(ca)),
        tcb_infos=(tcb,),
        qe_identities=(qe,),
    )


def verify(
    quote: bytes, coll: Collateral | None = None, **kw: Any
) -> cocoverify.VerificationResult:
    tee = "sgx" if quote[4] == 0 else "tdx"
    kw.setdefault("policy", Policy())
    return cocoverify.verify(
        quote, collateral=coll if coll is not None else collateral(tee), trust=TRUST, at=NOW, **kw
    )


@cache
def built(kind: str) -> fi.BuiltQuote:
    builders = {
        "sgx3": QuoteBuilder.sgx(),
        "sgx5": QuoteBuilder.sgx(version=5),
        "tdx4": QuoteBuilder.tdx(),
        "td15": QuoteBuilder.tdx(version=5, body_type=3),
    }
    return builders[kind].build(PKI)


def cert_data_field(b: fi.BuiltQuote) -> fi.Field:
    names = {f.name for f in b.fields}
    return b.field("cert_data" if "cert_data" in names else "qe_cert_data.cert_data")
