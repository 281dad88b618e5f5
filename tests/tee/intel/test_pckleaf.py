"""A new leaf under known CA certificates (cocoverify.tee.intel.pckleaf) gives exactly the
``Platform`` that ``pck.read_platform`` gives: generated and real chains, leaves that differ
in one thing (signature, algorithm, issuer bytes, profile, extension, validity, encoding of
the signature) and random byte mutations of the leaf."""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import json
import random
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify import Verifier
from cocoverify._core.x509 import pem_blocks
from cocoverify.errors import CocoverifyError
from cocoverify.tee.intel import pck, pckleaf, prepared
from cocoverify.tee.intel.claims import pck_claims
from cocoverify.tee.intel.parse import parse_quote
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import NOW, PckSpec

from _shared import require_shared
from _shared.intel import PKI, TRUST, collateral


def _norm(value: Any) -> Any:
    """A comparable form of a Platform: dataclasses field by field, errors by type, reason,
    message and details, certificates by DER."""
    if isinstance(value, CocoverifyError):
        return (type(value).__name__, value.reason, value.args, _norm(dict(value.details)))
    if isinstance(value, x509.Certificate):
        return value.public_bytes(Encoding.DER)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, *(_norm(getattr(value, f.name)) for f in fields))
    if isinstance(value, Mapping):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if hasattr(value, "public_numbers"):
        return value.public_numbers()
    return value


