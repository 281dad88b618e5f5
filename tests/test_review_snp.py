"""Adversarial review of the SEV-SNP verifier: one test per defect found (docs/amd.md).

Each test failed before its fix. Fake PKI throughout (TEST ONLY keys), real vectors where
the defect shows on them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import verify
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    MalformedEvidence,
    Reason,
)
from cocoverify.policy import Policy
from cocoverify.tee.snp.parse import TcbVersion
from cocoverify.trust import TrustStore
from cocoverify_testing.pki import CA_KEY_USAGE, CertSpec, issue
from cocoverify_testing.snp import (
    EPOCH,
    VECTOR_TIME,
    FakeAmdPKI,
    SnpReportBuilder,
    amd_rsa_key,
    cert_table,
)

from _shared import require_shared, shared_manifest

AT = VECTOR_TIME
M = FakeAmdPKI("Milan")
TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark]})
MB = SnpReportBuilder.for_product("Milan")
REPORT = MB.sign(M)
VCEK = M.vcek_for(REPORT)
_SHA384 = hashes.SHA384()
PSS48 = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)

logging.getLogger("cocoverify.policy").setLevel(logging.ERROR)


def _der(item: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return item.public_bytes(Encoding.DER)


def _verify(report: bytes, *items: Any, trust: TrustStore = TRUST) -> Any:
    certs = tuple(i for i in items if isinstance(i, x509.Certificate))
    crls = tuple(i for i in items if isinstance(i, x509.CertificateRevocationList))
    coll = Collateral(chains=tuple((c,) for c in certs), crls=crls)
    return verify(report, collateral=coll, trust=trust, at=AT)


def _rejects(cls: type[Exception], reason: Reason, report: bytes, *items: Any, **kw: Any) -> None:
    with pytest.raises(cls) as exc:
        _verify(report, *items, **kw)
    assert exc.value.reason is reason  # type: ignore[attr-defined]


def _resign_vcek(
    *,
    mgf_hash: hashes.HashAlgorithm = _SHA384,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> x509.Certificate:
    """VCEK with the KDS extensions of ``VCEK``, signed by the genuine (fake) ASK key."""
    b = (
        x509.CertificateBuilder()
        .subject_name(VCEK.subject)
        .issuer_name(M.ask.subject)
        .public_key(M.vcek_key.public_key())
        .serial_number(1)
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH.replace(year=EPOCH.year + 7))
    )
    for ext in VCEK.extensions:
        b = b.add_extension(ext.value, ext.critical)
    for value, critical in extra:
        b = b.add_extension(value, critical)
    pad = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=48)
    return b.sign(amd_rsa_key("milan-ask"), hashes.SHA384(), rsa_padding=pad)


def _crl(
    *,
    pad: padding.PSS | padding.PKCS1v15 = PSS48,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    revoked: tuple[int, ...] = (),
) -> x509.CertificateRevocationList:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(M.ark.subject)
        .last_update(AT - _dt.timedelta(days=1))
        .next_update(AT + _dt.timedelta(days=30))
    )
    for value, critical in extra:
        b = b.add_extension(value, critical)
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(AT - _dt.timedelta(days=1))
            .build()
        )
    return b.sign(M.ark_key, hashes.SHA384(), rsa_padding=pad)


def test_baseline_accepts() -> None:
    assert _verify(REPORT, VCEK, M.ask, M.ark).accepted


# --- 1. cryptography errors that are not ValueErrors escaped as crashes ----------------------


def _patched(der: bytes, old: bytes, new: bytes) -> bytes:
    assert der.count(old) >= 1
    i = der.rindex(old)
    return der[:i] + new + der[i + len(old) :]


def _broken_vceks() -> dict[str, bytes]:
    der = _der(VCEK)
    out = {}
    out["invalid_version"] = der[:12] + bytes([der[12] ^ 1]) + der[13:]  # v3 -> v4
    # spl5 (1.3.6.1.4.1.3704.1.3.5) renamed spl4: DuplicateExtension on access
    out["duplicate_extension"] = _patched(der, b"\x9c\x78\x01\x03\x05", b"\x9c\x78\x01\x03\x04")
    # the PSS hash OID of the outer signature algorithm: UnsupportedAlgorithm on access
    sha384 = bytes.fromhex("0609608648016503040202")
    out["unknown_hash"] = _patched(der, sha384, sha384[:-1] + b"\x7f")
    return out


@pytest.mark.parametrize("defect", sorted(_broken_vceks()))
def test_undecodable_table_certificate_is_malformed_evidence(defect: str) -> None:
    bad = _broken_vceks()[defect]
    table = cert_table(vcek=bad, ask=_der(M.ask), ark=_der(M.ark))
    with pytest.raises(MalformedEvidence) as exc:
        verify(REPORT + table, trust=TRUST, at=AT)
    assert exc.value.reason is Reason.MALFORMED_CERTIFICATE


def test_undecodable_table_crl_is_malformed_evidence() -> None:
    der = _der(M.crl())
    bad = der[:10] + bytes([der[10] ^ 1]) + der[11:]  # CRL v2 -> v1 with version present
    table = cert_table(vcek=_der(VCEK), ask=_der(M.ask), ark=_der(M.ark), crl=bad)
    with pytest.raises(MalformedEvidence) as exc:
        verify(REPORT + table, trust=TRUST, at=AT)
    assert exc.value.reason is Reason.MALFORMED_CERTIFICATE


def test_undecodable_collateral_certificate_is_collateral_malformed() -> None:
    cert = x509.load_der_x509_certificate(_broken_vceks()["duplicate_extension"])
    with pytest.raises(CollateralInvalid) as exc:
        _verify(REPORT, cert, M.ask, M.ark)
    assert exc.value.reason is Reason.COLLATERAL_MALFORMED


_FULL_TABLE = cert_table(
    vcek=_der(VCEK), ask=_der(M.ask), ark=_der(M.ark), crl=_der(M.crl(revoked=[5]))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_FULL_TABLE) - 1), st.integers(1, 255)), max_size=3))
def test_mutated_full_cert_table_only_raises_cocoverify_errors(
    changes: list[tuple[int, int]],
) -> None:
    buf = bytearray(_FULL_TABLE)
    for offset, xor in changes:
        buf[offset] ^= xor
    with contextlib.suppress(CocoverifyError):
        verify(REPORT + bytes(buf), trust=TRUST, at=AT)


# --- 2. CRL profile (amd.md §6.4) -------------------------------------------------------------


def test_crl_signed_with_pkcs1_is_rejected() -> None:
    crl = _crl(pad=padding.PKCS1v15())
    _rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_crl_with_mgf1_sha256_is_rejected() -> None:
    crl = _crl(pad=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=48))
    _rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_delta_crl_is_not_used_as_a_full_crl() -> None:
    crl = _crl(extra=((x509.DeltaCRLIndicator(1), True),))
    _rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def _ark_variant(key_usage: x509.KeyUsage) -> x509.Certificate:
    """The fake Milan ARK re-issued (same key and name) with another KeyUsage."""
    spec = CertSpec(
        subject=M.ark.subject,
        public_key=M.ark_key.public_key(),
        serial=0x010000,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        key_usage=key_usage,
        rsa_pss=True,
    )
    return issue(spec, issuer=spec.subject, issuer_key=M.ark_key)


_NO_CRL_SIGN = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def test_crl_from_an_ark_without_crl_sign_is_rejected() -> None:
    ark = _ark_variant(_NO_CRL_SIGN)
    trust = TrustStore.from_certificates(amd={"Milan": [ark]})
    assert _verify(REPORT, VCEK, M.ask, ark, trust=trust).accepted
    _rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, ark, M.crl(), trust=trust)


# --- 3. certificate profile (amd.md §6.1) -----------------------------------------------------


def test_vcek_signed_with_mgf1_sha256_is_rejected() -> None:
    vcek = _resign_vcek(mgf_hash=hashes.SHA256())
    assert vcek.signature_hash_algorithm is not None
    _rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)


def test_unrecognised_critical_extension_is_rejected() -> None:
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    vcek = _resign_vcek(extra=((ext, True),))
    _rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)
    # the same extension, not critical, is ignored
    assert _verify(REPORT, _resign_vcek(extra=((ext, False),)), M.ask, M.ark).accepted


def test_ask_whose_key_usage_forbids_cert_sign_is_rejected() -> None:
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010001,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=usage,
        rsa_pss=True,
    )
    ask = issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)
    _rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, VCEK, ask, M.ark)


def _with_unused_bits(make: Any) -> bytes:
    """DER of ``make()`` with the signature BIT STRING claiming 1 unused bit; PSS is
    randomised, so retry until the signature's last bit is 0 (cryptography then loads it)."""
    for _ in range(64):
        der = _der(make())
        if der[-1] & 1 == 0:
            marker = der.rindex(b"\x03\x82\x02\x01\x00")
            return der[: marker + 4] + b"\x01" + der[marker + 5 :]
    raise AssertionError("no signature ending in a zero bit")


