"""Evidence for the benchmarks: real public vectors and generated, distinct evidence.

Real evidence comes from ``../shared/vectors`` (Intel cases that ship the exact collateral
JSON handed to dcap-qvl, SNP reports, CCA tokens). Generated evidence comes from the TEST
ONLY fake PKIs of ``cocoverify_testing``: many *distinct* quotes of one fake platform (same
PCK chain and QE report, different REPORTDATA, so no cache can memoise a whole quote), and
quotes of platforms never seen before (new PCK leaf key and serial, new PPID, new
attestation key, hence a new QE report).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization

from cocoverify import CocoverifyError, Policy, TrustStore, Verifier, load_collateral

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "vectors"
PROJECT = ROOT / "vectors"
INTEL_COMMON = PROJECT / "intel" / "common"

#: Collateral roles of a real Intel case (the same list as tests/golden/outputs.py).
INTEL_ROLES = (
    "tcb_info",
    "qe_identity",
    "pck_crl",
    "root_ca_crl",
    "pck_crl_issuer_chain",
    "tcb_info_issuer_chain",
    "qe_identity_issuer_chain",
    "pck_cert_chain",
)
AMD_ROLES = ("vcek", "vlek", "ask", "asvk", "ark", "crl")
CCA_AT = "2026-01-01T00:00:00Z"

#: Every TCB status except Revoked: the whole pipeline runs to the end, as dcap-qvl's does
#: (dcap-qvl reports the status and leaves the decision to the caller).
TCB_STATUSES = frozenset(
    {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
    }
)
ANY_STATUS = Policy(accepted_tcb_statuses=TCB_STATUSES)


def epoch(at: str) -> int:
    """Seconds since the epoch of an ISO 8601 time ending in Z."""
    return int(_dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


@dataclass
class Case:
    """One piece of evidence, how to verify it, and (Intel) the peer's collateral."""

    id: str
    tee: str  # sgx, tdx, snp, cca
    evidence: bytes
    at: str
    verifier: Verifier
    dcap_collateral: Any = None  # dcap_qvl.QuoteCollateralV3
    dcap_root: bytes | None = None  # DER root for dcap_qvl.verify_with_root_ca
    product: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def verify(self, evidence: bytes | None = None) -> bool:
        """cocoverify on this case; True when accepted (rejections are a normal outcome)."""
        try:
            self.verifier.verify(self.evidence if evidence is None else evidence, at=self.at)
        except CocoverifyError:
            return False
        return True

    def outcome(self) -> str:
        """``accept`` or the reason code."""
        try:
            self.verifier.verify(self.evidence, at=self.at)
        except CocoverifyError as exc:
            return exc.reason.value
        return "accept"


def _manifest(family: str) -> dict[str, Any] | None:
    path = SHARED / family / "MANIFEST.json"
    return json.loads(path.read_text()) if path.is_file() else None


def real_intel(*, with_peer: bool = True) -> list[Case]:
    """Real Intel quotes whose case ships ``collateral_dcapqvl``, at their ``verify_at``."""
    m = _manifest("intel")
    out: list[Case] = []
    for c in m["cases"] if m else []:
        files = c["files"]
        if "collateral_dcapqvl" not in files:
            continue
        base = SHARED / "intel" / c["id"]
        coll = load_collateral([base / files[r] for r in INTEL_ROLES if r in files])
        quote = (base / files["quote"]).read_bytes()
        dcap = None
        if with_peer:
            import dcap_qvl  # the bench extra

            dcap = dcap_qvl.QuoteCollateralV3.from_json(
                (base / files["collateral_dcapqvl"]).read_text()
            )
        out.append(
            Case(
                id=c["id"],
                tee="sgx" if c["id"].startswith("sgx") else "tdx",
                evidence=quote,
                at=c["verify_at"],
                verifier=Verifier(collateral=coll, policy=ANY_STATUS),
                dcap_collateral=dcap,
            )
        )
    return out


def real_snp() -> list[Case]:
    """Real SNP reports with their VCEK/VLEK chain, at their verification time."""
    m = _manifest("amd")
    out: list[Case] = []
    for c in m["cases"] if m else []:
        f = c["files"]
        if "report" not in f or not ({"vcek", "vlek"} & set(f)):
            continue
        base = SHARED / "amd" / c["dir"]
        coll = load_collateral([base / f[r] for r in AMD_ROLES if r in f])
        out.append(
            Case(
                id=c["id"],
                tee="snp",
                evidence=(base / f["report"]).read_bytes(),
                at=c.get("verification_time", "2025-01-01T00:00:00Z"),
                verifier=Verifier(collateral=coll),
            )
        )
    return out


