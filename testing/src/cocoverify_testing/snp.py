"""TEST ONLY. Fake AMD SEV-SNP authorities, report builder and the project's SNP vectors.

:class:`FakeAmdPKI` mirrors the real KDS profile (amd.md §6.1, §7): RSA-4096 ARK, ASK and
ASVK signing with RSASSA-PSS SHA-384 (salt 48), P-384 VCEK/VLEK with the KDS TCB, hwID
and product-name extensions. Its RSA keys are fixed PEM files in ``testing/keys/amd-*.pem``
(TEST ONLY), its EC keys derive from labels. Nothing here is trusted by the default store.

:class:`SnpReportBuilder` builds 1184-byte reports; each setter returns a new builder.
:func:`generate_vectors` writes one vector per defect for ``vectors/generate.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify.tee.snp.parse import (
    REPORT_SIZE,
    SIGNED_SIZE,
    CertTable,
    CertTableEntry,
    SnpReport,
    TcbVersion,
    encode_tcb,
    parse_report,
)
from cocoverify.trust import TrustStore, fingerprint
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    CertSpec,
    ec_key,
    issue,
    make_crl,
    name,
    pem,
)
from cocoverify_testing.pki import rsa_key as _generated_rsa_key

__all__ = [
    "DEFAULT_TCB",
    "FakeAmdPKI",
    "SnpReportBuilder",
    "amd_rsa_key",
    "generate_vectors",
    "tamper",
]

UTC = _dt.UTC
_KEYS = Path(__file__).resolve().parent / "keys"
#: Fixed notBefore of every fake authority; vectors verify at ``VECTOR_TIME``.
EPOCH = _dt.datetime(2024, 1, 1, tzinfo=UTC)
VECTOR_TIME = _dt.datetime(2025, 6, 1, tzinfo=UTC)

#: Default TCBs per product (Turin carries FMC; amd.md §3).
DEFAULT_TCB: dict[str, TcbVersion] = {
    "Milan": TcbVersion(bootloader=3, tee=0, snp=20, microcode=209),
    "Genoa": TcbVersion(bootloader=7, tee=0, snp=14, microcode=72),
    "Turin": TcbVersion(bootloader=3, tee=2, snp=5, microcode=97, fmc=1),
}
_CPUID = {"Milan": (0x19, 0x01, 1), "Genoa": (0x19, 0x11, 1), "Turin": (0x1A, 0x02, 1)}
_KDS = "1.3.6.1.4.1.3704.1."


@functools.cache
def amd_rsa_key(label: str) -> rsa.RSAPrivateKey:
    """RSA-4096 test key ``testing/keys/amd-<label>.pem``, else generated once (TEST ONLY)."""
    path = _KEYS / f"amd-{label}.pem"
    if path.is_file():
        text = path.read_bytes()
        key = serialization.load_pem_private_key(text[text.index(b"-----BEGIN") :], password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    return _generated_rsa_key(f"amd-{label}", 4096)


def _amd_name(cn: str) -> x509.Name:
    # the real AMD DN order (amd.md §6.1)
    return name(
        OU="Engineering", C="US", L="Santa Clara", ST="CA", O="Advanced Micro Devices", CN=cn
    )


def _der_int(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return b"\x02" + bytes([len(body)]) + body


def _der_ia5(text: str) -> bytes:
    return b"\x16" + bytes([len(text)]) + text.encode("ascii")


def _ext(suffix: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(_KDS + suffix), value)


def tamper(data: bytes, offset: int, xor: int = 0x01) -> bytes:
    """``data`` with one byte flipped (after signing: breaks the signature)."""
    out = bytearray(data)
    out[offset] ^= xor
    return bytes(out)


_Validity = tuple[_dt.datetime, _dt.datetime] | None


def _years(n: int) -> tuple[_dt.datetime, _dt.datetime]:
    return EPOCH, EPOCH.replace(year=EPOCH.year + n)


@functools.cache
def _ark_cert(product: str, label: str | None, validity: _Validity, pss: bool) -> x509.Certificate:
    key = amd_rsa_key(label) if label else amd_rsa_key(f"{product.lower()}-ark")
    nb, na = validity or _years(25)
    spec = CertSpec(
        subject=_amd_name(f"ARK-{product}"),
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
) -> x509.Certificate:
    ark = _ark_cert(product, label, ark_validity, pss)
    ark_key = amd_rsa_key(label) if label else amd_rsa_key(f"{product.lower()}-ark")
    nb, na = validity or _years(25)
    spec = CertSpec(
        subject=_amd_name(cn),
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

    # authorities (memoised per process: RSA-PSS signatures are randomised, so a rebuilt
    # ARK would get a new fingerprint) --------------------------------------------------
    @property
    def ark(self) -> x509.Certificate:
        """ARK-<product>, self-signed, 25 years."""
        return _ark_cert(self.product, self.ark_label, self.ark_validity, self.pss)

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
        exts = [_ext("1", _der_int(1 if turin else 0))]
        spls = [("3.1", tcb.bootloader), ("3.2", tcb.tee), ("3.3", tcb.snp)]
        spls += [] if turin else [("3.4", 0)]
        spls += [("3.5", 0), ("3.6", 0), ("3.7", 0), ("3.8", tcb.microcode)]
        if turin:
            spls.append(("3.9", tcb.fmc or 0))
        exts += [_ext(s, _der_int(v)) for s, v in spls]
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
        hwid = hwid if hwid is not None else default_chip_id(self.product)[: _hw(self.product)]
        pname = product_name or {"Milan": "Milan-B0", "Genoa": "Genoa", "Turin": "Turin"}.get(
            self.product, self.product
        )
        exts = [_ext("2", _der_ia5(pname)), *self._tcb_extensions(tcb), _ext("4", hwid)]
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
        """A VLEK (CN SEV-VLEK) issued by the ASVK, one year valid (amd.md §6.1)."""
        tcb = tcb or DEFAULT_TCB[self.product]
        exts = [
            _ext("2", _der_ia5(self.product)),
            *self._tcb_extensions(tcb),
            _ext("5", _der_ia5(csp_id)),
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
            subject=_amd_name(cn),
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
        overrides.setdefault("hwid", r.chip_id[: _hw(self.product)])
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


def _hw(product: str) -> int:
    return 8 if product == "Turin" else 64


def default_chip_id(product: str) -> bytes:
    """A fixed 64-byte CHIP_ID (Turin: 8 bytes then zeros; amd.md §1)."""
    full = hashlib.sha512(f"cocoverify-test-chip:{product}".encode()).digest()
    return full[:8] + bytes(56) if product == "Turin" else full


@dataclass(frozen=True)
class SnpReportBuilder:
    """Fluent SNP report builder (TEST ONLY); every method returns a new builder.

    ``mutate`` patches encoded bytes before signing, so reserved or unknown values can be
    produced with a valid signature; to break the signature, :func:`tamper` the output.
    """

    product: str
    report: SnpReport
    mutations: tuple[tuple[int, bytes], ...] = ()

    @classmethod
    def for_product(cls, product: str = "Milan", *, version: int | None = None) -> SnpReportBuilder:
        """Defaults: v3 (Turin v5), VCEK-signed, policy 0x30000, the default TCB everywhere."""
        v = version if version is not None else (5 if product == "Turin" else 3)
        raw_tcb = _encode(product, DEFAULT_TCB[product])
        fam, mod, step = _CPUID[product]
        report = SnpReport(
            version=v,
            guest_svn=1,
            policy=0x30000,
            family_id=bytes(16),
            image_id=bytes(16),
            vmpl=0,
            signature_algo=1,
            current_tcb=raw_tcb,
            platform_info=0x25,
            key_info=0,
            report_data=bytes(64),
            measurement=hashlib.sha384(b"cocoverify-test-measurement").digest(),
            host_data=bytes(32),
            id_key_digest=bytes(48),
            author_key_digest=bytes(48),
            report_id=hashlib.sha256(b"cocoverify-test-report-id").digest(),
            report_id_ma=b"\xff" * 32,
            reported_tcb=raw_tcb,
            cpuid_fam_id=fam if v >= 3 else None,
            cpuid_mod_id=mod if v >= 3 else None,
            cpuid_step=step if v >= 3 else None,
            chip_id=default_chip_id(product),
            committed_tcb=raw_tcb,
            current_build=10,
            current_minor=55,
            current_major=1,
            committed_build=10,
            committed_minor=55,
            committed_major=1,
            launch_tcb=raw_tcb,
            launch_mit_vector=0x3F if v >= 5 else None,
            current_mit_vector=0x3F if v >= 5 else None,
            signature=bytes(512),
        )
        return cls(product, report)

    def set(self, **fields: Any) -> SnpReportBuilder:
        """Change report fields (names of :class:`SnpReport`); TCBs may be TcbVersion."""
        for key in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
            if isinstance(fields.get(key), TcbVersion):
                fields[key] = _encode(self.product, fields[key])
        return dataclasses.replace(self, report=self.report.with_fields(**fields))

    def tcb(self, tcb: TcbVersion) -> SnpReportBuilder:
        """The same TCB in CURRENT, REPORTED, COMMITTED and LAUNCH."""
        return self.set(current_tcb=tcb, reported_tcb=tcb, committed_tcb=tcb, launch_tcb=tcb)

    def vlek(self) -> SnpReportBuilder:
        """Signed by a VLEK (SIGNING_KEY 1), CHIP_ID all zero as on real VLEK reports."""
        return self.set(key_info=1 << 2, chip_id=bytes(64))

    def mutate(self, offset: int, value: bytes | int) -> SnpReportBuilder:
        """Overwrite encoded bytes at ``offset`` (an int writes one byte)."""
        data = bytes([value]) if isinstance(value, int) else bytes(value)
        return dataclasses.replace(self, mutations=(*self.mutations, (offset, data)))

    def unsigned(self) -> bytes:
        """The encoded report with the signature field as set (zero by default)."""
        buf = bytearray(self.report.to_bytes())
        for offset, data in self.mutations:
            buf[offset : offset + len(data)] = data
        return bytes(buf)

    def sign(self, pki: FakeAmdPKI, *, key: str | None = None) -> bytes:
        """Sign bytes 0..0x29F with the PKI's VCEK (or VLEK) key, r/s little-endian."""
        from cocoverify_testing.pki import sign_ecdsa_raw

        body = bytearray(self.unsigned())
        kind = key or ("vlek" if self.report.signing_key == 1 else "vcek")
        priv = pki.vlek_key if kind == "vlek" else pki.vcek_key
        rs = sign_ecdsa_raw(priv, bytes(body[:SIGNED_SIZE]), little_endian=True, width=72)
        body[SIGNED_SIZE : SIGNED_SIZE + 144] = rs
        return bytes(body)