def test_signature_bit_string_with_unused_bits_is_rejected() -> None:
    vcek = x509.load_der_x509_certificate(_with_unused_bits(lambda: M.vcek_for(REPORT)))
    _rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)
    crl = x509.load_der_x509_crl(_with_unused_bits(M.crl))
    _rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_real_vcek_with_unused_signature_bits_is_rejected() -> None:
    base = require_shared("amd")
    cases = {c["id"]: c for c in (shared_manifest("amd") or {}).get("cases", [])}
    c = cases["openpcc-azure-genoa-v3-vcek"]
    folder = base / c["dir"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (amd.md §6.1)
        chain = load_collateral([folder / c["files"][r] for r in ("ask", "ark")])
        vcek = load_collateral([folder / c["files"]["vcek"]]).certificates[0]
        der = _der(vcek)
        marker = der.rindex(b"\x03\x82\x02\x01\x00")
        assert der[-1] & 1 == 0  # this genuine signature happens to end in a zero bit
        bad = x509.load_der_x509_certificate(der[: marker + 4] + b"\x01" + der[marker + 5 :])
        assert bad.signature == vcek.signature  # cryptography ignores the count
        data = Path(folder / c["files"]["report"]).read_bytes()
        ok = verify(
            data, collateral=chain + Collateral(chains=((vcek,),)), at=c["verification_time"]
        )
        assert ok.accepted
        with pytest.raises(ChainInvalid) as exc:
            verify(data, collateral=chain + Collateral(chains=((bad,),)), at=c["verification_time"])
    assert exc.value.reason is Reason.CERTIFICATE_PROFILE_INVALID


# --- 4. REPORTED_TCB above CURRENT_TCB (amd.md §3, gsg validateTcb) ---------------------------


def test_reported_tcb_above_current_tcb_is_rejected() -> None:
    for component in ("bootloader", "tee", "snp", "microcode"):
        base = TcbVersion(bootloader=3, tee=0, snp=20, microcode=209)
        higher = TcbVersion(**{**base.components(), component: base.components()[component] + 1})
        rep = MB.set(reported_tcb=higher).sign(M)
        _rejects(ChainInvalid, Reason.TCB_MISMATCH, rep, M.vcek_for(rep), M.ask, M.ark)
    # lower REPORTED_TCB (a VCEK at an older TCB) stays acceptable
    lower = TcbVersion(bootloader=3, tee=0, snp=19, microcode=209)
    rep = MB.set(reported_tcb=lower).sign(M)
    assert _verify(rep, M.vcek_for(rep), M.ask, M.ark).accepted


def test_turin_fmc_above_current_is_rejected() -> None:
    t = FakeAmdPKI("Turin")
    trust = TrustStore.from_certificates(amd={"Turin": [t.ark]})
    tb = SnpReportBuilder.for_product("Turin")
    higher = TcbVersion(bootloader=3, tee=2, snp=5, microcode=97, fmc=2)
    rep = tb.set(reported_tcb=higher).sign(t)
    _rejects(ChainInvalid, Reason.TCB_MISMATCH, rep, t.vcek_for(rep), t.ask, t.ark, trust=trust)


# --- 5. acceptance must not depend on collateral order ----------------------------------------

_PAST = (EPOCH - _dt.timedelta(days=800), EPOCH + _dt.timedelta(days=300))


def test_expired_vcek_next_to_its_reissued_twin() -> None:
    old = M.vcek_for(REPORT, validity=_PAST)  # same key, same TCB: a re-issued VCEK (§6.1)
    assert _verify(REPORT, VCEK, old, M.ask, M.ark).accepted
    assert _verify(REPORT, old, VCEK, M.ask, M.ark).accepted
    _rejects(ChainInvalid, Reason.CERTIFICATE_EXPIRED, REPORT, old, M.ask, M.ark)


def test_two_pinned_arks_in_either_order() -> None:
    other = M.with_(ark_label="rogue").ark  # also pinned, signs nothing here
    trust = TrustStore.from_certificates(amd={"Milan": [other, M.ark]})
    assert _verify(REPORT, VCEK, M.ask, other, M.ark, trust=trust).accepted
    assert _verify(REPORT, VCEK, M.ask, M.ark, other, trust=trust).accepted


def test_revoked_ask_next_to_a_reissued_ask() -> None:
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010002,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=CA_KEY_USAGE,
        rsa_pss=True,
    )
    reissued = issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)
    crl = M.crl(revoked=[0x010001])  # the first ASK, as Genoa's 0x020001 (amd.md §6.4)
    assert _verify(REPORT, VCEK, M.ask, reissued, M.ark, crl).accepted
    assert _verify(REPORT, VCEK, reissued, M.ask, M.ark, crl).accepted
    from cocoverify.errors import Revoked

    _rejects(Revoked, Reason.CERTIFICATE_REVOKED, REPORT, VCEK, M.ask, M.ark, crl)


