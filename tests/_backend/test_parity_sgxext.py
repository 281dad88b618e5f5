"""Both backends decode the Intel SGX PCK extension identically (docs/native.md, "SNP reports
and the SGX PCK extension").

For every certificate, ``parse_pck_extension`` through the C walk (csrc/cv_sgxext.c) and
through the pure-Python DER walk returns equal ``PckInfo`` facts or raises the same
ChainInvalid (reason and message). For every extension value, the decoders behind it agree
on the facts or on the ValueError text. Inputs: the PCK certificates in the real Intel quotes
and files of ../shared/vectors/intel (when present), those of the generated quotes in
vectors/intel, certificates built with the test PKI (5 and 7 entries, each malformed
profile), every truncation, byte flip, inserted and deleted byte of their extension values,
one value per C error code, and Hypothesis mutations and generated DER.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify._backend as backend_mod
import cocoverify._core.der as der
from cocoverify import ChainInvalid, Reason
from cocoverify._backend import native_error
from cocoverify._core.text import decode_text
from cocoverify.tee.intel import sgxext
from cocoverify_testing.der import der_bool, der_enum, der_int, der_octets, der_oid, der_seq, tlv
from cocoverify_testing.intel import FakeIntelPKI, SgxExtension, sgx_pck, tdx_pck

from _shared import PROJECT_VECTORS, ROOT, SHARED_VECTORS

if native_error() is not None:
    if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
        raise RuntimeError(f"COCOVERIFY_REQUIRE_NATIVE is set: {native_error()}")
    pytest.skip(f"native backend unavailable: {native_error()}", allow_module_level=True)

from cocoverify._backend import _native_sgxext

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B = sgxext.SGX_EXT_OID
SGX_OID = x509.ObjectIdentifier(B)
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\n]+?-----END CERTIFICATE-----")
PKI = FakeIntelPKI()


@contextmanager
def selected(name: str) -> Iterator[None]:
    """Run with ``name`` as the selected backend (what ``backend_for`` reads)."""
    saved = backend_mod.BACKEND
    backend_mod.BACKEND = name
    try:
        yield
    finally:
        backend_mod.BACKEND = saved


def cert_outcome(cert: x509.Certificate, backend: str) -> tuple[Any, ...]:
    with selected(backend):
        try:
            return ("ok", sgxext.parse_pck_extension(cert))
        except ChainInvalid as exc:
            return ("error", type(exc), exc.reason, str(exc))


def assert_cert_parity(cert: x509.Certificate) -> tuple[Any, ...]:
    py = cert_outcome(cert, "python")
    assert cert_outcome(cert, "native") == py
    return py


def outcome(raw: bytes, backend: str, cert: x509.Certificate | None = None) -> tuple[Any, ...]:
    """What one backend's decoder makes of an extension value (parse_pck_extension wraps
    ValueError, KeyError and IndexError into ChainInvalid)."""
    with selected(backend):
        try:
            return ("ok", sgxext._decode_sgx_extension(raw, cert or _processor_cert()))
        except (ValueError, KeyError, IndexError) as exc:
            return ("error", type(exc), str(exc))


def assert_parity(raw: bytes) -> tuple[Any, ...]:
    py = outcome(raw, "python")
    nat = outcome(raw, "native")
    assert nat == py, raw.hex()
    return py


def native_code(raw: bytes) -> int:
    """The C error code for ``raw`` (0 when it decodes)."""
    out = _native_sgxext.ffi.new("cv_sgxext_fields *")
    _native_sgxext.lib.cv_sgxext_parse(
        _native_sgxext.ffi.from_buffer("uint8_t[]", raw), len(raw), out
    )
    return int(out.err_code)


# --- inputs -----------------------------------------------------------------------------------


def _certificates_in(paths: list[Path]) -> dict[str, x509.Certificate]:
    """Every PEM certificate with the SGX extension in these files (hex/base64 decoded)."""
    out: dict[str, x509.Certificate] = {}
    for path in paths:
        raw = path.read_bytes()
        texts = {raw}
        with suppress(ValueError):
            texts.add(decode_text(raw))
        for text in texts:
            for m in PEM.finditer(text):
                try:
                    cert = x509.load_pem_x509_certificate(m.group(0).replace(b"\\n", b"\n"))
                    cert.extensions.get_extension_for_oid(SGX_OID)
                except (ValueError, x509.ExtensionNotFound):
                    continue
                out[cert.fingerprint(hashes.SHA256()).hex()] = cert
    return out


@cache
def _real() -> dict[str, x509.Certificate]:
    base = SHARED_VECTORS / "intel"
    files = [p for p in base.rglob("*") if p.is_file() and p.stat().st_size < 4_000_000]
    return _certificates_in(files) if base.is_dir() else {}


@cache
def _generated() -> dict[str, x509.Certificate]:
    return _certificates_in(sorted((PROJECT_VECTORS / "intel").rglob("*.bin")))


@cache
def _processor_cert() -> x509.Certificate:
    return PKI.pck_cert(sgx_pck())


@cache
def _platform_cert() -> x509.Certificate:
    return PKI.pck_cert(tdx_pck())


def _entry(oid: str, value: bytes) -> bytes:
    return der_seq(der_oid(oid), value)


def _tcb(
    *extra: bytes,
    svns: tuple[int, ...] = (5, 5, 2, 2, 4, 1, 3) + (0,) * 9,
    values: dict[int, bytes] | None = None,
) -> bytes:
    """The TCB SEQUENCE: .2.1-.2.16 SVNs, .2.17 PCESVN 13, .2.18 CPUSVN; ``values`` replaces
    the value of entry .2.i."""
    encoded = [der_int(s) for s in svns] + [der_int(13), der_octets(bytes(16))]
    for i, value in (values or {}).items():
        encoded[i - 1] = value
    items = [_entry(f"{B}.2.{i + 1}", v) for i, v in enumerate(encoded)]
    return der_seq(*items, *extra)


def _extension(*extra: bytes, **parts: bytes | None) -> bytes:
    entries: dict[str, bytes | None] = {
        "1": _entry(f"{B}.1", der_octets(bytes(range(16)))),
        "2": _entry(f"{B}.2", _tcb()),
        "3": _entry(f"{B}.3", der_octets(b"\x00\x01")),
        "4": _entry(f"{B}.4", der_octets(bytes.fromhex("00906EA10000"))),
        "5": _entry(f"{B}.5", der_enum(0)),
    }
    entries.update(parts)
    return der_seq(*(v for v in entries.values() if v is not None), *extra)


_CONFIG = _entry(f"{B}.7", der_seq(*(_entry(f"{B}.7.{i}", der_bool(True)) for i in (1, 2, 3))))
_SEVEN = {"6": _entry(f"{B}.6", der_octets(bytes(16))), "7": _CONFIG}


def _oid_bytes(value: bytes) -> bytes:
    return tlv(0x06, value)


def _nonminimal(oid: str, pad_arc: int) -> bytes:
    """``oid`` with one arc (index into the encoded arcs, modulo their number) led by a zero
    group (0x80): the same OID to a value-comparing decoder."""
    body = der_oid(oid)[2:]
    arcs: list[bytes] = []
    cur = bytearray()
    for b in body:
        cur.append(b)
        if not b & 0x80:
            arcs.append(bytes(cur))
            cur = bytearray()
    pad_arc %= len(arcs)
    arcs[pad_arc] = b"\x80" + arcs[pad_arc]
    return _oid_bytes(b"".join(arcs))


#: One extension value per C error code (enum cv_sgxext_error), plus tolerated encodings.
CASES: dict[str, bytes] = {
    "processor": _extension(),
    "platform": _extension(**_SEVEN),
    "platform_empty_config": _extension(**{**_SEVEN, "7": _entry(f"{B}.7", der_seq())}),
    "nonminimal_oids": _extension(
        **{
            "1": der_seq(_nonminimal(f"{B}.1", 0), der_octets(bytes(16))),
            "4": der_seq(_nonminimal(f"{B}.4", 6), der_octets(bytes(6))),
        }
    ),
    "leading_zero_integers": _extension(
        **{"2": _entry(f"{B}.2", _tcb()), "5": _entry(f"{B}.5", tlv(0x0A, b"\x00\x00\x02"))}
    ),
    "boolean_not_ff": _extension(
        **{**_SEVEN, "7": _entry(f"{B}.7", der_seq(_entry(f"{B}.7.2", tlv(0x01, b"\x05"))))}
    ),
    # 1-5: TLV headers
    "empty": b"",
    "header_truncated": b"\x30",
    "multibyte_tag": b"\x1f\x01\x00",
    "bad_length": b"\x30\x85\x00\x00\x00\x00\x01",
    "indefinite_length": b"\x30\x80\x00\x00",
    "nonminimal_length": b"\x30\x81\x05" + bytes(5),
    "value_truncated": b"\x30\x05\x00",
    "long_value_truncated": b"\x30\x82\x01\x00" + bytes(10),
    # 6-8: INTEGER, OID
    "svn_not_integer": _extension(**{"2": _entry(f"{B}.2", _tcb(values={3: der_octets(b"\x05")}))}),
    "svn_empty_integer": _extension(**{"2": _entry(f"{B}.2", _tcb(values={17: tlv(2, b"")}))}),
    "oid_not_oid": der_seq(der_seq(der_int(1), der_int(2))),
    "oid_empty": der_seq(der_seq(tlv(6, b""), der_int(2))),
    "oid_truncated": der_seq(der_seq(_oid_bytes(b"\x2a\x86"), der_int(2))),
    # 9-13: structure
    "two_sequences": _extension() + b"\x05\x00",
    "not_a_sequence": tlv(0x31, b""),
    "entry_of_three": der_seq(der_seq(der_oid(f"{B}.1"), der_int(1), der_int(2))),
    "entry_not_sequence": der_seq(der_int(1)),
    "duplicate_entry": _extension(**{"6": _entry(f"{B}.4", der_octets(bytes(6)))}),
    "duplicate_nonminimal": _extension(der_seq(_nonminimal(f"{B}.4", 3), der_octets(bytes(6)))),
    "duplicate_unknown": _extension(_entry("1.2.3.4", der_int(1)), _entry("1.2.3.4", der_int(1))),
    "six_entries": _extension(**{"6": _entry(f"{B}.6", der_octets(bytes(16)))}),
    "unknown_entries": _extension(
        **{"6": _entry(f"{B}.8", der_int(1)), "7": _entry("2.999.1234567890123456789", der_int(1))}
    ),
    "four_entries": _extension(**{"5": None}),
    # 14-20: values
    "ppid_short": _extension(**{"1": _entry(f"{B}.1", der_octets(bytes(15)))}),
    "pce_id_integer": _extension(**{"3": _entry(f"{B}.3", der_int(1))}),
    "fmspc_long": _extension(**{"4": _entry(f"{B}.4", der_octets(bytes(7)))}),
    "instance_id_short": _extension(**{**_SEVEN, "6": _entry(f"{B}.6", der_octets(bytes(2)))}),
    "tcb_not_sequence": _extension(**{"2": _entry(f"{B}.2", der_octets(bytes(18)))}),
    "tcb_unknown_entry": _extension(
        **{"2": _entry(f"{B}.2", _tcb(_entry(f"{B}.2.19", der_int(0))))}
    ),
    "tcb_missing_entry": _extension(
        **{"2": _entry(f"{B}.2", der_seq(_entry(f"{B}.2.1", der_int(0))))}
    ),
    "svn_256": _extension(**{"2": _entry(f"{B}.2", _tcb(svns=(0,) * 15 + (256,)))}),
    "svn_negative": _extension(**{"2": _entry(f"{B}.2", _tcb(svns=(-1,) + (0,) * 15))}),
    "svn_enumerated": _extension(**{"2": _entry(f"{B}.2", _tcb(values={16: der_enum(7)}))}),
    "pcesvn_65536": _extension(**{"2": _entry(f"{B}.2", _tcb(values={17: der_int(65536)}))}),
    "cpusvn_short": _extension(**{"2": _entry(f"{B}.2", _tcb(values={18: der_octets(bytes(15))}))}),
    "sgx_type_3": _extension(**{"5": _entry(f"{B}.5", der_enum(3))}),
    "sgx_type_negative": _extension(**{"5": _entry(f"{B}.5", der_enum(-2))}),
    "sgx_type_huge": _extension(**{"5": _entry(f"{B}.5", tlv(0x0A, b"\x7f" + bytes(40)))}),
    "sgx_type_integer": _extension(**{"5": _entry(f"{B}.5", der_int(0))}),
    "sgx_type_boolean": _extension(**{"5": _entry(f"{B}.5", der_bool(True))}),
    "config_not_sequence": _extension(**{**_SEVEN, "7": _entry(f"{B}.7", der_int(0))}),
    "config_unknown": _extension(
        **{**_SEVEN, "7": _entry(f"{B}.7", der_seq(_entry(f"{B}.7.4", der_bool(True))))}
    ),
    "config_unknown_after_bad_boolean": _extension(
        **{
            **_SEVEN,
            "7": _entry(
                f"{B}.7",
                der_seq(_entry(f"{B}.7.1", der_int(1)), _entry(f"{B}.7.9", der_bool(True))),
            ),
        }
    ),
    "config_duplicate": _extension(
        **{
            **_SEVEN,
            "7": _entry(
                f"{B}.7",
                der_seq(_entry(f"{B}.7.1", der_bool(True)), _entry(f"{B}.7.1", der_bool(False))),
            ),
        }
    ),
    "config_boolean_long": _extension(
        **{**_SEVEN, "7": _entry(f"{B}.7", der_seq(_entry(f"{B}.7.3", tlv(1, b"\xff\xff"))))}
    ),
}


def _many_unknown(n: int, duplicate_of: int | None) -> bytes:
    """n unknown entries (more than the C cache of 32), optionally repeating one at the end."""
    items = [_entry(f"1.3.6.1.4.1.{i}", der_int(i)) for i in range(n)]
    if duplicate_of is not None:
        items.append(items[duplicate_of])
    return der_seq(*items)


CASES["many_unknown"] = _many_unknown(40, None)
CASES["many_unknown_duplicate_early"] = _many_unknown(40, 2)
CASES["many_unknown_duplicate_late"] = _many_unknown(40, 37)


def _seed_values() -> dict[str, bytes]:
    certs = {**_real(), **_generated()}
    out = {
        f"cert-{k[:12]}": c.extensions.get_extension_for_oid(SGX_OID).value.value
        for k, c in certs.items()
    }
    return {**out, "processor": CASES["processor"], "platform": CASES["platform"]}


# --- certificates ---------------------------------------------------------------------------


def test_real_certificates_equal() -> None:
    real = _real()
    if not real:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    for cert in real.values():
        assert assert_cert_parity(cert)[0] == "ok"


def test_generated_certificates_equal() -> None:
    certs = _generated()
    assert certs, "no PCK certificate in vectors/intel"
    kinds = {assert_cert_parity(c)[0] for c in certs.values()}
    assert "ok" in kinds


@pytest.mark.parametrize("name", sorted(CASES))
def test_built_certificates_equal(name: str) -> None:
    for spec in (sgx_pck(), tdx_pck()):
        spec = replace(spec, extension=replace(SgxExtension(), raw=CASES[name]))
        assert_cert_parity(PKI.pck_cert(spec))


def test_certificate_without_the_extension_equal() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Intel SGX PCK Certificate")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_processor_cert().not_valid_before_utc)
        .not_valid_after(_processor_cert().not_valid_after_utc)
        .sign(key, hashes.SHA256())
    )
    res = assert_cert_parity(cert)
    assert res[0] == "error" and res[2] is Reason.CERTIFICATE_PROFILE_INVALID


# --- extension values -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_equal(name: str) -> None:
    for cert in (_processor_cert(), _platform_cert()):
        py = outcome(CASES[name], "python", cert)
        assert outcome(CASES[name], "native", cert) == py


def test_tolerated_encodings_are_accepted() -> None:
    """What the Python decoder tolerates, the C walk tolerates too (and nothing more)."""
    for name in ("processor", "platform", "platform_empty_config", "nonminimal_oids"):
        assert assert_parity(CASES[name])[0] == "ok", name
    assert assert_parity(CASES["leading_zero_integers"])[1].sgx_type == 2
    info = assert_parity(CASES["boolean_not_ff"])[1]
    assert (info.dynamic_platform, info.cached_keys, info.smt_enabled) == (None, True, None)
    assert assert_parity(CASES["many_unknown"])[0] == "error"


def test_every_error_code_is_reached() -> None:
    """CASES reach each C error code, so the message of each one is compared."""
    codes = {native_code(raw) for raw in CASES.values()}
    header = (ROOT / "csrc" / "cv_ffi.h").read_text(encoding="utf-8")
    assert codes == {int(v) for v in re.findall(r"CV_SGX_E_\w+ = (\d+)", header)}


def test_every_truncation_equal() -> None:
    for raw in (CASES["processor"], CASES["platform"]):
        for cut in range(len(raw)):
            assert assert_parity(raw[:cut])[0] == "error", cut


@pytest.mark.parametrize("name", ["processor", "platform"])
def test_every_byte_changed_equal(name: str) -> None:
    raw = CASES[name]
    for off in range(len(raw)):
        for op in ("xor_ff", "xor_01", "x80", "insert", "delete"):
            q = bytearray(raw)
            if op == "xor_ff":
                q[off] ^= 0xFF
            elif op == "xor_01":
                q[off] ^= 0x01
            elif op == "x80":
                q[off] = 0x80
            elif op == "insert":
                q.insert(off, 0x80)
            else:
                del q[off]
            assert_parity(bytes(q))


def test_real_values_every_byte_flipped_equal() -> None:
    values = [v for k, v in _seed_values().items() if k.startswith("cert-")]
    assert values
    for raw in values[:6]:
        for off in range(len(raw)):
            q = bytearray(raw)
            q[off] ^= 0xFF
            assert_parity(bytes(q))


# --- Hypothesis -------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_mutated_values_equal(data: st.DataObject) -> None:
    seeds = _seed_values()
    q = bytearray(seeds[data.draw(st.sampled_from(sorted(seeds)))])
    for _ in range(data.draw(st.integers(1, 4))):
        off = data.draw(st.integers(0, max(len(q) - 1, 0)))
        op = data.draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if op == "set" and q:
            q[off] = data.draw(st.integers(0, 255))
        elif op == "insert":
            q.insert(off, data.draw(st.integers(0, 255)))
        elif op == "delete" and q:
            del q[off]
        else:
            del q[off:]
    assert_parity(bytes(q))


_KNOWN_OIDS = [f"{B}.{i}" for i in range(0, 9)] + [f"{B}.2.{i}" for i in (1, 16, 17, 18, 19)]
_KNOWN_OIDS += [f"{B}.7.{i}" for i in range(0, 5)] + ["1.2.3", "2.5.29.14", B]


def _oids() -> st.SearchStrategy[bytes]:
    plain = st.sampled_from(_KNOWN_OIDS).map(der_oid)
    padded = st.tuples(st.sampled_from(_KNOWN_OIDS), st.integers(0, 6)).map(
        lambda t: _nonminimal(t[0], t[1])
    )
    raw = st.binary(max_size=12).map(_oid_bytes)
    return st.one_of(plain, plain, padded, raw)


def _scalars() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.integers(-300, 70000).map(der_int),
        st.integers(-3, 5).map(der_enum),
        st.sampled_from([2, 6, 15, 16, 17]).map(lambda n: der_octets(bytes(n))),
        st.booleans().map(der_bool),
        st.binary(max_size=3).map(lambda b: tlv(0x01, b)),
        st.binary(max_size=4).map(lambda b: tlv(0x02, b)),
        st.binary(max_size=4).map(lambda b: tlv(0x0A, b)),
    )


def _values() -> st.SearchStrategy[bytes]:
    pairs = st.lists(st.tuples(_oids(), _scalars()).map(lambda t: der_seq(*t)), max_size=20)
    return st.one_of(_scalars(), pairs.map(lambda items: der_seq(*items)))


@SETTINGS
@given(
    entries=st.lists(st.tuples(_oids(), _values()), max_size=9),
    base=st.sampled_from(["processor", "platform"]),
    keep=st.integers(0, 7),
)
def test_generated_structures_equal(
    entries: list[tuple[bytes, bytes]], base: str, keep: int
) -> None:
    """Random SEQUENCE OF {OID, value} near the profile: known OIDs (also non-minimal),
    neighbours, garbage; values of every type the profile uses."""
    kept = [tlv(t.tag, t.value) for t in der.parse_tlv(CASES[base])[0].children()[:keep]]
    assert_parity(der_seq(*kept, *(der_seq(o, v) for o, v in entries)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_equal(raw: bytes) -> None:
    assert_parity(raw)
    assert_parity(tlv(0x30, raw))


# --- the wrapper itself -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=20).filter(lambda b: not b[-1] & 0x80))
def test_oid_text_is_decode_oid(value: bytes) -> None:
    assert _native_sgxext.oid_text(value) == der.decode_oid(der.TLV(0x06, value))


def test_parse_pck_extension_routes_to_the_selected_backend() -> None:
    spy = mock.Mock(wraps=_native_sgxext.parse_sgx_extension)
    with mock.patch.object(_native_sgxext, "parse_sgx_extension", spy):
        with selected("python"):
            sgxext.parse_pck_extension(_platform_cert())
        assert spy.call_count == 0
        with selected("native"):
            sgxext.parse_pck_extension(_platform_cert())
        assert spy.call_count == 1
    assert backend_mod.backend_for("sgx-extension") == backend_mod.BACKEND


def test_facts_are_bytes_and_ints() -> None:
    with selected("native"):
        info = sgxext.parse_pck_extension(_platform_cert())
    assert type(info.ppid) is bytes and type(info.fmspc) is bytes
    assert type(info.platform_instance_id) is bytes and info.ca == "platform"
    assert all(type(c) is int for c in info.tcb_components) and len(info.tcb_components) == 16


def _filled(raw: bytes) -> Any:
    ffi, lib = _native_sgxext.ffi, _native_sgxext.lib
    out = ffi.new("cv_sgxext_fields *")
    lib.cv_sgxext_parse(ffi.from_buffer("uint8_t[]", raw), len(raw), out)
    return out


def test_unknown_status_fails_closed() -> None:
    out = _filled(CASES["platform"])
    out.status = 99
    with pytest.raises(ValueError, match="status 99"):
        _native_sgxext.facts_from_struct(out, CASES["platform"])
    out.status, out.err_code = _native_sgxext.lib.CV_ERR_MALFORMED, 77
    with pytest.raises(ValueError, match="error 77"):
        _native_sgxext.facts_from_struct(out, CASES["platform"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("fmspc_offset", 10**6), ("entries", 6), ("smt_enabled", 3), ("ppid_offset", 2**63)],
)
def test_table_outside_the_input_fails_closed(field: str, value: int) -> None:
    raw = CASES["platform"]
    out = _filled(raw)
    assert _native_sgxext.facts_from_struct(out, raw)[7] == bytes(16)
    setattr(out, field, value)
    with pytest.raises(ValueError, match="outside the input"):
        _native_sgxext.facts_from_struct(out, raw)


def test_struct_layout_mismatch_is_an_import_error() -> None:
    _native_sgxext._check_layout()
    with (
        mock.patch.object(_native_sgxext, "_LAYOUT", struct.Struct("=ii" + "Q" * 5)),
        pytest.raises(ImportError),
    ):
        _native_sgxext._check_layout()


def test_entry_oids() -> None:
    ffi, lib = _native_sgxext.ffi, _native_sgxext.lib
    raw = CASES["platform"]
    src = ffi.from_buffer("uint8_t[]", raw)
    assert lib.cv_sgxext_entry_oids(src, len(raw), ffi.NULL, 0) == 7
    assert lib.cv_sgxext_entry_oids(ffi.NULL, 0, ffi.NULL, 0) == -1
    for bad in (CASES["entry_of_three"], CASES["oid_truncated"], CASES["two_sequences"], b""):
        assert (
            lib.cv_sgxext_entry_oids(ffi.from_buffer("uint8_t[]", bad), len(bad), ffi.NULL, 0) == -1
        )
    assert _native_sgxext._entry_oids(raw) == [f"{B}.{i}" for i in range(1, 8)]
    with pytest.raises(ValueError):
        _native_sgxext._entry_oids(b"\x30\x01")


def test_null_arguments() -> None:
    ffi, lib = _native_sgxext.ffi, _native_sgxext.lib
    out = ffi.new("cv_sgxext_fields *")
    assert lib.cv_sgxext_parse(ffi.NULL, 5, out) == lib.CV_ERR_ARGUMENT
    assert lib.cv_sgxext_parse(ffi.NULL, 0, out) == lib.CV_ERR_MALFORMED
    assert out.err_code == lib.CV_SGX_E_TLV_HEADER_TRUNCATED
    assert (
        lib.cv_sgxext_parse(ffi.from_buffer("uint8_t[]", b"x"), 1, ffi.NULL) == lib.CV_ERR_ARGUMENT
    )