def _vcek_with_mgf1(
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
    pad = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=48)
    return b.sign(pki._rsa("ask"), hashes.SHA384(), rsa_padding=pad)


def _encode(product: str, tcb: TcbVersion) -> bytes:
    return encode_tcb(
        product,
        bootloader=tcb.bootloader,
        tee=tcb.tee,
        snp=tcb.snp,
        microcode=tcb.microcode,
        fmc=tcb.fmc,
    )


def cert_table(**entries: bytes) -> bytes:
    """An extended-report certificate blob from role=DER pairs (vcek, vlek, ask, ark, crl)."""
    from cocoverify.tee.snp.parse import CERT_TABLE_GUIDS

    by_role = {role: guid for guid, role in CERT_TABLE_GUIDS.items()}
    return CertTable(tuple(CertTableEntry(by_role[r], r, d) for r, d in entries.items())).to_bytes()


# --- the project's SNP vectors -------------------------------------------------------------


def _exit_code(expected: str) -> int:
    if expected == "accept":
        return 0
    groups = {
        2: ("unsupported_", "truncated", "trailing_data", "reserved_nonzero", "malformed"),
        4: ("collateral_", "crl_"),
        5: ("debug_enabled", "measurement_mismatch", "tcb_below_minimum", "attribute_rejected"),
    }
    for code, prefixes in groups.items():
        if expected.startswith(prefixes):
            return code
    return 3


