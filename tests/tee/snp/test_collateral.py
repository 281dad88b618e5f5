"""Where certificates and CRLs come from: the certificate table (GUID = role), the caller's
collateral; every one decoded up front."""

from __future__ import annotations

import contextlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import verify
from cocoverify.collateral import Collateral
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    MalformedEvidence,
    Reason,
    Revoked,
)
from cocoverify.tee.snp.certtable import CertTable, CertTableEntry
from cocoverify_testing.snp import cert_table

from _shared.snp import AT, MB, REPORT, TRUST, VCEK, M, der_of, rejects, verify_with


def test_cert_table_with_crl() -> None:
    rep = MB.sign(M)
    blob = cert_table(
        vcek=der_of(M.vcek_for(rep)),
        ask=der_of(M.ask),
        ark=der_of(M.ark),
        crl=der_of(M.crl(revoked=[0x010001])),
    )
    rejects(Revoked, Reason.CERTIFICATE_REVOKED, rep + blob)


def test_cert_table_and_collateral_combine() -> None:
    rep = MB.sign(M)
    blob = cert_table(vcek=der_of(M.vcek_for(rep)))
    res = verify_with(rep + blob, M.ask, M.ark)
    assert res.collateral["cert_table"] is True


def test_cert_table_wrong_slot() -> None:
    rep = MB.sign(M)
    blob = cert_table(vcek=der_of(M.vcek_for(rep)), ask=der_of(M.ark), ark=der_of(M.ask))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, rep + blob)


def test_cert_table_entry_not_der() -> None:
    rep = MB.sign(M)
    rejects(MalformedEvidence, Reason.MALFORMED_CERTIFICATE, rep + cert_table(vcek=b"\x30\x03abc"))


def test_cert_table_unknown_guid_is_listed() -> None:
    rep = MB.sign(M)
    blob = CertTable(
        (
            CertTableEntry("63da758d-e664-4564-adc5-f4b93be8accd", "vcek", der_of(M.vcek_for(rep))),
            CertTableEntry("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6", None, b"\x01\x02"),
        )
    ).to_bytes()
    res = verify_with(rep + blob, M.ask, M.ark)
    assert res.collateral["cert_table_unknown_guids"] == ("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6",)


def test_der_collateral_ending_in_a_whitespace_byte_loads() -> None:
    # RSA-PSS signatures are random: about 1 DER file in 43 ends in 0x09-0x0d or 0x20, which
    # content recognition must not strip (regression: snp.crl.* vectors failed at random)
    for _ in range(2000):
        crl = M.crl()
        der = der_of(crl)
        if der[-1:].isspace():
            break
    else:  # pragma: no cover - astronomically unlikely
        pytest.skip("no CRL ending in whitespace was produced")
    assert Collateral.from_bytes(der).crls[0].public_bytes(Encoding.DER) == der


def _lazily_broken(cert: x509.Certificate) -> bytes:
    """A DER copy that loads but whose issuer fails to decode on access."""
    der = der_of(cert)
    for offset in range(20, 400):
        bad = bytearray(der)
        bad[offset] = 0
        try:
            c = x509.load_der_x509_certificate(bytes(bad))
        except ValueError:
            continue
        try:
            _ = c.issuer
        except ValueError:
            return bytes(bad)
    raise AssertionError("no lazily failing mutation found")


def test_lazily_undecodable_certificates() -> None:
    rep = MB.sign(M)
    bad = _lazily_broken(M.vcek_for(rep))
    rejects(MalformedEvidence, Reason.MALFORMED_CERTIFICATE, rep + cert_table(vcek=bad))
    broken = x509.load_der_x509_certificate(bad)
    rejects(CollateralInvalid, Reason.COLLATERAL_MALFORMED, rep, broken, M.ask, M.ark)


# --- certificates and CRLs cryptography cannot decode are errors, never crashes -------------------


def _patched(der: bytes, old: bytes, new: bytes) -> bytes:
    assert der.count(old) >= 1
    i = der.rindex(old)
    return der[:i] + new + der[i + len(old) :]


def _broken_vceks() -> dict[str, bytes]:
    der = der_of(VCEK)
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
    table = cert_table(vcek=bad, ask=der_of(M.ask), ark=der_of(M.ark))
    with pytest.raises(MalformedEvidence) as exc:
        verify(REPORT + table, trust=TRUST, at=AT)
    assert exc.value.reason is Reason.MALFORMED_CERTIFICATE


def test_undecodable_table_crl_is_malformed_evidence() -> None:
    der = der_of(M.crl())
    bad = der[:10] + bytes([der[10] ^ 1]) + der[11:]  # CRL v2 -> v1 with version present
    table = cert_table(vcek=der_of(VCEK), ask=der_of(M.ask), ark=der_of(M.ark), crl=bad)
    with pytest.raises(MalformedEvidence) as exc:
        verify(REPORT + table, trust=TRUST, at=AT)
    assert exc.value.reason is Reason.MALFORMED_CERTIFICATE


def test_undecodable_collateral_certificate_is_collateral_malformed() -> None:
    cert = x509.load_der_x509_certificate(_broken_vceks()["duplicate_extension"])
    with pytest.raises(CollateralInvalid) as exc:
        verify_with(REPORT, cert, M.ask, M.ark)
    assert exc.value.reason is Reason.COLLATERAL_MALFORMED


_FULL_TABLE = cert_table(
    vcek=der_of(VCEK), ask=der_of(M.ask), ark=der_of(M.ark), crl=der_of(M.crl(revoked=[5]))
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
