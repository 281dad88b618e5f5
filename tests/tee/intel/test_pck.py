"""The PCK certificate chain (cocoverify.tee.intel.pck): certification data read strictly
(PEM as the QE writes it, DER with NUL padding only, exactly the chain), chains taken from the
collateral for types 1-4, and the Intel SGX extension decoded strictly.

Regression tests: each builds its input with the TEST-ONLY fake Intel PKI so that exactly one
thing differs from a valid quote and its collateral.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import (
    ChainInvalid,
    CocoverifyError,
    Collateral,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
)
from cocoverify._core.x509 import load_certificates
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import (
    SGX_EXTENSION_OID,
    PckSpec,
    QuoteBuilder,
    SgxExtension,
    der_bool,
    der_enum,
    der_int,
    der_octets,
    der_oid,
    der_seq,
)
from cocoverify_testing.pki import pem

from _shared.intel import DER, PKI, built, cert_data_field, collateral, verify

# --- certificates with an X.509 version other than v1/v3 crashed the verifier -----------


def _bad_version(cert: x509.Certificate) -> bytes:
    der = bytearray(cert.public_bytes(DER))
    # SEQUENCE(4) SEQUENCE(4) [0](2) INTEGER 02 01 <version>: v3 is 2
    assert der[8:12] == b"\xa0\x03\x02\x01" and der[12] == 2
    der[12] = 3
    return bytes(der)


def test_bad_x509_version_is_malformed_not_a_crash() -> None:
    leaf, inter, root = PKI.pck_chain(fi.sgx_pck())
    bad = _bad_version(leaf)
    with pytest.raises(MalformedEvidence) as ei:
        load_certificates(bad)
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE
    der_chain = bad + inter.public_bytes(DER) + root.public_bytes(DER)
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(der_chain).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE
    pem_leaf = (
        b"-----BEGIN CERTIFICATE-----\n"
        + b"\n".join(_b64_lines(bad))
        + b"\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(pem_leaf + pem(inter, root) + b"\x00").sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


def _b64_lines(der: bytes) -> list[bytes]:
    import base64

    text = base64.b64encode(der)
    return [text[i : i + 64] for i in range(0, len(text), 64)]


# --- type-5 PEM was read leniently: unsigned bytes could change and still be accepted ----


def _pem_offsets(kind: str) -> dict[str, int]:
    b = built(kind)
    f = cert_data_field(b)
    data = b.data[f.offset : f.offset + f.size]
    first_nl = data.index(b"\n")
    return {
        "after_begin": f.offset + first_nl,
        "base64_line_end": f.offset + first_nl + 65,
        "between_blocks": f.offset + data.index(b"-----END CERTIFICATE-----\n") + 25,
        "final_newline": f.offset + f.size - 2,
        "nul_terminator": f.offset + f.size - 1,
    }


@pytest.mark.parametrize("kind", ["sgx3", "tdx4"])
@pytest.mark.parametrize(
    "where", ["after_begin", "base64_line_end", "between_blocks", "final_newline", "nul_terminator"]
)
def test_pem_layout_bytes_cannot_be_changed(kind: str, where: str) -> None:
    b = built(kind)
    offset = _pem_offsets(kind)[where]
    mutated = bytearray(b.data)
    mutated[offset] ^= 0x01
    with pytest.raises(MalformedEvidence) as ei:
        verify(bytes(mutated))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


@pytest.mark.parametrize(
    "suffix", [b"junk\x00", b"\n\x00", b" \x00", b"\x00junk", b"\x00\x01"], ids=repr
)
def test_text_after_the_pem_chain_is_malformed(suffix: bytes) -> None:
    chain = pem(*PKI.pck_chain(fi.sgx_pck()))
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(chain + suffix).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


def test_text_between_pem_blocks_is_malformed() -> None:
    leaf, inter, root = PKI.pck_chain(fi.sgx_pck())
    data = pem(leaf) + b"comment\n" + pem(inter, root) + b"\x00"
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(data).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


# CRLF and a missing final newline are refused since issue 11: tests/tee/intel/test_pem_grammar.py
@pytest.mark.parametrize("variant", ["no_nul", "several_nuls", "root_first"])
def test_pem_forms_a_qe_may_write_are_accepted(variant: str) -> None:
    leaf, inter, root = PKI.pck_chain(fi.sgx_pck())
    data = pem(leaf, inter, root)
    if variant == "several_nuls":
        data += b"\x00" * 5
    elif variant == "root_first":
        data = pem(root, inter, leaf) + b"\x00"
    assert verify(QuoteBuilder.sgx().cert_data(data).sign(PKI)).accepted


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["sgx3", "tdx4"]), pos=st.integers(0, 10**6), mask=st.integers(1, 255))
def test_no_change_of_the_certification_data_is_accepted(kind: str, pos: int, mask: int) -> None:
    b = built(kind)
    f = cert_data_field(b)
    mutated = bytearray(b.data)
    mutated[f.offset + pos % f.size] ^= mask
    with pytest.raises(CocoverifyError):
        verify(bytes(mutated))


# --- certificates in type 5 that are not part of the chain were ignored ------------------


@pytest.mark.parametrize("extra", ["tcb_signing", "duplicate_leaf", "other_ca"])
def test_type5_must_hold_exactly_the_chain(extra: str) -> None:
    leaf, inter, root = PKI.pck_chain(fi.sgx_pck())
    more = {"tcb_signing": PKI.tcb_signing_cert, "duplicate_leaf": leaf}.get(
        extra, PKI.platform_ca_cert
    )
    data = pem(leaf, inter, root, more) + b"\x00"
    with pytest.raises(ChainInvalid) as ei:
        verify(QuoteBuilder.sgx().cert_data(data).sign(PKI))
    assert ei.value.reason is Reason.CHAIN_INVALID


# --- DER chains: trailing zero bytes of the last certificate were stripped ---------------


@cache
def _leaf_ending_in_zero() -> PckSpec:
    """A PCK leaf whose DER ends in 0x00 (its signature's last byte), found by serial."""
    for serial in range(1, 5000):
        spec = replace(fi.sgx_pck(), serial=0x5EED0000 + serial)
        if PKI.pck_cert(spec).public_bytes(DER)[-1] == 0:
            return spec
    raise AssertionError("no serial gives a signature ending in 0x00")


@pytest.mark.parametrize("padding", [b"", b"\x00", b"\x00" * 7])
def test_der_chain_whose_last_certificate_ends_in_zero(padding: bytes) -> None:
    spec = _leaf_ending_in_zero()
    leaf, inter, root = PKI.pck_chain(spec)
    data = b"".join(c.public_bytes(DER) for c in (root, inter, leaf)) + padding
    assert verify(QuoteBuilder.sgx().pck(spec).cert_data(data).sign(PKI)).accepted


def test_der_chain_with_trailing_non_zero_byte_is_malformed() -> None:
    data = b"".join(c.public_bytes(DER) for c in PKI.pck_chain(fi.sgx_pck())) + b"\x00\x01"
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(data).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


# --- types 1-4: the first PCK chain of the collateral was taken, whoever's it was --------

_OTHER_PCK = PckSpec(key="intel-pck-other-platform", serial=0x0DDBA11)


def test_type1_uses_the_collateral_chain_that_signed_the_qe_report() -> None:
    quote = QuoteBuilder.sgx().cert_data_type(1).sign(PKI)
    coll = (
        Collateral(chains=(PKI.pck_chain(_OTHER_PCK), PKI.pck_chain(fi.sgx_pck()))) + collateral()
    )
    assert verify(quote, coll).accepted
    only_other = Collateral(chains=(PKI.pck_chain(_OTHER_PCK),)) + collateral()
    with pytest.raises(SignatureInvalid) as ei:
        verify(quote, only_other)
    assert ei.value.reason is Reason.QE_REPORT_SIGNATURE_INVALID


def test_type4_leaf_is_completed_from_the_collateral() -> None:
    quote = QuoteBuilder.sgx().cert_data_type(4).sign(PKI)  # the PCK leaf alone, PEM
    assert verify(quote, collateral()).accepted  # CA + root from the PCK CRL issuer chain
    with pytest.raises(cocoverify.CollateralUnavailable) as eu:
        verify(quote, replace(collateral(), chains=()))
    assert eu.value.reason is Reason.COLLATERAL_MISSING


def test_type4_with_more_than_the_leaf_is_rejected() -> None:
    data = pem(*PKI.pck_chain(fi.sgx_pck()))
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data_type(4).cert_data(data).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


# --- the PCK SGX extension was decoded leniently -----------------------------------------

B = SGX_EXTENSION_OID


def _entry(oid: str, value: bytes) -> bytes:
    return der_seq(der_oid(oid), value)


def _tcb(
    svns: tuple[int, ...] = fi.SgxExtension().tcb_components,
    pcesvn: int = 13,
    extra: tuple[bytes, ...] = (),
) -> bytes:
    items = [_entry(f"{B}.2.{i + 1}", der_int(s)) for i, s in enumerate(svns)]
    items.append(_entry(f"{B}.2.17", der_int(pcesvn)))
    items.append(_entry(f"{B}.2.18", der_octets(bytes(s & 0xFF for s in svns))))
    return der_seq(*items, *extra)


def _extension(**parts: bytes | None) -> bytes:
    base = SgxExtension()
    entries = {
        "1": _entry(f"{B}.1", der_octets(base.ppid)),
        "2": _entry(f"{B}.2", _tcb()),
        "3": _entry(f"{B}.3", der_octets(b"\x00\x00")),
        "4": _entry(f"{B}.4", der_octets(base.fmspc)),
        "5": _entry(f"{B}.5", der_enum(0)),
    }
    for k, v in parts.items():
        if v is None:
            entries.pop(k, None)
        else:
            entries[k] = v
    return der_seq(*entries.values())


def _config(*items: bytes) -> bytes:
    return _entry(f"{B}.7", der_seq(*items))


_GOOD_CONFIG = _config(*(_entry(f"{B}.7.{i}", der_bool(True)) for i in (1, 2, 3)))
_BAD_EXTENSIONS = {
    "unknown_entries_instead_of_6_7": _extension(
        **{"6": _entry(f"{B}.8", der_octets(bytes(16))), "7": _entry(f"{B}.9", der_int(1))}
    ),
    "six_entries": _extension(**{"6": _entry(f"{B}.6", der_octets(bytes(16)))}),
    "duplicate_top_entry": _extension(**{"6": _entry(f"{B}.4", der_octets(bytes(6)))}),
    "duplicate_tcb_component": _extension(
        **{"2": _entry(f"{B}.2", _tcb(extra=(_entry(f"{B}.2.1", der_int(99)),)))}
    ),
    "unknown_tcb_entry": _extension(
        **{"2": _entry(f"{B}.2", _tcb(extra=(_entry(f"{B}.2.19", der_int(0)),)))}
    ),
    "svn_above_255": _extension(**{"2": _entry(f"{B}.2", _tcb(svns=(256,) + (0,) * 15))}),
    "negative_pcesvn": _extension(**{"2": _entry(f"{B}.2", _tcb(pcesvn=-1))}),
    "sgx_type_3": _extension(**{"5": _entry(f"{B}.5", der_enum(3))}),
    "sgx_type_as_integer": _extension(**{"5": _entry(f"{B}.5", der_int(0))}),
    "unknown_configuration_entry": _extension(
        **{
            "6": _entry(f"{B}.6", der_octets(bytes(16))),
            "7": _config(_entry(f"{B}.7.4", der_bool(True))),
        }
    ),
    "duplicate_configuration_entry": _extension(
        **{
            "6": _entry(f"{B}.6", der_octets(bytes(16))),
            "7": _config(_entry(f"{B}.7.1", der_bool(True)), _entry(f"{B}.7.1", der_bool(False))),
        }
    ),
}


def _quote_with_extension(raw: bytes) -> bytes:
    spec = replace(fi.sgx_pck(), extension=replace(SgxExtension(), raw=raw))
    return QuoteBuilder.sgx().pck(spec).sign(PKI)


def test_hand_built_extensions_are_accepted() -> None:
    assert verify(_quote_with_extension(_extension())).accepted
    seven = _extension(**{"6": _entry(f"{B}.6", der_octets(bytes(16))), "7": _GOOD_CONFIG})
    assert verify(_quote_with_extension(seven)).claims["pck"]["smt_enabled"] is True


@pytest.mark.parametrize("defect", sorted(_BAD_EXTENSIONS))
def test_malformed_sgx_extension_is_rejected(defect: str) -> None:
    with pytest.raises(ChainInvalid) as ei:
        verify(_quote_with_extension(_BAD_EXTENSIONS[defect]))
    assert ei.value.reason is Reason.CERTIFICATE_PROFILE_INVALID