def real_cca() -> list[Case]:
    """Real CCA tokens with their platform key (PEM), at a fixed time."""
    m = _manifest("cca")
    out: list[Case] = []
    for c in m["cases"] if m else []:
        if c["kind"] != "cca-token" or "platform_key" not in c["files"]:
            continue
        base = SHARED / "cca" / c["id"]
        out.append(
            Case(
                id=c["id"],
                tee="cca",
                evidence=(base / c["files"]["token"]).read_bytes(),
                at=CCA_AT,
                verifier=Verifier(collateral=load_collateral([base / c["files"]["platform_key"]])),
            )
        )
    return out


# --- generated Intel evidence ---------------------------------------------------------------


def _intel_files(tee: str) -> list[Path]:
    ca = "processor" if tee == "sgx" else "platform"
    names = [
        "root_ca_crl.der",
        f"pck_crl_{ca}.der",
        f"pck_crl_issuer_chain_{ca}.pem",
        "tcb_signing_chain.pem",
        f"{tee}_tcb_info.json",
        f"{tee}_qe_identity.json",
    ]
    return [INTEL_COMMON / n for n in names]


def _signed_member(body: bytes, member: str) -> tuple[str, bytes]:
    """The exact signed text of ``{"<member>":...,"signature":"<hex>"}`` and the signature."""
    text = body.decode()
    head, sep = '{"' + member + '":', ',"signature":"'
    cut = text.rindex(sep)
    if not text.startswith(head):
        raise ValueError(f"not a {member} body")
    return text[len(head) : cut], bytes.fromhex(text[cut + len(sep) : text.rindex('"')])


class FakeIntel:
    """One fake Intel platform per TEE, its collateral, and quote streams (TEST ONLY PKI)."""

    def __init__(self) -> None:
        from cocoverify_testing.intel import AT, FakeIntelPKI

        self.pki = FakeIntelPKI()
        self.at = AT
        self.trust = TrustStore(intel_roots=[self.pki.root_fingerprint()])
        self.root_der = self.pki.root_cert.public_bytes(serialization.Encoding.DER)
        self.root_pem = self.pki.root_cert.public_bytes(serialization.Encoding.PEM)

    def files(self, tee: str) -> list[Path]:
        """The collateral files of ``tee`` (vectors/intel/common)."""
        return _intel_files(tee)

    def verifier(self, tee: str) -> Verifier:
        """A long-lived Verifier holding ``tee``'s collateral, pinned to the fake root."""
        return Verifier(
            collateral=load_collateral(self.files(tee)), trust=self.trust, policy=ANY_STATUS
        )

    def dcap_collateral(self, tee: str) -> Any:
        """The same collateral as a dcap_qvl.QuoteCollateralV3."""
        import dcap_qvl

        crl, chain, signing, tcb, qe = (self.files(tee)[i].read_bytes() for i in (1, 2, 3, 4, 5))
        tcb_text, tcb_sig = _signed_member(tcb, "tcbInfo")
        qe_text, qe_sig = _signed_member(qe, "enclaveIdentity")
        return dcap_qvl.QuoteCollateralV3(
            pck_crl_issuer_chain=chain.decode(),
            root_ca_crl=self.files(tee)[0].read_bytes(),
            pck_crl=crl,
            tcb_info_issuer_chain=signing.decode(),
            tcb_info=tcb_text,
            tcb_info_signature=tcb_sig,
            qe_identity_issuer_chain=signing.decode(),
            qe_identity=qe_text,
            qe_identity_signature=qe_sig,
        )

    def builder(self, tee: str) -> Any:
        """The default SGX v3 or TDX v4 quote builder."""
        from cocoverify_testing.intel import QuoteBuilder

        return QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()

    def distinct(self, tee: str, n: int, *, start: int = 0, tamper: bool = False) -> list[bytes]:
        """``n`` quotes of one platform that differ only in REPORTDATA (each re-signed by
        the attestation key, exactly what ``builder.report_data(x).sign(pki)`` gives).
        ``tamper``: flip a REPORTDATA bit after signing (the quote signature fails)."""
        from cocoverify_testing.pki import sign_ecdsa_raw

        built = self.builder(tee).build(self.pki)
        rd = built.field("body.report_data")
        sig = built.field("signature")
        signed_end = built.field("sig_data_len").offset
        key = self.pki.key("intel-attestation-key")
        out = []
        for i in range(start, start + n):
            data = bytearray(built.data)
            data[rd.offset : rd.offset + 64] = i.to_bytes(32, "big").ljust(64, b"\x00")
            data[sig.offset : sig.offset + 64] = sign_ecdsa_raw(
                key, bytes(data[:signed_end]), hashes.SHA256()
            )
            if tamper:
                data[rd.offset + 40] ^= 0x01
            out.append(bytes(data))
        return out

    def check_distinct(self, tee: str) -> None:
        """The patched quotes equal the builder's (so the shortcut is honest)."""
        want = self.builder(tee).report_data((7).to_bytes(32, "big")).sign(self.pki)
        if self.distinct(tee, 1, start=7)[0] != want:
            raise AssertionError("distinct(): patched quote differs from QuoteBuilder output")

    def new_platforms(self, tee: str, n: int, *, tag: str = "bench") -> list[bytes]:
        """``n`` quotes, each from a platform never seen: new PCK leaf (key, serial, PPID,
        platform instance), new attestation key, hence a new QE report."""
        from cocoverify_testing.pki import fill, serial_from_label

        base = self.builder(tee)
        spec = base.pck_spec
        out = []
        for i in range(n):
            label = f"{tag}-{os.getpid()}-{tee}-{i}"
            ext = replace(spec.extension, ppid=fill(f"ppid-{label}", 16))
            if ext.platform_instance_id is not None:
                ext = replace(ext, platform_instance_id=fill(f"pi-{label}", 16))
            pck = replace(
                spec, key=f"pck-{label}", serial=serial_from_label(f"pck-{label}"), extension=ext
            )
            out.append(base.pck(pck).attestation_key(f"ak-{label}").sign(self.pki))
        return out