def _der(item: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return item.public_bytes(Encoding.DER)


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/snp/<id>/...`` and return the manifest entries (one per defect).

    Paths in the entries are relative to ``outdir``; ``<outdir>/snp`` is recreated. RSA-PSS
    signatures are randomised, so compare outcomes, not bytes, across runs.
    """
    import shutil

    outdir = Path(outdir)
    shutil.rmtree(outdir / "snp", ignore_errors=True)
    pkis = {p: FakeAmdPKI(p) for p in ("Milan", "Genoa", "Turin")}
    trust = {"amd_arks": {p: [fingerprint(k.ark)] for p, k in pkis.items()}}
    entries: list[dict[str, Any]] = []

    def add(
        vid: str,
        evidence: bytes,
        files: Sequence[tuple[str, bytes]],
        expected: str,
        features: Sequence[str],
        *,
        policy: dict[str, Any] | None = None,
        at: _dt.datetime = VECTOR_TIME,
        pin: FakeAmdPKI | None = None,
    ) -> None:
        pinned = trust
        if pin is not None:  # this vector's ARK differs from the default one: pin it
            arks = dict(trust["amd_arks"])
            arks[pin.product] = [fingerprint(pin.ark)]
            pinned = {"amd_arks": arks}
        folder = Path("snp") / vid.removeprefix("snp.")
        (outdir / folder).mkdir(parents=True, exist_ok=True)
        (outdir / folder / "report.bin").write_bytes(evidence)
        coll = []
        for fname, data in files:
            (outdir / folder / fname).write_bytes(data)
            coll.append(str(folder / fname))
        entries.append(
            {
                "id": vid,
                "platform": "snp",
                "evidence": str(folder / "report.bin"),
                "collateral": coll,
                "trust": pinned,
                "policy": policy,
                "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expected": expected,
                "exit_code": _exit_code(expected),
                "features": list(features),
                "source": "cocoverify_testing.snp.generate_vectors",
            }
        )

    def chain(
        pki: FakeAmdPKI,
        leaf: x509.Certificate,
        *,
        vlek: bool = False,
        crl: x509.CertificateRevocationList | None = None,
    ) -> list[tuple[str, bytes]]:
        files = [
            ("vlek.der" if vlek else "vcek.der", _der(leaf)),
            ("asvk.pem" if vlek else "ask.pem", pem(pki.asvk if vlek else pki.ask)),
            ("ark.pem", pem(pki.ark)),
        ]
        if crl is not None:
            files.append(("crl.der", _der(crl)))
        return files

    m, g, t = pkis["Milan"], pkis["Genoa"], pkis["Turin"]
    mb, gb, tb = (SnpReportBuilder.for_product(p) for p in ("Milan", "Genoa", "Turin"))
    mrep, grep, trep = mb.sign(m), gb.sign(g), tb.sign(t)
    mv, gv, tv = m.vcek_for(mrep), g.vcek_for(grep), t.vcek_for(trep)
    ok = ["snp"]

    # accepted
    add("snp.accept.milan_v3_vcek", mrep, chain(m, mv), "accept", [*ok, "milan", "v3", "vcek"])
    add("snp.accept.genoa_v3_vcek", grep, chain(g, gv), "accept", [*ok, "genoa", "v3", "vcek"])
    add("snp.accept.turin_v5_vcek", trep, chain(t, tv), "accept", [*ok, "turin", "v5", "fmc"])
    v2 = SnpReportBuilder.for_product("Milan", version=2).sign(m)
    add(
        "snp.accept.milan_v2_vcek",
        v2,
        chain(m, m.vcek_for(v2)),
        "accept",
        [*ok, "v2", "product_from_certificate"],
    )
    v4 = SnpReportBuilder.for_product("Milan", version=4).sign(m)
    add("snp.accept.milan_v4_vcek", v4, chain(m, m.vcek_for(v4)), "accept", [*ok, "v4"])
    vl = SnpReportBuilder.for_product("Milan", version=2).vlek().sign(m)
    add(
        "snp.accept.milan_v2_vlek",
        vl,
        chain(m, m.vlek(), vlek=True),
        "accept",
        [*ok, "v2", "vlek", "masked_chip_id"],
    )
    masked = mb.set(chip_id=bytes(64)).sign(m)
    add("snp.accept.masked_chip_id", masked, chain(m, mv), "accept", [*ok, "masked_chip_id"])
    add(
        "snp.accept.crl_checked",
        mrep,
        chain(m, mv, crl=m.crl(revoked=[0x0BAD])),
        "accept",
        [*ok, "crl"],
    )
    table = cert_table(vcek=_der(mv), ask=_der(m.ask), ark=_der(m.ark))
    add("snp.accept.cert_table", mrep + table, [], "accept", [*ok, "cert_table"])
    add(
        "snp.accept.debug_allowed_unsafe",
        mb.set(policy=0xB0000).sign(m),
        chain(m, mv),
        "accept",
        [*ok, "debug", "policy"],
        policy={"unsafe_allow_debug": True},
    )

    # chain defects
    add(
        "snp.chain.wrong_product_ark",
        mrep,
        [("vcek.der", _der(mv)), ("ask.pem", pem(m.ask)), ("ark.pem", pem(g.ark))],
        "product_mismatch",
        [*ok, "chain", "pinning"],
    )
    rogue = m.with_(ark_label="rogue")
    add(
        "snp.chain.unpinned_ark",
        mrep,
        chain(rogue, rogue.vcek_for(mrep)),
        "untrusted_root",
        [*ok, "chain", "pinning", "self_made_ark"],
    )
    bad_ask = m.with_(ask_signer="rogue")
    add(
        "snp.chain.ask_not_signed_by_ark",
        mrep,
        chain(bad_ask, bad_ask.vcek_for(mrep)),
        "chain_invalid",
        [*ok, "chain"],
    )
    add(
        "snp.chain.vcek_not_signed_by_ask",
        mrep,
        chain(m, m.vcek_for(mrep, signer="rogue")),
        "chain_invalid",
        [*ok, "chain"],
    )
    past = (EPOCH - _dt.timedelta(days=800), EPOCH + _dt.timedelta(days=300))
    future = (VECTOR_TIME + _dt.timedelta(days=1), VECTOR_TIME + _dt.timedelta(days=3000))
    exp_ark = m.with_(ark_validity=past)
    add(
        "snp.chain.ark_expired",
        mrep,
        chain(exp_ark, exp_ark.vcek_for(mrep)),
        "certificate_expired",
        [*ok, "validity"],
        pin=exp_ark,
    )
    exp_ask = m.with_(ask_validity=past)
    add(
        "snp.chain.ask_expired",
        mrep,
        chain(exp_ask, exp_ask.vcek_for(mrep)),
        "certificate_expired",
        [*ok, "validity"],
    )
    add(
        "snp.chain.vcek_expired",
        mrep,
        chain(m, m.vcek_for(mrep, validity=past)),
        "certificate_expired",
        [*ok, "validity"],
    )
    add(
        "snp.chain.vcek_not_yet_valid",
        mrep,
        chain(m, m.vcek_for(mrep, validity=future)),
        "certificate_not_yet_valid",
        [*ok, "validity"],
    )
    nyv_ask = m.with_(ask_validity=future)
    add(
        "snp.chain.ask_not_yet_valid",
        mrep,
        chain(nyv_ask, nyv_ask.vcek_for(mrep)),
        "certificate_not_yet_valid",
        [*ok, "validity"],
    )
    pkcs1 = m.with_(pss=False)
    add(
        "snp.chain.pkcs1_signatures",
        mrep,
        chain(pkcs1, pkcs1.vcek_for(mrep)),
        "certificate_profile_invalid",
        [*ok, "chain", "profile"],
        pin=pkcs1,
    )
    add(
        "snp.chain.missing_ask",
        mrep,
        [("vcek.der", _der(mv)), ("ark.pem", pem(m.ark))],
        "collateral_missing",
        [*ok, "chain"],
    )
    add(
        "snp.chain.vlek_presented_as_vcek",
        mrep,
        chain(m, m.vlek(), vlek=True),
        "key_type_mismatch",
        [*ok, "vlek", "key_type"],
    )
    vl3 = mb.vlek().sign(m)
    add(
        "snp.chain.vcek_presented_as_vlek",
        vl3,
        chain(m, mv),
        "key_type_mismatch",
        [*ok, "vlek", "key_type"],
    )
    add(
        "snp.chain.genoa_vcek_for_milan_report",
        mrep,
        chain(g, g.vcek_for(mrep)),
        "product_mismatch",
        [*ok, "product"],
    )

    # binding defects: one REPORTED_TCB component at a time
    for product, pki, builder, comps in (
        ("milan", m, mb, ("bootloader", "tee", "snp", "microcode")),
        ("turin", t, tb, ("fmc", "bootloader", "tee", "snp", "microcode")),
    ):
        base = DEFAULT_TCB[pki.product]
        rep = builder.sign(pki)
        for comp in comps:
            cert_tcb = dataclasses.replace(base, **{comp: getattr(base, comp) + 1})
            add(
                f"snp.binding.{product}_tcb_{comp}",
                rep,
                chain(pki, pki.vcek_for(rep, tcb=cert_tcb)),
                "tcb_mismatch",
                [*ok, "tcb_binding", product],
            )
    other_hw = hashlib.sha512(b"another chip").digest()
    add(
        "snp.binding.hwid_mismatch",
        mrep,
        chain(m, m.vcek_for(mrep, hwid=other_hw)),
        "chip_id_mismatch",
        [*ok, "hwid"],
    )
    add(
        "snp.binding.turin_hwid_mismatch",
        trep,
        chain(t, t.vcek_for(trep, hwid=other_hw[:8])),
        "chip_id_mismatch",
        [*ok, "hwid", "turin"],
    )
    tail = tb.set(chip_id=default_chip_id("Turin")[:8] + b"\x01" + bytes(55)).sign(t)
    add(
        "snp.binding.turin_chip_id_tail",
        tail,
        chain(t, tv),
        "chip_id_mismatch",
        [*ok, "hwid", "turin"],
    )
    add(
        "snp.binding.product_name",
        mrep,
        chain(m, m.vcek_for(mrep, product_name="Genoa")),
        "product_mismatch",
        [*ok, "product"],
    )

    # revocation
    add(
        "snp.crl.ask_revoked",
        mrep,
        chain(m, mv, crl=m.crl(revoked=[0x010001])),
        "certificate_revoked",
        [*ok, "crl"],
    )
    stale = m.crl(
        this_update=VECTOR_TIME - _dt.timedelta(days=400),
        next_update=VECTOR_TIME - _dt.timedelta(days=1),
    )
    add("snp.crl.stale", mrep, chain(m, mv, crl=stale), "crl_expired", [*ok, "crl"])
    add(
        "snp.crl.not_yet_valid",
        mrep,
        chain(m, mv, crl=m.crl(this_update=VECTOR_TIME + _dt.timedelta(days=1))),
        "crl_not_yet_valid",
        [*ok, "crl"],
    )
    add(
        "snp.crl.bad_signature",
        mrep,
        chain(m, mv, crl=m.crl(signer="rogue")),
        "crl_invalid",
        [*ok, "crl"],
    )
    add(
        "snp.crl.required_missing",
        mrep,
        chain(m, mv),
        "crl_missing",
        [*ok, "crl", "policy"],
        policy={"require_crl": True},
    )

    # signature and parsing
    add(
        "snp.signature.tampered_measurement",
        tamper(mrep, 0x090),
        chain(m, mv),
        "signature_invalid",
        [*ok, "signature"],
    )
    add(
        "snp.signature.unsigned",
        mb.set(key_info=7 << 2).unsigned(),
        chain(m, mv),
        "signature_invalid",
        [*ok, "signature"],
    )
    add(
        "snp.parse.unsupported_signature_algo",
        mb.set(signature_algo=2).sign(m),
        chain(m, mv),
        "unsupported_algorithm",
        [*ok, "parse"],
    )
    for cut in (REPORT_SIZE - 1, SIGNED_SIZE, 0x40, 8):
        add(
            f"snp.parse.truncated_{cut}",
            mrep[:cut],
            chain(m, mv),
            "truncated",
            [*ok, "parse", "truncation"],
        )
    add(
        "snp.parse.trailing_bytes",
        mrep + b"\x00" * 7,
        chain(m, mv),
        "trailing_data",
        [*ok, "parse"],
    )
    add(
        "snp.parse.reserved_nonzero",
        mb.mutate(0x1EB, 1).sign(m),
        chain(m, mv),
        "reserved_nonzero",
        [*ok, "parse", "reserved"],
    )
    add(
        "snp.parse.cert_table_truncated",
        mrep + table[:-10],
        [],
        "truncated",
        [*ok, "parse", "cert_table", "truncation"],
    )

    # review findings (tests/test_review_snp.py): one vector each
    add(
        "snp.accept.expired_twin_vcek",
        mrep,
        [("vcek-old.der", _der(m.vcek_for(mrep, validity=past))), *chain(m, mv)],
        "accept",
        [*ok, "validity", "order_independence"],
    )
    higher = dataclasses.replace(DEFAULT_TCB["Milan"], bootloader=4)
    above = mb.set(reported_tcb=higher).sign(m)
    add(
        "snp.binding.reported_above_current",
        above,
        chain(m, m.vcek_for(above)),
        "tcb_mismatch",
        [*ok, "tcb_binding"],
    )
    pkcs1_crl = make_crl(
        issuer=m.ark.subject,
        issuer_key=m.ark_key,
        this_update=VECTOR_TIME - _dt.timedelta(days=30),
        next_update=VECTOR_TIME + _dt.timedelta(days=300),
        rsa_pss=False,
    )
    add(
        "snp.crl.pkcs1_signature",
        mrep,
        chain(m, mv, crl=pkcs1_crl),
        "crl_invalid",
        [*ok, "crl", "profile"],
    )
    add(
        "snp.chain.vcek_mgf1_sha256",
        mrep,
        chain(m, _vcek_with_mgf1(m, mv, hashes.SHA256())),
        "certificate_profile_invalid",
        [*ok, "chain", "profile"],
    )
    vcek_der = _der(mv)
    start = 3 * 24
    overlap = (
        uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes
        + start.to_bytes(4, "little")
        + len(vcek_der).to_bytes(4, "little")
        + uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes
        + (start + 16).to_bytes(4, "little")
        + (32).to_bytes(4, "little")
        + bytes(24)
        + vcek_der
    )
    add(
        "snp.parse.cert_table_overlap",
        mrep + overlap,
        [],
        "malformed",
        [*ok, "parse", "cert_table"],
    )

    # policy (authentic reports)
    add(
        "snp.policy.debug_rejected",
        mb.set(policy=0xB0000).sign(m),
        chain(m, mv),
        "debug_enabled",
        [*ok, "policy", "debug"],
    )
    add(
        "snp.policy.measurement",
        mrep,
        chain(m, mv),
        "measurement_mismatch",
        [*ok, "policy"],
        policy={"snp": {"measurement": ["00" * 48]}},
    )
    add(
        "snp.policy.min_reported_tcb",
        mrep,
        chain(m, mv),
        "tcb_below_minimum",
        [*ok, "policy", "tcb"],
        policy={"snp": {"min_reported_tcb": {"snp": 21}}},
    )
    add(
        "snp.policy.migration_agent",
        mb.set(policy=0x70000).sign(m),
        chain(m, mv),
        "attribute_rejected",
        [*ok, "policy"],
    )

    return entries
