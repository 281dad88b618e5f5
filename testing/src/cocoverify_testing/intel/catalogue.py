"""TEST ONLY. The project's Intel vectors (``vectors/intel``) and the demo samples.

One defect per negative case; everything else is the common, valid-at-:data:`NOW`
collateral of ``intel/common/``. The cases are a data table: one method per group.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from cocoverify_testing.intel.collateral import (
    ALL_TCB_STATUSES,
    QE_MRSIGNER,
    SGX_PLATFORM_TCB,
    TDX_LEVELS,
    TDX_TEE_TCB_SVN,
    add_space,
    sgx_qe_identity,
    sgx_tcb_info,
    td_qe_identity,
    tdx_tcb_info,
)
from cocoverify_testing.intel.layout import SGX_ATTR_DEBUG, TD_ATTR_DEBUG, TD_ATTR_SEPT_VE_DISABLE
from cocoverify_testing.intel.pck import TDX_FMSPC, sgx_pck
from cocoverify_testing.intel.pki import NOW, CrlKnobs, FakeIntelPKI
from cocoverify_testing.intel.quotes import QuoteBuilder
from cocoverify_testing.manifest import exit_code, write_file
from cocoverify_testing.pki import iso, pem, serial_from_label

__all__ = ["ACCEPT_ALL_POLICY", "AT", "generate_vectors", "write_samples"]

AT = iso(NOW)

ACCEPT_ALL_POLICY: Mapping[str, Any] = {
    "accepted_tcb_statuses": list(ALL_TCB_STATUSES),
    "unsafe_accept_revoked": True,
}

_DAY = _dt.timedelta(days=1)
_DER = serialization.Encoding.DER
_C = "intel/common/"


def _tcb_svn(*svns: int) -> bytes:
    return bytes((*svns, *[0] * (16 - len(svns))))


class _Vectors:
    """Writes the Intel vector files under ``outdir`` and collects manifest entries.

    One defect per negative case; everything else is the common, valid-at-``NOW``
    collateral of ``intel/common/``.
    """

    def __init__(self, outdir: Path) -> None:
        self.out = outdir
        self.pki = FakeIntelPKI()
        self.cases: list[dict[str, Any]] = []
        self.trust = {"intel_roots": [self.pki.root_fingerprint()]}
        self.sgx = QuoteBuilder.sgx()
        self.tdx = QuoteBuilder.tdx()
        self.td15 = QuoteBuilder.tdx(version=5, body_type=3)
        self.files = self._common()

    # --- plumbing
    def write(self, rel: str, data: bytes) -> str:
        return write_file(self.out, rel, data)

    def case_file(self, case_id: str, fname: str, data: bytes) -> str:
        return self.write(f"intel/cases/{case_id}/{fname}", data)

    def _common(self) -> dict[str, str]:
        pki = self.pki
        return {
            "root_crl": self.write(_C + "root_ca_crl.der", pki.root_crl.public_bytes(_DER)),
            "platform_crl": self.write(
                _C + "pck_crl_platform.der", pki.platform_crl.public_bytes(_DER)
            ),
            "processor_crl": self.write(
                _C + "pck_crl_processor.der", pki.processor_crl.public_bytes(_DER)
            ),
            "platform_chain": self.write(
                _C + "pck_crl_issuer_chain_platform.pem", pki.pck_crl_issuer_chain_pem("platform")
            ),
            "processor_chain": self.write(
                _C + "pck_crl_issuer_chain_processor.pem",
                pki.pck_crl_issuer_chain_pem("processor"),
            ),
            "signing_chain": self.write(_C + "tcb_signing_chain.pem", pki.tcb_signing_chain_pem()),
            "sgx_tcb": self.write(_C + "sgx_tcb_info.json", pki.tcb_info_body(sgx_tcb_info())),
            "sgx_tcb_v2": self.write(
                _C + "sgx_tcb_info_v2.json",
                pki.tcb_info_body(sgx_tcb_info(version=2, fmspc_lower_case=True)),
            ),
            "sgx_qe": self.write(
                _C + "sgx_qe_identity.json", pki.qe_identity_body(sgx_qe_identity())
            ),
            "tdx_tcb": self.write(_C + "tdx_tcb_info.json", pki.tcb_info_body(tdx_tcb_info())),
            "tdx_qe": self.write(
                _C + "tdx_qe_identity.json", pki.qe_identity_body(td_qe_identity())
            ),
        }

    def collateral(self, tee: str, **replace_: str | None) -> list[str]:
        """The common files of ``tee`` by role; ``role=path`` replaces, ``role=None`` drops."""
        ca = "processor" if tee == "sgx" else "platform"
        roles: dict[str, str | None] = {
            "root_crl": self.files["root_crl"],
            "pck_crl": self.files[f"{ca}_crl"],
            "pck_crl_chain": self.files[f"{ca}_chain"],
            "signing_chain": self.files["signing_chain"],
            "tcb_info": self.files[f"{tee}_tcb"],
            "qe_identity": self.files[f"{tee}_qe"],
        }
        for role, value in replace_.items():
            if role not in roles:
                raise KeyError(role)
            roles[role] = value
        return [v for v in roles.values() if v is not None]

    def add(
        self,
        case_id: str,
        quote: bytes | QuoteBuilder,
        expected: str,
        description: str,
        *features: str,
        collateral: list[str] | None = None,
        policy: Mapping[str, Any] | None = None,
        tcb_status: str | None = None,
        evidence_rel: str | None = None,
    ) -> str:
        """One manifest entry; ``quote`` builders are signed by the common PKI."""
        platform = case_id.split(".", 1)[0]
        data = quote.sign(self.pki) if isinstance(quote, QuoteBuilder) else quote
        rel = evidence_rel or self.write(f"intel/quotes/{case_id}.bin", data)
        version = int.from_bytes(data[:2], "little")
        entry: dict[str, Any] = {
            "id": case_id,
            "platform": platform,
            "evidence": rel,
            "collateral": collateral if collateral is not None else self.collateral(platform),
            "trust": self.trust,
            "policy": dict(policy) if policy is not None else None,
            "at": AT,
            "expected": expected,
            "exit_code": exit_code(expected),
        }
        if tcb_status is not None:
            entry["expected_tcb_status"] = tcb_status
        entry["features"] = [platform, f"quote_v{version}", *features]
        entry["description"] = description
        self.cases.append(entry)
        return rel

    def status_pair(
        self, case_id: str, quote: QuoteBuilder, status: str, description: str, *features: str
    ) -> None:
        """The default policy rejects ``status``; a policy accepting every status accepts it."""
        rel = self.add(
            case_id,
            quote,
            "tcb_status_rejected",
            description + " (default policy)",
            *features,
            "tcb_status",
            tcb_status=status,
        )
        self.add(
            case_id + ".accepted",
            quote,
            "accept",
            description + " (policy accepts every status)",
            *features,
            "tcb_status",
            "policy",
            policy=ACCEPT_ALL_POLICY,
            tcb_status=status,
            evidence_rel=rel,
        )

    # --- the groups
    def good(self) -> None:
        ok = "UpToDate"
        self.add("sgx.good.v3", self.sgx, "accept", "SGX v3, UpToDate", "good", tcb_status=ok)
        self.add(
            "sgx.good.v5",
            QuoteBuilder.sgx(version=5),
            "accept",
            "SGX v5 (body type 1), nested certification data type 6",
            "body_type_1",
            "good",
            tcb_status=ok,
        )
        self.add(
            "sgx.good.tcb_info_v2",
            self.sgx,
            "accept",
            "SGX v3 with TCB Info version 2 (sgxtcbcompNNsvn form, no id)",
            "tcb_info_v2",
            "good",
            collateral=self.collateral("sgx", tcb_info=self.files["sgx_tcb_v2"]),
            tcb_status=ok,
        )
        self.add("tdx.good.v4", self.tdx, "accept", "TDX v4 (TD10), TDX_01", "good", tcb_status=ok)
        self.add(
            "tdx.good.v5_td10",
            QuoteBuilder.tdx(version=5, body_type=2),
            "accept",
            "TDX v5, body type 2 (TD10)",
            "body_type_2",
            "good",
            tcb_status=ok,
        )
        self.add(
            "tdx.good.v5_td15",
            self.td15,
            "accept",
            "TDX v5, body type 3 (TD15), TEE_TCB_SVN2 and MRSERVICETD zero",
            "body_type_3",
            "good",
            tcb_status=ok,
        )
        self.add(
            "tdx.good.zero_padded",
            self.tdx.pad(8000),
            "accept",
            "TDX v4 zero-padded to 8000 bytes, as real TDX quote buffers are",
            "trailing_zero_padding",
            "good",
            tcb_status=ok,
        )

    def tcb(self) -> None:
        slugs = {
            "SWHardeningNeeded": "sw_hardening_needed",
            "ConfigurationNeeded": "configuration_needed",
            "ConfigurationAndSWHardeningNeeded": "configuration_and_sw_hardening_needed",
            "OutOfDate": "out_of_date",
            "OutOfDateConfigurationNeeded": "out_of_date_configuration_needed",
            "Revoked": "revoked",
        }
        for status, slug in slugs.items():
            self.status_pair(
                f"sgx.tcb.{slug}",
                self.sgx.platform_tcb(SGX_PLATFORM_TCB[status]),
                status,
                f"SGX platform TCB matches the {status} level",
            )
        self.status_pair(
            "sgx.tcb.qe_out_of_date",
            self.sgx.qe_report_field("isv_svn", 7),
            "OutOfDate",
            "QE ISVSVN 7 matches the OutOfDate QE level; UpToDate platform merges to OutOfDate",
            "qe_identity",
        )
        self.add(
            "sgx.tcb.not_supported",
            self.sgx.platform_tcb(SGX_PLATFORM_TCB["NotSupported"]),
            "tcb_not_supported",
            "SGX platform TCB below every level",
            "tcb_status",
        )
        low_module = _tcb_svn(2, 1, 2)  # module ISVSVN 2: TDX_01's OutOfDate level
        self.status_pair(
            "tdx.tcb.out_of_date",
            self.tdx.tee_tcb_svn(_tcb_svn(3, 1, 1)),
            "OutOfDate",
            "TEE_TCB_SVN[2]=1 matches the TDX OutOfDate level",
        )
        self.status_pair(
            "tdx.tcb.module_out_of_date",
            self.tdx.tee_tcb_svn(low_module),
            "OutOfDate",
            "module ISVSVN 2 matches TDX_01's OutOfDate level; UpToDate merges to OutOfDate",
            "tdx_module",
        )
        self.status_pair(
            "tdx.tcb.module_out_of_date_configuration_needed",
            self.tdx.platform_tcb(TDX_LEVELS[2].sgx).tee_tcb_svn(low_module),  # ConfigurationNeeded
            "OutOfDateConfigurationNeeded",
            "ConfigurationNeeded platform level merged with module OutOfDate",
            "tdx_module",
        )
        self.status_pair(
            "tdx.tcb.qe_out_of_date",
            self.tdx.qe_report_field("isv_svn", 3),
            "OutOfDate",
            "TD_QE ISVSVN 3 matches the OutOfDate QE level; merges to OutOfDate",
            "qe_identity",
        )
        self.status_pair(
            "tdx.tcb.td_relaunch_advised",
            self.td15.tee_tcb_svn(low_module).tee_tcb_svn2(TDX_TEE_TCB_SVN),
            "TDRelaunchAdvised",
            "TD15: module OutOfDate, TEE_TCB_SVN2 reaches the latest module and TDX level",
            "body_type_3",
            "td_relaunch",
        )
        self.add(
            "tdx.tcb.not_supported",
            self.tdx.tee_tcb_svn(_tcb_svn(3, 1, 0)),
            "tcb_not_supported",
            "TEE_TCB_SVN[2]=0 is below every TDX level",
            "tcb_status",
        )

    def module(self) -> None:
        for case_id, quote, reason, desc in (
            (
                "tdx.module.identity_missing",
                self.tdx.tee_tcb_svn(_tcb_svn(3, 2, 2)),
                "tdx_module_identity_missing",
                "module major version 2: no TDX_02 identity",
            ),
            (
                "tdx.module.mrsignerseam_mismatch",
                self.tdx.mr_signer_seam(b"\x01" * 48),
                "tdx_module_mismatch",
                "MRSIGNERSEAM differs from TDX_01 mrsigner",
            ),
            (
                "tdx.module.seamattributes_mismatch",
                self.tdx.seam_attributes(1),
                "tdx_module_mismatch",
                "SEAMATTRIBUTES non-zero",
            ),
        ):
            self.add(case_id, quote, reason, desc, "tdx_module")

    def chain(self) -> None:
        rogue = FakeIntelPKI(root_key="rogue-root")
        rid = "sgx.chain.untrusted_root"
        rogue_files = [
            self.case_file(rid, "root_ca_crl.der", rogue.root_crl.public_bytes(_DER)),
            self.case_file(rid, "pck_crl_processor.der", rogue.processor_crl.public_bytes(_DER)),
            self.case_file(
                rid, "pck_crl_issuer_chain.pem", rogue.pck_crl_issuer_chain_pem("processor")
            ),
            self.case_file(rid, "tcb_signing_chain.pem", rogue.tcb_signing_chain_pem()),
            self.case_file(rid, "tcb_info.json", rogue.tcb_info_body(sgx_tcb_info())),
            self.case_file(rid, "qe_identity.json", rogue.qe_identity_body(sgx_qe_identity())),
        ]
        self.add(
            rid,
            self.sgx.sign(rogue),
            "untrusted_root",
            "a consistent look-alike PKI with Intel's names but another root key",
            "pck_chain",
            collateral=rogue_files,
        )
        pck = sgx_pck()
        ca = self.pki.processor_ca
        for case_id, quote, reason, desc in (
            (
                "sgx.chain.pck_expired",
                self.sgx.pck(replace(pck, not_after=NOW - _DAY)),
                "certificate_expired",
                "PCK leaf notAfter one day before at",
            ),
            (
                "sgx.chain.pck_not_yet_valid",
                self.sgx.pck(replace(pck, not_before=NOW + _DAY)),
                "certificate_not_yet_valid",
                "PCK leaf notBefore one day after at",
            ),
            (
                "sgx.chain.intermediate_expired",
                self.sgx.sign(self.pki.but(processor_ca=replace(ca, not_after=NOW - _DAY))),
                "certificate_expired",
                "PCK Processor CA notAfter one day before at",
            ),
            (
                "sgx.chain.intermediate_not_yet_valid",
                self.sgx.sign(self.pki.but(processor_ca=replace(ca, not_before=NOW + _DAY))),
                "certificate_not_yet_valid",
                "PCK Processor CA notBefore one day after at",
            ),
        ):
            self.add(case_id, quote, reason, desc, "pck_chain")

    def crl(self) -> None:
        pki = self.pki
        root_knobs, proc_knobs = pki.root_crl_knobs, pki.processor_crl_knobs
        stale = CrlKnobs(NOW - 31 * _DAY, NOW - _DAY)
        for case_id, role, crl, reason, desc in (
            (
                "sgx.crl.pck_revoked",
                "pck_crl",
                pki.but(
                    processor_crl_knobs=replace(
                        proc_knobs, revoked=(serial_from_label("unrelated"), sgx_pck().serial)
                    )
                ).processor_crl,
                "certificate_revoked",
                "PCK leaf serial listed in the Processor CA CRL",
            ),
            (
                "sgx.crl.intermediate_revoked",
                "root_crl",
                pki.but(
                    root_crl_knobs=replace(root_knobs, revoked=(pki.processor_ca.serial,))
                ).root_crl,
                "certificate_revoked",
                "PCK Processor CA serial listed in the Root CA CRL",
            ),
            (
                "sgx.crl.pck_crl_bad_signature",
                "pck_crl",
                pki.but(
                    processor_crl_knobs=replace(proc_knobs, signer="not-the-processor-ca")
                ).processor_crl,
                "crl_invalid",
                "Processor CA CRL signed by another key (issuer name right)",
            ),
            (
                "sgx.crl.root_crl_bad_signature",
                "root_crl",
                pki.but(root_crl_knobs=replace(root_knobs, signer="not-the-root")).root_crl,
                "crl_invalid",
                "Root CA CRL signed by another key (issuer name right)",
            ),
            (
                "sgx.crl.pck_crl_stale",
                "pck_crl",
                pki.but(processor_crl_knobs=stale).processor_crl,
                "crl_expired",
                "Processor CA CRL nextUpdate one day before at",
            ),
            (
                "sgx.crl.root_crl_stale",
                "root_crl",
                pki.but(root_crl_knobs=stale).root_crl,
                "crl_expired",
                "Root CA CRL nextUpdate one day before at",
            ),
        ):
            f = self.case_file(case_id, "crl.der", crl.public_bytes(_DER))
            self.add(
                case_id,
                self.sgx,
                reason,
                desc,
                "crl",
                collateral=self.collateral("sgx", **{role: f}),
            )
        self.add(
            "sgx.crl.other_ca_only",
            self.sgx,
            "crl_invalid",
            "only the Platform CA CRL is given for a Processor-CA PCK leaf",
            "crl",
            collateral=self.collateral(
                "sgx",
                pck_crl=self.files["platform_crl"],
                pck_crl_chain=self.files["platform_chain"],
            ),
        )

    def collateral_cases(self) -> None:
        pki = self.pki
        good = pki.tcb_info_body(sgx_tcb_info())
        at = good.rindex(b'"signature":"') + len(b'"signature":"')
        bad_sig = good[:at] + (b"1" if good[at : at + 1] == b"0" else b"0") + good[at + 1 :]
        bad_signer = pki.but(tcb_signing=replace(pki.tcb_signing, signer="not-the-root"))
        past = {"issue_date": NOW - 31 * _DAY, "next_update": NOW - _DAY}
        future = {"issue_date": NOW + _DAY, "next_update": NOW + 31 * _DAY}
        cases: list[tuple[str, str, bytes | None, str, str]] = [
            (
                "sgx.collateral.fmspc_mismatch",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(fmspc=bytes.fromhex("00906EA50000"))),
                "collateral_mismatch",
                "TCB Info for another FMSPC",
            ),
            (
                "sgx.collateral.pceid_mismatch",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(pce_id=b"\x00\x01")),
                "collateral_mismatch",
                "TCB Info pceId 0001, PCK leaf PCE-ID 0000",
            ),
            (
                "tdx.collateral.tcb_info_id_sgx",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(fmspc=TDX_FMSPC)),
                "collateral_mismatch",
                "TCB Info id SGX (right FMSPC) for a TDX quote",
            ),
            (
                "sgx.collateral.tcb_info_added_space",
                "tcb_info",
                add_space(good),
                "collateral_signature_invalid",
                "one space added inside the signed tcbInfo text",
            ),
            (
                "sgx.collateral.tcb_info_bad_signature",
                "tcb_info",
                bad_sig,
                "collateral_signature_invalid",
                "first hex digit of the TCB Info signature changed",
            ),
            (
                "sgx.collateral.tcb_info_expired",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(**past)),
                "collateral_expired",
                "TCB Info nextUpdate one day before at",
            ),
            (
                "sgx.collateral.tcb_info_issued_in_future",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(**future)),
                "collateral_not_yet_valid",
                "TCB Info issueDate one day after at",
            ),
            (
                "sgx.collateral.qe_identity_expired",
                "qe_identity",
                pki.qe_identity_body(sgx_qe_identity(**past)),
                "collateral_expired",
                "QE Identity nextUpdate one day before at",
            ),
            (
                "sgx.collateral.tcb_signer_not_signed_by_root",
                "signing_chain",
                bad_signer.tcb_signing_chain_pem(),
                "collateral_chain_invalid",
                "TCB Signing certificate (Intel root issuer name) signed by another key",
            ),
            (
                "sgx.collateral.tcb_info_missing",
                "tcb_info",
                None,
                "collateral_missing",
                "no TCB Info among the collateral",
            ),
        ]
        for case_id, role, body, reason, desc in cases:
            tee = case_id.split(".", 1)[0]
            fname = "tcb_signing_chain.pem" if role == "signing_chain" else "collateral.json"
            f = self.case_file(case_id, fname, body) if body is not None else None
            self.add(
                case_id,
                self.sgx if tee == "sgx" else self.tdx,
                reason,
                desc,
                "collateral",
                collateral=self.collateral(tee, **{role: f}),
            )

    def authenticity(self) -> None:
        sgx, tdx, pki = self.sgx, self.tdx, self.pki
        debug_qe_attrs = (0x17).to_bytes(8, "little") + (0xE7).to_bytes(8, "little")
        for case_id, quote, reason, desc, feature in (
            (
                "sgx.qe.report_data_mismatch",
                sgx.qe_report_data(bytes(64)),
                "qe_report_data_mismatch",
                "QE REPORTDATA does not bind key + auth data (QE report still signed)",
                "qe_report",
            ),
            (
                "sgx.qe.report_signature_invalid",
                sgx.flip(sgx.field_offset(pki, "qe_report_signature") + 5),
                "qe_report_signature_invalid",
                "one bit of the QE report signature flipped",
                "qe_report",
            ),
            (
                "tdx.qe.report_signature_invalid",
                tdx.flip(tdx.field_offset(pki, "qe_cert_data.qe_report_signature") + 5),
                "qe_report_signature_invalid",
                "one bit of the nested QE report signature flipped",
                "qe_report",
            ),
            (
                "sgx.quote.signature_invalid",
                sgx.flip(sgx.field_offset(pki, "body.report_data")),
                "signature_invalid",
                "one REPORTDATA bit flipped after signing",
                "signature",
            ),
            (
                "tdx.quote.signature_invalid",
                tdx.flip(tdx.field_offset(pki, "body.report_data")),
                "signature_invalid",
                "one REPORTDATA bit flipped after signing",
                "signature",
            ),
            (
                "sgx.qe_identity.mrsigner_mismatch",
                sgx.qe_report_field("mr_signer", b"\x5a" * 32),
                "qe_identity_mismatch",
                "QE MRSIGNER differs from the QE identity",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.isvprodid_mismatch",
                sgx.qe_report_field("isv_prod_id", 2),
                "qe_identity_mismatch",
                "QE ISVPRODID 2, identity says 1",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.miscselect_mismatch",
                sgx.qe_report_field("miscselect", 1),
                "qe_identity_mismatch",
                "QE MISCSELECT bit 0 set under mask FFFFFFFF",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.attributes_mismatch",
                sgx.qe_report_field("attributes", debug_qe_attrs),
                "qe_identity_mismatch",
                "QE ATTRIBUTES DEBUG bit set (inside the mask)",
                "qe_identity",
            ),
            (
                "tdx.qe_identity.mrsigner_mismatch",
                tdx.qe_report_field("mr_signer", QE_MRSIGNER),
                "qe_identity_mismatch",
                "TD quote whose QE has the SGX QE's MRSIGNER",
                "qe_identity",
            ),
            (
                "sgx.header.qe_vendor_id_unknown",
                sgx.qe_vendor_id(bytes(16)),
                "qe_vendor_id_unknown",
                "QE vendor ID all zero (quote properly signed)",
                "header",
            ),
        ):
            self.add(case_id, quote, reason, desc, feature)

    def format(self) -> None:
        sgx, tdx = self.sgx, self.tdx
        for case_id, quote, reason, desc in (
            (
                "sgx.header.key_type_3",
                sgx.key_type(3),
                "unsupported_key_type",
                "attestation key type 3 (ECDSA-384)",
            ),
            ("sgx.header.version_6", sgx.version(6), "unsupported_version", "quote version 6"),
            (
                "sgx.header.tee_type_tdx_in_v3",
                sgx.tee_type(0x81),
                "unsupported_tee_type",
                "v3 quote with TEE type 0x81",
            ),
            (
                "tdx.header.v5_body_type_9",
                QuoteBuilder.tdx(version=5).body_type(9),
                "unsupported_version",
                "v5 body descriptor type 9 (TD10-sized body)",
            ),
            (
                "sgx.cert_data.type_7",
                sgx.cert_data_type(7),
                "unsupported_certification_data",
                "certification data type 7 (platform manifest)",
            ),
            (
                "sgx.sig_data_len_too_large",
                sgx.sig_data_len_delta(1),
                "truncated",
                "signature data length one more than the bytes present",
            ),
            (
                "tdx.trailing.nonzero",
                tdx.append(bytes(16) + b"\x01"),
                "accept",
                "16 zero bytes then 0x01 after a complete quote: ignored, as QVL does "
                "(outside the signed region; reported as a warning)",
            ),
        ):
            self.add(case_id, quote, reason, desc, "format")

    def truncation(self) -> None:
        for tee, base in (("sgx", self.sgx), ("tdx", self.tdx)):
            built = base.build(self.pki)
            seen: set[int] = set()
            for f in built.fields:
                if f.offset < 8 or f.offset in seen:
                    continue  # fewer than 8 bytes cannot be recognised as a quote at all
                seen.add(f.offset)
                self.add(
                    f"{tee}.truncated.{f.name.replace('.', '_')}",
                    built.data[: f.offset],
                    "truncated",
                    f"quote cut where {f.name} starts (offset {f.offset})",
                    "truncation",
                )
            last = built.fields[-1]
            self.add(
                f"{tee}.truncated.cert_data_middle",
                built.data[: last.offset + last.size // 2],
                "truncated",
                "quote cut in the middle of the PCK chain",
                "truncation",
            )

    def policy(self) -> None:
        for case_id, quote, reason, desc in (
            (
                "sgx.policy.debug",
                self.sgx.attributes(0x05 | SGX_ATTR_DEBUG),
                "debug_enabled",
                "SGX ATTRIBUTES.DEBUG set",
            ),
            (
                "tdx.policy.debug",
                self.tdx.td_attributes(TD_ATTR_SEPT_VE_DISABLE | TD_ATTR_DEBUG),
                "debug_enabled",
                "TDATTRIBUTES.DEBUG set",
            ),
            (
                "tdx.policy.sept_ve_disable_clear",
                self.tdx.td_attributes(0),
                "attribute_rejected",
                "TDATTRIBUTES.SEPT_VE_DISABLE clear",
            ),
            (
                "tdx.policy.mr_service_td_nonzero",
                self.td15.mr_service_td(b"\x11" * 48),
                "measurement_mismatch",
                "TD15 MRSERVICETD non-zero, policy lists none",
            ),
        ):
            self.add(case_id, quote, reason, desc, "policy")


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/intel/...`` and return the manifest entries (paths relative to outdir).

    Deterministic: the same bytes every run. ``<outdir>/intel`` is recreated.
    """
    out = Path(outdir)
    shutil.rmtree(out / "intel", ignore_errors=True)
    v = _Vectors(out)
    for group in (
        v.good,
        v.tcb,
        v.module,
        v.chain,
        v.crl,
        v.collateral_cases,
        v.authenticity,
        v.format,
        v.truncation,
        v.policy,
    ):
        group()
    return v.cases


