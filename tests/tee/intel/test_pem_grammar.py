"""The PEM grammar of type-5 certification data (docs/intel.md "Certification data"): exactly
the form Intel's QE writes, 64-character base64 lines, LF line ends, a final LF, then NUL
padding. Issue 11: an extra line break inside a base64 line and a missing final newline were
accepted although the docs said otherwise; CRLF was accepted too. Each variant below keeps the
certificates unchanged, so only the grammar can reject it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from cocoverify import CocoverifyError, MalformedEvidence, Reason
from cocoverify._core.text import decode_text
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.intel.pck import _cert_data_certificates
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import QuoteBuilder
from cocoverify_testing.pki import pem

from _shared import require_shared
from _shared.intel import DER, PKI, verify


def _canonical() -> bytes:
    return pem(*PKI.pck_chain(fi.sgx_pck()))


def _split_first_base64_line(data: bytes) -> bytes:
    """A line break inside the first base64 line (64 -> 30 + 34 characters)."""
    start = data.index(b"-----\n") + 6
    return data[: start + 30] + b"\n" + data[start + 30 :]


def _rewrapped(data: bytes, width: int) -> bytes:
    out = b""
    for cert in PKI.pck_chain(fi.sgx_pck()):
        text = base64.b64encode(cert.public_bytes(DER))
        lines = b"\n".join(text[i : i + width] for i in range(0, len(text), width))
        out += b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"
    assert out != data
    return out


VARIANTS = {
    "line_break_inside_base64_line": lambda d: _split_first_base64_line(d) + b"\x00",
    "no_final_newline": lambda d: d.rstrip(b"\n") + b"\x00",
    "no_final_newline_no_nul": lambda d: d.rstrip(b"\n"),
    "crlf": lambda d: d.replace(b"\n", b"\r\n") + b"\x00",
    "lines_of_76": lambda d: _rewrapped(d, 76) + b"\x00",
    "lines_of_48": lambda d: _rewrapped(d, 48) + b"\x00",
    "blank_line_between_blocks": lambda d: (
        d.replace(b"-----\n-----BEGIN", b"-----\n\n-----BEGIN") + b"\x00"
    ),
    "space_at_line_end": lambda d: (
        d.replace(b"-----BEGIN CERTIFICATE-----\n", b"-----BEGIN CERTIFICATE----- \n", 1) + b"\x00"
    ),
}


def test_the_canonical_form_is_accepted() -> None:
    assert verify(QuoteBuilder.sgx().cert_data(_canonical() + b"\x00").sign(PKI)).accepted


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_other_pem_layouts_are_malformed(variant: str) -> None:
    data = VARIANTS[variant](_canonical())
    with pytest.raises(MalformedEvidence) as ei:
        verify(QuoteBuilder.sgx().cert_data(data).sign(PKI))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_both_backends_agree(variant: str, backend: str) -> None:
    """The C core only locates the certification data; the grammar is checked on what
    either backend located, so both refuse the same bytes at the same offset."""
    quote = QuoteBuilder.sgx().cert_data(VARIANTS[variant](_canonical())).sign(PKI)
    with pytest.raises(MalformedEvidence) as ei:
        _cert_data_certificates(parse_quote(quote, backend=backend))
    assert ei.value.reason is Reason.MALFORMED_CERTIFICATE
    assert ei.value.field == "certification_data.data"


def _real_pem_quotes() -> list[Path]:
    base = require_shared("intel")
    out = []
    for f in sorted(base.glob("*/*")):
        if not f.is_file() or f.suffix == ".json":
            continue
        try:
            quote = parse_quote(decode_text(f.read_bytes()))
        except CocoverifyError:  # not a quote (collateral files)
            continue
        if quote.certification.data.startswith(b"-----BEGIN"):
            out.append(f)
    return out


def test_every_real_pem_quote_has_the_canonical_form(backend: str) -> None:
    """The decision rests on this: all real quotes with a PEM chain (24 files) pass."""
    files = _real_pem_quotes()
    assert len(files) >= 20
    for f in files:
        quote = parse_quote(decode_text(f.read_bytes()), backend=backend)
        assert len(_cert_data_certificates(quote)) == 3, f