def test_first_failure_is_reported_when_no_path_verifies() -> None:
    old = M.vcek_for(REPORT, validity=_PAST)
    rogue = M.vcek_for(REPORT, signer="rogue")  # same key, not signed by the ASK
    _rejects(ChainInvalid, Reason.CHAIN_INVALID, REPORT, rogue, old, M.ask, M.ark)
    _rejects(ChainInvalid, Reason.CERTIFICATE_EXPIRED, REPORT, old, rogue, M.ask, M.ark)


def test_policy_default_still_applies_after_selection() -> None:
    rep = MB.set(policy=0xB0000).sign(M)  # DEBUG
    from cocoverify.errors import PolicyRejected

    with pytest.raises(PolicyRejected) as exc:
        _verify(rep, M.vcek_for(rep, validity=_PAST), M.vcek_for(rep), M.ask, M.ark)
    assert exc.value.reason is Reason.DEBUG_ENABLED
    coll = Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),))
    res = verify(
        rep,
        collateral=coll,
        trust=TRUST,
        at=AT,
        policy=Policy.from_dict({"unsafe_allow_debug": True}),
    )
    assert res.accepted


# --- 6. guard: the signature covers every byte of 0x000..0x29F -------------------------------


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_every_signed_byte_is_a_field_or_a_checked_reserved_byte(version: int) -> None:
    # the signature is verified over the re-encoded view (SnpReport.signed_bytes): a byte
    # the parser neither reads nor checks would be dropped and a mutation there accepted
    from cocoverify.tee.snp.parse import SIGNED_SIZE, parse_report

    raw = SnpReportBuilder.for_product("Milan", version=version).sign(M)
    for offset in range(SIGNED_SIZE):
        buf = bytearray(raw)
        buf[offset] ^= 0x01
        try:
            parsed = parse_report(bytes(buf))
        except CocoverifyError:
            continue
        assert parsed.signed_bytes() == bytes(buf[:SIGNED_SIZE]), hex(offset)