# --- generated SNP and CCA evidence -----------------------------------------------------------


def _project_case(case_id: str) -> dict[str, Any]:
    manifest = json.loads((PROJECT / "manifest.json").read_text())
    for c in manifest["cases"]:
        if c["id"] == case_id:
            return dict(c)
    raise KeyError(case_id)


def _project_verifier(c: dict[str, Any]) -> Verifier:
    return Verifier(
        collateral=load_collateral([PROJECT / p for p in c["collateral"]]),
        trust=TrustStore(**c["trust"]) if c["trust"] is not None else None,
    )


class FakeSnp:
    """Distinct Milan v3 reports of one fake chip (different REPORTDATA), with the VCEK
    chain of ``vectors/snp/accept.milan_v3_vcek`` (TEST ONLY PKI)."""

    case_id = "snp.accept.milan_v3_vcek"

    def __init__(self) -> None:
        c = _project_case(self.case_id)
        self.at: str = c["at"]
        self.verifier = _project_verifier(c)

    def distinct(
        self, n: int, *, start: int = 0, tamper: bool = False, new_vm: bool = False
    ) -> list[bytes]:
        """``n`` signed reports differing in REPORTDATA (``tamper``: flip a bit after;
        ``new_vm``: IMAGE_ID differs too, so no report is equal to another but for
        REPORTDATA and the warm path never applies)."""
        from cocoverify_testing.snp import FakeAmdPKI, SnpReportBuilder

        pki = FakeAmdPKI()
        base = SnpReportBuilder.for_product("Milan")
        out = []
        for i in range(start, start + n):
            fields: dict[str, Any] = {"report_data": i.to_bytes(64, "big")}
            if new_vm:
                fields["image_id"] = i.to_bytes(16, "big")
            data = base.set(**fields).sign(pki)
            if tamper:
                data = data[:0x50] + bytes([data[0x50] ^ 1]) + data[0x51:]
            out.append(data)
        return out


class FakeCca:
    """Distinct CCA tokens of one fake platform (P-256 CPAK, P-384 RAK; different realm
    challenge), verified with ``vectors/cca/cca.accept.p256``'s CPAK (TEST ONLY keys)."""

    case_id = "cca.accept.p256"

    def __init__(self) -> None:
        c = _project_case(self.case_id)
        self.at: str = c["at"]
        self.verifier = _project_verifier(c)

    def distinct(self, n: int, *, start: int = 0, new_platform: bool = False) -> list[bytes]:
        """``n`` tokens differing in the realm challenge; ``new_platform``: each with its
        own platform token too (its verification-service claim differs), so the platform
        signature is verified on every call."""
        from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform

        base = CcaTokenBuilder(platform=FakeCcaPlatform(curve="P-256"))
        out = []
        for i in range(start, start + n):
            b = base.with_challenge(i.to_bytes(64, "big"))
            if new_platform:
                b = b.with_platform_claim(2400, f"https://verifier{i}.example")
            out.append(b.sign())
        return out


__all__ = [
    "ANY_STATUS",
    "CCA_AT",
    "PROJECT",
    "ROOT",
    "SHARED",
    "Case",
    "CocoverifyError",
    "FakeCca",
    "FakeIntel",
    "FakeSnp",
    "epoch",
    "real_cca",
    "real_intel",
    "real_snp",
]