def write_samples(outdir: str | Path) -> list[str]:
    """``<outdir>/{sgx,tdx}/quote.bin`` + ``collateral/`` and ``<outdir>/trust/`` (demo)."""
    out = Path(outdir)
    shutil.rmtree(out, ignore_errors=True)
    pki = FakeIntelPKI()
    written: list[str] = []

    def put(rel: str, data: bytes) -> None:
        written.append(write_file(out, rel, data))

    put("trust/intel_root_ca.pem", pem(pki.root_cert))
    for tee, builder, ca, tcb, ident in (
        ("sgx", QuoteBuilder.sgx(), "processor", sgx_tcb_info(), sgx_qe_identity()),
        ("tdx", QuoteBuilder.tdx(), "platform", tdx_tcb_info(), td_qe_identity()),
    ):
        put(f"{tee}/quote.bin", builder.sign(pki))
        put(f"{tee}/collateral/tcb_info.json", pki.tcb_info_body(tcb))
        put(f"{tee}/collateral/qe_identity.json", pki.qe_identity_body(ident))
        put(f"{tee}/collateral/tcb_info_issuer_chain.pem", pki.tcb_signing_chain_pem())
        put(f"{tee}/collateral/pck_crl.der", pki.pck_crl(ca).public_bytes(_DER))
        put(f"{tee}/collateral/pck_crl_issuer_chain.pem", pki.pck_crl_issuer_chain_pem(ca))
        put(f"{tee}/collateral/root_ca_crl.der", pki.root_crl.public_bytes(_DER))
    return written
