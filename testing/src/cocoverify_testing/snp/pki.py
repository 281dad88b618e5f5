"""TEST ONLY. Fake AMD SEV-SNP authorities: ARK -> ASK/ASVK -> VCEK/VLEK, and ARK CRLs.

:class:`FakeAmdPKI` mirrors the real KDS profile (go-sev-guest ``verify.go``
``validate*X509``; KDS extensions from go-sev-guest ``kds/kds.go``): RSA-4096 ARK, ASK and
ASVK signing with RSASSA-PSS SHA-384 (salt 48), P-384 VCEK/VLEK with the KDS TCB, hwID and
product-name extensions. Its RSA keys are fixed PEM files in ``keys/amd-*.pem`` (TEST
ONLY), its EC keys derive from labels. Nothing here is trusted by the default store.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from cocoverify.tee.snp.parse import SnpReport, parse_report
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.trust import TrustStore
from cocoverify_testing.der import der_ia5, der_int
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    UTC,
    CertSpec,
    ec_key,
    issue,
    make_crl,
    name,
    pss_run_token,
    rsa_key,
    with_pss_signature,
)

__all__ = [
    "DEFAULT_TCB",
    "EPOCH",
    "VECTOR_TIME",
    "FakeAmdPKI",
    "amd_name",
    "amd_rsa_key",
    "default_chip_id",
    "hwid_length",
    "vcek_with_mgf1",
]

_KEYS = Path(__file__).resolve().parent.parent / "keys"
#: Fixed notBefore of every fake authority; vectors verify at ``VECTOR_TIME``.
EPOCH = _dt.datetime(2024, 1, 1, tzinfo=UTC)
VECTOR_TIME = _dt.datetime(2025, 6, 1, tzinfo=UTC)

#: Default TCBs per product (Turin carries FMC; virtee/sev `from_turin_bytes`).
DEFAULT_TCB: dict[str, TcbVersion] = {
    "Milan": TcbVersion(bootloader=3, tee=0, snp=20, microcode=209),
    "Genoa": TcbVersion(bootloader=7, tee=0, snp=14, microcode=72),
    "Turin": TcbVersion(bootloader=3, tee=2, snp=5, microcode=97, fmc=1),
}
_KDS = "1.3.6.1.4.1.3704.1."


@functools.cache
def amd_rsa_key(label: str) -> rsa.RSAPrivateKey:
    """RSA-4096 test key ``keys/amd-<label>.pem`` (this package), else generated (TEST ONLY)."""
    path = _KEYS / f"amd-{label}.pem"
    if path.is_file():
        text = path.read_bytes()
        key = serialization.load_pem_private_key(text[text.index(b"-----BEGIN") :], password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    return rsa_key(f"amd-{label}", 4096)


def amd_name(cn: str) -> x509.Name:
    """An AMD subject name with ``cn`` (the real DN order, go-sev-guest ``verify.go``)."""
    return name(
        OU="Engineering", C="US", L="Santa Clara", ST="CA", O="Advanced Micro Devices", CN=cn
    )


def _ext(suffix: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(_KDS + suffix), value)


_Validity = tuple[_dt.datetime, _dt.datetime] | None


def _years(n: int) -> tuple[_dt.datetime, _dt.datetime]:
    return EPOCH, EPOCH.replace(year=EPOCH.year + n)


# The authorities are memoised per process and per pss_signing_run (``run``): outside a run
# RSA-PSS signatures are randomised, so a rebuilt ARK would get a new fingerprint; inside one,
# each authority is signed once, in the order of the run that recorded the salts.


@functools.cache
def _ark_cert(
    product: str, label: str | None, validity: _Validity, pss: bool, run: object | None
) -> x509.Certificate:
    key = amd_rsa_key(label) if label else amd_rsa_key(f"{product.lower()}-ark")
    nb, na = validity or _years(25)
    spec = CertSpec(
        subject=amd_name(f"ARK-{product}"),
        public_key=key.public_key(),
        serial=0x010000,
        not_before=nb,
        not_after=na,
        ca=True,
        key_usage=CA_KEY_USAGE,
        rsa_pss=pss,
    )
    return issue(spec, issuer=spec.subject, issuer_key=key)


@functools.cache
def _intermediate_cert(
    product: str,
    label: str | None,
    ark_validity: _Validity,
    pss: bool,
    role: str,
    cn: str,
    serial: int,
    signer: str,
    validity: _Validity,
    run: object | None,
) -> x509.Certificate:
    ark = _ark_cert(product, label, ark_validity, pss, run)
    ark_key = amd_rsa_key(label) if label else amd_rsa_key(f"{product.lower()}-ark")
    nb, na = validity or _years(25)
    spec = CertSpec(
        subject=amd_name(cn),
        public_key=amd_rsa_key(f"{product.lower()}-{role}").public_key(),
        serial=serial,
        not_before=nb,
        not_after=na,
        ca=True,
        path_length=0,
        key_usage=CA_KEY_USAGE,
        rsa_pss=pss,
    )
    return issue(
        spec, issuer=ark.subject, issuer_key=amd_rsa_key("rogue") if signer == "rogue" else ark_key
    )


@dataclass(frozen=True)
class FakeAmdPKI:
    """Fake ARK -> ASK/ASVK -> VCEK/VLEK for one product (TEST ONLY).

    Override one thing per negative case with :meth:`with_`, e.g.
    ``pki.with_(ask_signer="rogue")`` (ASK not signed by the ARK),
    ``pki.with_(ark_label="rogue")`` (a self-made ARK that is not pinned),
    ``pki.with_(ask_validity=(t0, t1))`` or ``pki.with_(pss=False)`` (PKCS#1 v1.5 chain).
    """

    product: str = "Milan"
    ark_label: str | None = None
    ask_signer: str = "ark"
    ark_validity: tuple[_dt.datetime, _dt.datetime] | None = None
    ask_validity: tuple[_dt.datetime, _dt.datetime] | None = None
    pss: bool = True

    def with_(self, **changes: Any) -> FakeAmdPKI:
        """A new PKI with one or more settings changed."""
        return dataclasses.replace(self, **changes)

    # keys ------------------------------------------------------------------------------
    def _rsa(self, role: str) -> rsa.RSAPrivateKey:
        return amd_rsa_key(f"{self.product.lower()}-{role}")

    @property
    def ark_key(self) -> rsa.RSAPrivateKey:
        """The ARK's key (the rogue key when ``ark_label`` is set)."""
        return amd_rsa_key(self.ark_label) if self.ark_label else self._rsa("ark")

    @property
    def vcek_key(self) -> ec.EllipticCurvePrivateKey:
        """The VCEK's P-384 key."""
        return ec_key(f"amd-{self.product}-vcek", "P-384")

    @property
    def vlek_key(self) -> ec.EllipticCurvePrivateKey:
        """The VLEK's P-384 key."""
        return ec_key(f"amd-{self.product}-vlek", "P-384")

    # authorities (memoised: see _ark_cert) ---------------------------------------------
    @property
    def ark(self) -> x509.Certificate:
        """ARK-<product>, self-signed, 25 years."""
        return _ark_cert(self.product, self.ark_label, self.ark_validity, self.pss, pss_run_token())

    def _intermediate(self, role: str, cn: str, serial: int) -> x509.Certificate:
        return _intermediate_cert(
            self.product,
            self.ark_label,
            self.ark_validity,
            self.pss,
            role,
            cn,
            serial,
            self.ask_signer,
            self.ask_validity,
            pss_run_token(),
        )

    @property
    def ask(self) -> x509.Certificate:
        """SEV-<product>, issued by the ARK."""
        return self._intermediate("ask", f"SEV-{self.product}", 0x010001)

    @property
    def asvk(self) -> x509.Certificate:
        """SEV-VLEK-<product>, issued by the ARK."""
        return self._intermediate("asvk", f"SEV-VLEK-{self.product}", 0x010101)

    # leaves ----------------------------------------------------------------------------
    def _tcb_extensions(self, tcb: TcbVersion) -> list[x509.UnrecognizedExtension]:
        turin = self.product == "Turin"
        exts = [_ext("1", der_int(1 if turin else 0))]
        spls = [("3.1", tcb.bootloader), ("3.2", tcb.tee), ("3.3", tcb.snp)]
        spls += [] if turin else [("3.4", 0)]
        spls += [("3.5", 0), ("3.6", 0), ("3.7", 0), ("3.8", tcb.microcode)]
        if turin:
            spls.append(("3.9", tcb.fmc or 0))
        exts += [_ext(s, der_int(v)) for s, v in spls]
        return exts

    def vcek(
        self,
        *,
        tcb: TcbVersion | None = None,
        hwid: bytes | None = None,
        product_name: str | None = None,
        validity: tuple[_dt.datetime, _dt.datetime] | None = None,
        signer: str = "ask",
        omit: Sequence[str] = (),
        ext_values: Mapping[str, bytes] | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> x509.Certificate:
        """A VCEK (CN SEV-VCEK) for ``tcb`` / ``hwid``; ``signer="rogue"`` signs it with a
        key that is not the ASK's; ``omit`` drops KDS extensions by OID suffix and
        ``ext_values`` replaces or adds raw extension values by OID suffix."""
        tcb = tcb or DEFAULT_TCB[self.product]
        hwid = (
            hwid if hwid is not None else default_chip_id(self.product)[: hwid_length(self.product)]
        )
        pname = product_name or {"Milan": "Milan-B0", "Genoa": "Genoa", "Turin": "Turin"}.get(
            self.product, self.product
        )
        exts = [_ext("2", der_ia5(pname)), *self._tcb_extensions(tcb), _ext("4", hwid)]
        for suffix, value in (ext_values or {}).items():
            exts = [e for e in exts if e.oid.dotted_string != _KDS + suffix]
            exts.append(_ext(suffix, value))
        return self._leaf(
            "SEV-VCEK",
            self.ask,
            self._rsa("ask"),
            key or self.vcek_key,
            exts,
            validity or (EPOCH, EPOCH.replace(year=EPOCH.year + 7)),
            signer,
            omit,
        )

    def vlek(
        self,
        *,
        tcb: TcbVersion | None = None,
        csp_id: str = "CN=cloud.test.example",
        validity: tuple[_dt.datetime, _dt.datetime] | None = None,
        signer: str = "asvk",
    ) -> x509.Certificate:
        """A VLEK (CN SEV-VLEK) issued by the ASVK, one year valid (as AWS VLEKs are)."""
        tcb = tcb or DEFAULT_TCB[self.product]
        exts = [
            _ext("2", der_ia5(self.product)),
            *self._tcb_extensions(tcb),
            _ext("5", der_ia5(csp_id)),
        ]
        start = EPOCH.replace(year=EPOCH.year + 1)
        return self._leaf(
            "SEV-VLEK",
            self.asvk,
            self._rsa("asvk"),
            self.vlek_key,
            exts,
            validity or (start, start.replace(year=start.year + 1)),
            signer,
            (),
        )

    def _leaf(
        self,
        cn: str,
        issuer: x509.Certificate,
        issuer_key: rsa.RSAPrivateKey,
        key: ec.EllipticCurvePrivateKey,
        exts: list[x509.UnrecognizedExtension],
        validity: tuple[_dt.datetime, _dt.datetime],
        signer: str,
        omit: Sequence[str],
    ) -> x509.Certificate:
        exts = [e for e in exts if e.oid.dotted_string.removeprefix(_KDS) not in omit]
        spec = CertSpec(
            subject=amd_name(cn),
            public_key=key.public_key(),
            serial=1,  # real VCEKs use 0, which cryptography cannot issue
            not_before=validity[0],
            not_after=validity[1],
            key_usage=LEAF_KEY_USAGE,
            unrecognized=exts,
            rsa_pss=self.pss,
        )
        signing = amd_rsa_key("rogue") if signer == "rogue" else issuer_key
        return issue(spec, issuer=issuer.subject, issuer_key=signing)

    def vcek_for(self, report: bytes | SnpReport, **overrides: Any) -> x509.Certificate:
        """A VCEK bound to ``report``'s REPORTED_TCB and CHIP_ID (overridable)."""
        r = report if isinstance(report, SnpReport) else parse_report(report)
        overrides.setdefault("tcb", TcbVersion.decode(r.reported_tcb, self.product))
        overrides.setdefault("hwid", r.chip_id[: hwid_length(self.product)])
        return self.vcek(**overrides)

    def crl(
        self,
        *,
        revoked: Sequence[int] = (),
        this_update: _dt.datetime | None = None,
        next_update: _dt.datetime | None = None,
        signer: str = "ark",
    ) -> x509.CertificateRevocationList:
        """An ARK-issued CRL (RSA-PSS); ``signer="rogue"`` signs it with another key."""
        tu = this_update or VECTOR_TIME - _dt.timedelta(days=30)
        nu = next_update or tu + _dt.timedelta(days=365)
        key = amd_rsa_key("rogue") if signer == "rogue" else self.ark_key
        return make_crl(
            issuer=self.ark.subject,
            issuer_key=key,
            this_update=tu,
            next_update=nu,
            revoked_serials=revoked,
            rsa_pss=True,
        )

    def trust_store(self) -> TrustStore:
        """A store pinning only this fake ARK for its product."""
        return TrustStore.from_certificates(amd={self.product: [self.ark]})


def hwid_length(product: str) -> int:
    """Bytes of CHIP_ID in the VCEK hwID extension (go-sev-guest `kds/kds.go`)."""
    return 8 if product == "Turin" else 64


def default_chip_id(product: str) -> bytes:
    """A fixed 64-byte CHIP_ID (Turin: 8 bytes then zeros; go-sev-guest `abi/abi.go`)."""
    full = hashlib.sha512(f"cocoverify-test-chip:{product}".encode()).digest()
    return full[:8] + bytes(56) if product == "Turin" else full


def vcek_with_mgf1(
    pki: FakeAmdPKI, like: x509.Certificate, mgf_hash: hashes.HashAlgorithm
) -> x509.Certificate:
    """``like`` re-signed by the PKI's ASK key with RSA-PSS over another MGF1 hash."""
    b = (
        x509.CertificateBuilder()
        .subject_name(like.subject)
        .issuer_name(like.issuer)
        .public_key(like.public_key())
        .serial_number(1)
        .not_valid_before(like.not_valid_before_utc)
        .not_valid_after(like.not_valid_after_utc)
    )
    for ext in like.extensions:
        b = b.add_extension(ext.value, ext.critical)
    key = amd_rsa_key(f"{pki.product.lower()}-ask")
    pad = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=48)
    cert = b.sign(key, hashes.SHA384(), rsa_padding=pad)
    if pss_run_token() is None:
        return cert
    return with_pss_signature(cert, key, hashes.SHA384(), mgf_algorithm=mgf_hash)