# --- 7. policy: a numeric firmware version silently lost the minor's width -------------------


@pytest.mark.parametrize("value", [1.50, 1.5, 1, 1.10])
def test_min_firmware_version_must_be_a_string(value: float) -> None:
    from cocoverify.errors import ConfigurationError

    # YAML `min_firmware_version: 1.50` is the float 1.5: it used to mean 1.5 (minor 5),
    # which firmware 1.49 passes
    with pytest.raises(ConfigurationError) as exc:
        Policy.from_dict({"snp": {"min_firmware_version": value}})
    assert exc.value.reason is Reason.INVALID_POLICY
    assert Policy.from_dict({"snp": {"min_firmware_version": "1.50"}}).snp.min_firmware_version == (
        1,
        50,
    )


# --- 8. hostile certificate tables: overlapping blobs multiplied memory -----------------------


def _table(entries: list[tuple[bytes, int, int]], blob: bytes) -> bytes:
    head = b"".join(g + o.to_bytes(4, "little") + n.to_bytes(4, "little") for g, o, n in entries)
    return head + bytes(24) + blob


def test_overlapping_table_blobs_are_rejected() -> None:
    import uuid

    from cocoverify.tee.snp.parse import parse_cert_table

    count, size = 200, 1 << 16
    start = (count + 1) * 24
    # every entry (unknown GUIDs) points at the same 64 KiB: parsed, this copied 12.8 MiB
    hostile = _table([(uuid.uuid4().bytes, start, size) for _ in range(count)], bytes(size))
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(hostile)
    assert exc.value.reason is Reason.MALFORMED and exc.value.field == "cert_table.offset"
    with pytest.raises(MalformedEvidence):
        verify(REPORT + hostile, trust=TRUST, at=AT)
    # two real entries sharing bytes
    vcek = _der(VCEK)
    g1, g2 = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"), uuid.uuid4()
    start = 3 * 24
    overlap = _table([(g1.bytes, start, len(vcek)), (g2.bytes, start + 10, 20)], vcek)
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(overlap)
    assert exc.value.reason is Reason.MALFORMED
    # adjacent blobs and empty entries are fine
    ok = _table([(g1.bytes, start, len(vcek)), (g2.bytes, start + len(vcek), 0)], vcek)
    assert len(parse_cert_table(ok).entries) == 2