def _pem(cert: x509.Certificate | bytes) -> bytes:
    der = cert if isinstance(cert, bytes) else cert.public_bytes(Encoding.DER)
    body = base64.b64encode(der)
    lines = b"".join(body[i : i + 64] + b"\n" for i in range(0, len(body), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + lines + b"-----END CERTIFICATE-----\n"


def _data(leaf: x509.Certificate | bytes, ca: str = "processor") -> bytes:
    return _pem(leaf) + _pem(PKI.ca_cert(ca)) + _pem(PKI.root_cert)


def _same(data: bytes, *, fast: bool | None = None) -> None:
    """read_new_leaf and read_platform agree on ``data`` (after the CA blocks are known);
    ``fast``: whether the new path must answer (None: either)."""
    slow = pck.read_platform(data, claims=pck_claims)
    got = pckleaf.read_new_leaf(data, claims=pck_claims)
    if fast is not None:
        assert (got is not None) == fast
    if got is not None:
        assert _norm(got) == _norm(slow)


@pytest.fixture(autouse=True)
def _clean() -> None:
    prepared.clear_caches()


def _spec(ca: str = "processor", **kw: Any) -> PckSpec:
    base = fi.sgx_pck() if ca == "processor" else fi.tdx_pck()
    return dataclasses.replace(base, **kw)


@pytest.mark.parametrize("ca", ["processor", "platform"])
def test_generated_new_platforms(ca: str) -> None:
    pck.read_platform(_data(PKI.pck_cert(_spec(ca)), ca))  # the CA blocks become known
    for i in range(4):
        spec = _spec(ca, key=f"pckleaf-{ca}-{i}", serial=1000 + i)
        _same(_data(PKI.pck_cert(spec), ca), fast=True)


def _issue(
    *,
    algorithm: hashes.HashAlgorithm | None = None,
    issuer: x509.Name | None = None,
    subject: x509.Name | None = None,
    signer: str = "intel-pck-processor-ca",
    extension: bool = True,
    not_after: _dt.datetime | None = None,
) -> x509.Certificate:
    """A processor-CA leaf built directly, one knob changed."""
    good = PKI.pck_cert(_spec(key="pckleaf-knob"))
    b = (
        x509.CertificateBuilder()
        .subject_name(subject or good.subject)
        .issuer_name(issuer or good.issuer)
        .public_key(good.public_key())
        .serial_number(good.serial_number)
        .not_valid_before(good.not_valid_before_utc)
        .not_valid_after(not_after or good.not_valid_after_utc)
    )
    for ext in good.extensions:
        if extension or ext.oid.dotted_string != fi.SGX_EXTENSION_OID:
            b = b.add_extension(ext.value, ext.critical)
    return b.sign(PKI.key(signer), algorithm or hashes.SHA256())


@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"algorithm": hashes.SHA384()},
        {"signer": "rogue-pck-ca"},
        {"extension": False},
        {"not_after": _dt.datetime(2031, 1, 1, tzinfo=_dt.UTC)},
        {"subject": x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Intel SGX PCK")])},
        {"issuer": x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Someone CA")])},
    ],
    ids=["as-is", "sha384", "wrong-signer", "no-sgx-extension", "not-after", "cn", "issuer"],
)
def test_one_knob(knobs: dict[str, Any]) -> None:
    pck.read_platform(_data(PKI.pck_cert(_spec())))
    _same(_data(_issue(**knobs)))


def _resign_signature(der: bytes, signature: bytes) -> bytes:
    """``der`` with its signatureValue BIT STRING content replaced (lengths re-encoded)."""

    def tlv(tag: int, body: bytes) -> bytes:
        n = len(body)
        if n < 0x80:
            return bytes([tag, n]) + body
        size = (n.bit_length() + 7) // 8
        return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + body

    _, start, end = pckleaf._tlv(der, 0, len(der))
    _, _, t_end = pckleaf._tlv(der, start, end)
    _, _, a_end = pckleaf._tlv(der, t_end, end)
    return tlv(0x30, der[start:a_end] + tlv(0x03, signature))


def test_issuer_name_in_other_string_types() -> None:
    """The issuer's values as the PCK CA's subject, other ASN.1 string types: not the same
    bytes, so the leaf's link goes through ``cryptography`` (its answer, whatever it is)."""
    pck.read_platform(_data(PKI.pck_cert(_spec())))
    ca = PKI.processor_ca_cert.subject
    for string_type in (x509.name._ASN1Type.UTF8String, x509.name._ASN1Type.PrintableString):
        issuer = x509.Name([x509.NameAttribute(a.oid, str(a.value), _type=string_type) for a in ca])
        leaf = _issue(issuer=issuer)
        assert leaf.issuer.public_bytes() != ca.public_bytes()
        _same(_data(leaf))


def test_signature_encodings() -> None:
    good = PKI.pck_cert(_spec(key="pckleaf-sig"))
    der = good.public_bytes(Encoding.DER)
    pck.read_platform(_data(good))
    walked = pckleaf.der_walk(der)
    sig = walked.signature
    raw = pckleaf._raw_signature(sig)
    assert raw is not None
    r, s = raw[:32], raw[32:]

    def seq(*ints: bytes) -> bytes:
        body = b"".join(bytes([0x02, len(i)]) + i for i in ints)
        return b"\x00" + bytes([0x30, len(body)]) + body

    def minimal(v: bytes) -> bytes:
        v = v.lstrip(b"\x00") or b"\x00"
        return b"\x00" + v if v[0] & 0x80 else v

    variants = {
        "canonical": seq(minimal(r), minimal(s)),
        "padded-r": seq(b"\x00" + minimal(r), minimal(s)),
        "negative-s": seq(minimal(r), b"\xff" + s),
        "unused-bits": b"\x01" + sig[1:],
        "trailing": sig + b"\x00",
        "r-zero": seq(b"\x00", minimal(s)),
        "r-33": seq(b"\x01" + r.rjust(32, b"\x01"), minimal(s)),
    }
    assert variants["canonical"] == sig
    for value in variants.values():
        mutated = _resign_signature(der, value)
        try:
            x509.load_der_x509_certificate(mutated)
        except ValueError:
            continue
        _same(_data(mutated))
    assert pckleaf._raw_signature(variants["padded-r"]) is None


def test_random_leaf_mutations() -> None:
    good = PKI.pck_cert(_spec(key="pckleaf-mut"))
    der = good.public_bytes(Encoding.DER)
    pck.read_platform(_data(good))
    rng = random.Random(9)
    fast = 0
    for _ in range(300):
        mutated = bytearray(der)
        for _ in range(rng.choice((1, 1, 2))):
            mutated[rng.randrange(len(der))] ^= 1 << rng.randrange(8)
        data = _data(bytes(mutated))
        slow = pck.read_platform(data, claims=pck_claims)
        got = pckleaf.read_new_leaf(data, claims=pck_claims)
        if got is not None:
            fast += 1
            assert _norm(got) == _norm(slow)
    assert fast > 50  # most mutants stay readable and take the new path


def test_order_and_shape_fall_back() -> None:
    good = PKI.pck_cert(_spec(key="pckleaf-order"))
    pck.read_platform(_data(good))
    leaf, inter, root = _pem(good), _pem(PKI.processor_ca_cert), _pem(PKI.root_cert)
    for data in (root + inter + leaf, leaf + inter, leaf + inter + inter, inter + inter + root):
        assert pckleaf.read_new_leaf(data) is None
        pck.read_platform(data)  # the old path answers (an error or a plan)
    # CA blocks not read before: the old path reads them
    prepared.clear_caches()
    assert pckleaf.read_new_leaf(leaf + inter + root) is None


def test_non_canonical_base64_falls_back() -> None:
    good = PKI.pck_cert(_spec(key="pckleaf-b64"))
    pck.read_platform(_data(good))
    data = _data(good)
    head = _pem(good)
    lines = head.split(b"\n")
    last = lines[-3]  # the last base64 line
    if last.endswith(b"=="):
        alt = last[:-3] + bytes([last[-3] ^ 0x01]) + b"=="
        data = data.replace(last, alt, 1)
        assert pckleaf._der_of_block(pem_blocks(data)[0]) is None
        _same(data, fast=False)


def test_real_quotes() -> None:
    base = require_shared("intel")
    manifest = json.loads((base / "MANIFEST.json").read_text())
    seen = 0
    for case in manifest["cases"]:
        path = base / case["id"] / case["files"].get("quote", "-")
        if not path.is_file():
            continue
        try:
            quote = parse_quote(path.read_bytes())
        except CocoverifyError:
            continue
        if quote.certification.type != 5:
            continue
        data = quote.certification.data
        prepared.clear_caches()
        pck.read_platform(data)  # its CA certificates become known
        pckleaf.CA_ENTRIES.clear()
        got = pckleaf.read_new_leaf(data, claims=pck_claims)
        if got is not None:
            seen += 1
            assert _norm(got) == _norm(pck.read_platform(data, claims=pck_claims)), case["id"]
    assert seen >= 5


def _outcome(quote: bytes) -> Any:
    tee = "sgx" if quote[4] == 0 else "tdx"
    try:
        return Verifier(collateral=collateral(tee), trust=TRUST).verify(quote, at=NOW).to_dict()
    except CocoverifyError as exc:
        return (type(exc).__name__, exc.reason, str(exc))


@pytest.mark.parametrize("ca", ["processor", "platform"])
def test_verify_new_platforms_warm_equals_cold(ca: str) -> None:
    """Whole verifications: each new platform (and a leaf signed by another key, a leaf
    without the SGX extension) gives after others what it gives from empty tables."""
    builder = fi.QuoteBuilder.sgx() if ca == "processor" else fi.QuoteBuilder.tdx()
    quotes = [
        builder.pck(_spec(ca, key=f"pckleaf-e2e-{ca}-{i}", serial=2000 + i)).sign(PKI)
        for i in range(3)
    ]
    quotes.append(builder.pck(_spec(ca, key="pckleaf-e2e-rogue", signer="rogue")).sign(PKI))
    ext = dataclasses.replace(_spec(ca).extension, fmspc=b"\x01" * 6)
    quotes.append(builder.pck(_spec(ca, key="pckleaf-e2e-fmspc", extension=ext)).sign(PKI))
    cold = []
    for q in quotes:
        prepared.clear_caches()
        cold.append(_outcome(q))
    prepared.clear_caches()
    warm = [_outcome(q) for q in quotes]
    assert warm == cold
    assert isinstance(warm[0], dict) and isinstance(warm[3], tuple)
    assert len(pckleaf.NAMES) > 0  # the new path ran