# --- 9. property: with decoys around one valid path, every order is accepted ------------------


def _reissued_ask() -> x509.Certificate:
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010002,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=CA_KEY_USAGE,
        rsa_pss=True,
    )
    return issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)


_G = FakeAmdPKI("Genoa")
_OTHER_ARK = M.with_(ark_label="rogue").ark
_DECOY_TRUST = TrustStore.from_certificates(amd={"Milan": [_OTHER_ARK, M.ark], "Genoa": [_G.ark]})
_POOL = (
    VCEK,  # the valid path: VCEK, re-issued ASK, ARK
    _reissued_ask(),
    M.ark,
    M.vcek_for(REPORT, validity=_PAST),  # expired twin
    M.vcek_for(REPORT, signer="rogue"),  # same key, not signed by the ASK
    M.ask,  # revoked by the CRL below
    _OTHER_ARK,  # pinned, signs nothing here
    _G.ask,  # another product's chain
    _G.ark,
    M.vlek(),  # the other key kind
)
_CRL = M.crl(revoked=[0x010001])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(_POOL))))
def test_any_order_of_decoys_is_accepted(order: list[int]) -> None:
    items = [_POOL[i] for i in order]
    res = _verify(REPORT, *items, _CRL, trust=_DECOY_TRUST)
    assert res.accepted and res.collateral["revocation_checked"] is True
