"""The signature checks give the same answers on both backends (docs/native.md, "Signatures").

``_native.verify_in_c`` (libcrypto through csrc/cv_crypto.c, whatever the point size) and
``ecdsa_verify_python`` (``cryptography``) must return the same boolean for every input:
the real signatures of the shared vectors (DCAP quote and QE report signatures, SNP reports
with their VCEK/VLEK, CCA platform and realm tokens), the project's generated vectors,
fresh keys on P-256/P-384/P-521, and Hypothesis-fuzzed points, signatures and messages.
``parse_and_verify_quote`` must give the same field table (or error) and verdict on both
backends for every quote and its mutations.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify._backend as backend_mod
from cocoverify import CocoverifyError
from cocoverify._backend import native_error, parse_and_verify_quote_python
from cocoverify._backend.crypto import ecdsa_verify_python
from cocoverify._core.text import decode_text
from cocoverify.tee.cca.collateral import key_from_jwk
from cocoverify.tee.cca.parse import parse_token
from cocoverify.tee.intel.parse import parse_quote_fields
from cocoverify_testing.intel import FakeIntelPKI, QuoteBuilder

from _shared import PROJECT_VECTORS, ROOT, SHARED_VECTORS, shared_manifest

if native_error() is not None:
    if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
        raise RuntimeError(f"COCOVERIFY_REQUIRE_NATIVE is set: {native_error()}")
    pytest.skip(f"native backend unavailable: {native_error()}", allow_module_level=True)

from cocoverify._backend import _native

# real AMD VCEKs carry serial number 0 (KDS specification); cryptography warns on each load
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number:UserWarning")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
parse_python = functools.partial(parse_quote_fields, backend="python")

#: (curve, hash, coordinate size, field prime p, group order n) per raw point size (FIPS 186-4
#: D.1.2.3-5).
CURVES: dict[int, tuple[ec.EllipticCurve, hashes.HashAlgorithm, int, int, int]] = {
    64: (
        ec.SECP256R1(),
        hashes.SHA256(),
        32,
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    96: (
        ec.SECP384R1(),
        hashes.SHA384(),
        48,
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        int(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
            "581A0DB248B0A77AECEC196ACCC52973",
            16,
        ),
    ),
    132: (
        ec.SECP521R1(),
        hashes.SHA512(),
        66,
        2**521 - 1,
        int(
            "01FF"
            + "FFFFFFFF" * 7
            + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
            16,
        ),
    ),
}

Case = tuple[str, bytes, bytes, bytes, bool]  # name, point, message, signature, little-endian


def both(point: bytes, message: bytes, signature: bytes, little_endian: bool = False) -> bool:
    """The common answer of the two implementations (fails when they differ)."""
    c = _native.verify_in_c(point, message, signature, little_endian=little_endian)
    py = ecdsa_verify_python(point, message, signature, little_endian=little_endian)
    assert c is py, (point.hex(), message[:32].hex(), signature.hex(), little_endian)
    return c


def raw_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )[1:]


def _ec_keys(blob: bytes) -> list[ec.EllipticCurvePublicKey]:
    """The EC public keys in a PEM/DER certificate (chain), PEM public key or JWK."""
    keys: list[Any] = []
    try:
        keys = [c.public_key() for c in x509.load_pem_x509_certificates(blob)]
    except ValueError:
        for load in (
            lambda b: x509.load_der_x509_certificate(b).public_key(),
            serialization.load_pem_public_key,
            serialization.load_der_public_key,
        ):
            try:
                keys = [load(blob)]
                break
            except ValueError:
                continue
    if not keys and blob.lstrip()[:1] == b"{":
        jwk = json.loads(blob)
        try:
            keys = [key_from_jwk(jwk)] if jwk.get("kty") == "EC" else []
        except ValueError:  # a test vector's deliberately bad JWK
            keys = []
    return [k for k in keys if isinstance(k, ec.EllipticCurvePublicKey)]


# --- signatures of the vectors ---------------------------------------------------------------


@cache
def _built_quotes() -> dict[str, bytes]:
    pki = FakeIntelPKI()
    builders = {
        "sgx_v3": QuoteBuilder.sgx(),
        "sgx_v5": QuoteBuilder.sgx(version=5),
        "tdx_v4": QuoteBuilder.tdx(),
        "tdx_v5_td10": QuoteBuilder.tdx(version=5, body_type=2),
        "tdx_v5_td15": QuoteBuilder.tdx(version=5, body_type=3),
        "tdx_v4_der": QuoteBuilder.tdx().der_chain(),
    }
    return {name: b.sign(pki) for name, b in builders.items()}


@cache
def _real_quotes() -> dict[str, bytes]:
    m = shared_manifest("intel")
    if m is None:
        return {}
    base = SHARED_VECTORS / "intel"
    return {
        c["id"]: decode_text((base / c["id"] / c["files"]["quote"]).read_bytes())
        for c in m["cases"]
    }


@cache
def _project_quotes() -> dict[str, bytes]:
    files = sorted((PROJECT_VECTORS / "intel" / "quotes").glob("*.bin"))
    return {f.stem: f.read_bytes() for f in files}


def _all_quotes() -> dict[str, bytes]:
    return {**_built_quotes(), **_real_quotes(), **_project_quotes()}


def _intel_cases() -> Iterator[Case]:
    for name, q in _all_quotes().items():
        try:
            f = parse_python(q)
        except CocoverifyError:
            continue
        ak, sig = f.attestation_key_offset, f.signature_offset
        yield f"{name}:quote", q[ak : ak + 64], q[: f.signed_end], q[sig : sig + 64], False
        cd = q[
            f.certification_data_offset : f.certification_data_offset + f.certification_data_size
        ]
        keys = _ec_keys(cd) if f.certification_type == 5 else []
        if keys:
            qe, qs = f.qe_report_offset, f.qe_report_signature_offset
            yield f"{name}:qe", raw_point(keys[0]), q[qe : qe + 384], q[qs : qs + 64], False


def _snp_signature(report: bytes) -> tuple[bytes, bytes]:
    """(signed bytes 0x000-0x29F, r||s little-endian 48+48) of a report (SEV-SNP ABI
    Table 23 and the ECDSA P-384 signature format of its Chapter 10)."""
    return report[:0x2A0], report[0x2A0 : 0x2A0 + 48] + report[0x2E8 : 0x2E8 + 48]


def _snp_cases() -> Iterator[Case]:
    pairs: list[tuple[str, bytes, list[bytes]]] = []
    m = shared_manifest("amd")
    for c in m["cases"] if m else []:
        files = c.get("files", {})
        if "report" not in files:
            continue
        base = SHARED_VECTORS / "amd" / c["id"]
        certs = [(base / files[k]).read_bytes() for k in ("vcek", "vlek") if k in files]
        pairs.append((c["id"], decode_text((base / files["report"]).read_bytes()), certs))
    for c in json.loads((PROJECT_VECTORS / "manifest.json").read_text())["cases"]:
        if c["platform"] == "snp" and c["evidence"].endswith(".bin"):
            certs = [(PROJECT_VECTORS / p).read_bytes() for p in c["collateral"]]
            pairs.append((c["id"], (PROJECT_VECTORS / c["evidence"]).read_bytes(), certs))
    for name, report, blobs in pairs:
        if len(report) < 0x4A0:
            continue
        message, sig = _snp_signature(report)
        for blob in blobs:
            for key in _ec_keys(blob):
                yield f"{name}:report", raw_point(key), message, sig, True


def _cca_cases() -> Iterator[Case]:
    tokens: list[tuple[str, bytes, list[bytes]]] = []
    m = shared_manifest("cca")
    for c in m["cases"] if m else []:
        files = c.get("files", {})
        if "token" in files:
            base = SHARED_VECTORS / "cca" / c["id"]
            keys = [(base / files[k]).read_bytes() for k in ("platform_key",) if k in files]
            tokens.append((c["id"], (base / files["token"]).read_bytes(), keys))
    for c in json.loads((PROJECT_VECTORS / "manifest.json").read_text())["cases"]:
        if c["platform"] == "cca":
            keys = [(PROJECT_VECTORS / p).read_bytes() for p in c["collateral"]]
            tokens.append((c["id"], (PROJECT_VECTORS / c["evidence"]).read_bytes(), keys))
    for name, data, blobs in tokens:
        try:
            token = parse_token(data)
        except CocoverifyError:
            continue
        rak = token.realm_claims.rak
        realm = token.realm
        yield f"{name}:realm", rak.x + rak.y, realm.to_be_signed(), realm.signature, False
        platform = token.platform
        for blob in blobs:
            for key in _ec_keys(blob):
                point = raw_point(key)
                yield f"{name}:platform", point, platform.to_be_signed(), platform.signature, False


@cache
def _cases() -> dict[str, list[Case]]:
    return {"intel": list(_intel_cases()), "snp": list(_snp_cases()), "cca": list(_cca_cases())}


@pytest.mark.parametrize("vendor", ["intel", "snp", "cca"])
def test_vector_signatures_equal(vendor: str) -> None:
    cases = _cases()[vendor]
    valid = 0
    for _name, point, message, sig, le in cases:
        valid += both(point, message, sig, le)
        tampered = bytes([message[0] ^ 1]) + message[1:]
        assert not both(point, tampered, sig, le)
        assert both(point, message, sig[::-1], not le) is False or sig == sig[::-1]
    assert valid >= 10, f"{vendor}: only {valid} valid signatures among {len(cases)}"
    sizes = {len(c[1]) for c in cases}
    assert {64, 96} <= sizes if vendor == "cca" else len(sizes) == 1


def test_every_real_quote_signature_verifies() -> None:
    real = _real_quotes()
    if not real:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    for name in real:
        for case in (c for c in _cases()["intel"] if c[0].startswith(f"{name}:")):
            assert both(*case[1:]), case[0]


def test_real_snp_reports_verify() -> None:
    if shared_manifest("amd") is None:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    good = {c[0] for c in _cases()["snp"] if both(*c[1:])}
    assert {"ms-genoa-v3-vcek:report", "ms-turin-v5-vcek:report"} <= good


def test_p521_vector_is_covered() -> None:
    assert any(len(c[1]) == 132 and both(*c[1:]) for c in _cases()["cca"])


# --- generated keys -------------------------------------------------------------------------


@cache
def _keys() -> dict[int, list[ec.EllipticCurvePrivateKey]]:
    return {size: [ec.generate_private_key(c[0]) for _ in range(3)] for size, c in CURVES.items()}


def _sign(key: ec.EllipticCurvePrivateKey, message: bytes, *, le: bool = False) -> bytes:
    size = len(raw_point(key.public_key()))
    _, h, half, _, _ = CURVES[size]
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(h)))
    order: Literal["little", "big"] = "little" if le else "big"
    return r.to_bytes(half, order) + s.to_bytes(half, order)


@pytest.mark.parametrize("size", sorted(CURVES))
@pytest.mark.parametrize("le", [False, True])
def test_generated_keys_equal(size: int, le: bool) -> None:
    n = CURVES[size][4]
    half = CURVES[size][2]
    order: Literal["little", "big"] = "little" if le else "big"
    for key in _keys()[size]:
        point = raw_point(key.public_key())
        for message in (b"", b"m", os.urandom(1000)):
            sig = _sign(key, message, le=le)
            assert both(point, message, sig, le)
            assert not both(point, message + b"x", sig, le)
            assert not both(point, message, sig, not le)
            r = int.from_bytes(sig[:half], order)
            s = int.from_bytes(sig[half:], order)
            # (r, n - s) is the other valid signature; this also checks n
            assert both(point, message, sig[:half] + (n - s).to_bytes(half, order), le)
            for bad_r, bad_s in ((0, s), (r, 0), (r + n, s), (r, s + n), (n, s), (r, n)):
                if bad_r < 2 ** (8 * half) and bad_s < 2 ** (8 * half):
                    bad = bad_r.to_bytes(half, order) + bad_s.to_bytes(half, order)
                    assert not both(point, message, bad, le)


@pytest.mark.parametrize("size", sorted(CURVES))
def test_off_curve_and_out_of_range_points_equal(size: int) -> None:
    p, half = CURVES[size][3], CURVES[size][2]
    key = _keys()[size][0]
    point = raw_point(key.public_key())
    sig = _sign(key, b"m")
    x, y = int.from_bytes(point[:half], "big"), int.from_bytes(point[half:], "big")
    # -P = (x, p - y) is on the curve (this checks p): a key, but not this signature's
    negated = point[:half] + (p - y).to_bytes(half, "big")
    assert _native._key(negated) != _native.ffi.NULL
    assert not both(negated, b"m", sig)
    bad_points = [
        bytes(size),  # the point at infinity has no affine encoding
        point[:half] + ((y + 1) % p).to_bytes(half, "big"),  # off the curve
        (x + p).to_bytes(half, "big") + point[half:] if x + p < 2 ** (8 * half) else b"",
        point[:half] + (y + p).to_bytes(half, "big") if y + p < 2 ** (8 * half) else b"",
        p.to_bytes(half, "big") + point[half:],
        b"\xff" * size,
        point[:-1],
        point + b"\x00",
        b"\x04" + point,
    ]
    for bad in bad_points:
        assert not both(bad, b"m", sig + (b"\x00" if len(bad) > size else b"")[: len(bad) - size])
        assert not both(bad, b"m", sig)


# --- Hypothesis -----------------------------------------------------------------------------


def _mutated_signature(data: st.DataObject, sig: bytes, size: int, le: bool) -> bytes:
    half, n = CURVES[size][2], CURVES[size][4]
    order: Literal["little", "big"] = "little" if le else "big"
    kind = data.draw(st.sampled_from(["bits", "bytes", "length", "range", "swap", "random"]))
    if kind == "bits":
        b = bytearray(sig)
        for i in data.draw(st.lists(st.integers(0, 8 * len(b) - 1), min_size=1, max_size=4)):
            b[i // 8] ^= 1 << (i % 8)
        return bytes(b)
    if kind == "bytes":
        b = bytearray(sig)
        b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        return bytes(b)
    if kind == "length":
        cut = data.draw(st.integers(0, len(sig) + 3))
        return (sig + b"\x01\x02\x03")[:cut]
    if kind == "range":
        values = st.sampled_from([0, 1, n - 1, n, n + 1, 2 ** (8 * half) - 1])
        r = data.draw(st.one_of(values, st.just(int.from_bytes(sig[:half], order))))
        s = data.draw(st.one_of(values, st.just(int.from_bytes(sig[half:], order))))
        return r.to_bytes(half, order) + s.to_bytes(half, order)
    if kind == "swap":
        return sig[half:] + sig[:half]
    return data.draw(st.binary(min_size=len(sig), max_size=len(sig)))


@SETTINGS
@given(size=st.sampled_from(sorted(CURVES)), le=st.booleans(), data=st.data())
def test_fuzzed_signatures_equal(size: int, le: bool, data: st.DataObject) -> None:
    key = _keys()[size][data.draw(st.integers(0, 2))]
    message = data.draw(st.binary(max_size=300))
    sig = _sign(key, message, le=le)
    both(raw_point(key.public_key()), message, _mutated_signature(data, sig, size, le), le)


@SETTINGS
@given(size=st.sampled_from(sorted(CURVES)), data=st.data())
def test_fuzzed_points_equal(size: int, data: st.DataObject) -> None:
    key = _keys()[size][0]
    point = bytearray(raw_point(key.public_key()))
    kind = data.draw(st.sampled_from(["bits", "random", "length", "coordinate"]))
    if kind == "bits":
        for i in data.draw(st.lists(st.integers(0, 8 * size - 1), min_size=1, max_size=3)):
            point[i // 8] ^= 1 << (i % 8)
    elif kind == "random":
        point = bytearray(data.draw(st.binary(min_size=size, max_size=size)))
    elif kind == "length":
        point = bytearray(
            data.draw(st.sampled_from([b"", bytes(point[:-1]), bytes(point) + b"\0"]))
        )
        point += data.draw(st.binary(max_size=70))
    else:
        half, p = CURVES[size][2], CURVES[size][3]
        at = data.draw(st.sampled_from([0, half]))
        value = data.draw(st.sampled_from([0, 1, p - 1, p, p + 1, 2 ** (8 * half) - 1]))
        point[at : at + half] = value.to_bytes(half, "big")
    both(bytes(point), b"m", _sign(key, b"m"))


@settings(max_examples=200, deadline=None)
@given(point=st.binary(max_size=140), message=st.binary(max_size=64), sig=st.binary(max_size=140))
def test_arbitrary_inputs_equal(point: bytes, message: bytes, sig: bytes) -> None:
    both(point, message, sig)
    both(point, message, sig, True)


# --- parse_and_verify_quote -----------------------------------------------------------------


def pv_outcome(data: bytes, which: str) -> tuple[Any, ...]:
    try:
        if which == "native":
            fields, ok = _native.parse_and_verify_quote(data)
        else:
            fields, ok = parse_and_verify_quote_python(data, parse_python)
        return ("ok", fields, ok)
    except CocoverifyError as exc:
        field, offset = getattr(exc, "field", None), getattr(exc, "offset", None)
        return ("error", type(exc), exc.reason, field, offset, str(exc))


def assert_pv_parity(data: bytes) -> tuple[Any, ...]:
    py = pv_outcome(data, "python")
    assert pv_outcome(data, "native") == py, data[:64].hex()
    return py


def test_every_quote_parses_and_verifies_equal() -> None:
    verdicts = []
    for name, q in _all_quotes().items():
        res = assert_pv_parity(q)
        if res[0] == "ok":
            verdicts.append(res[2])
            f = res[1]
            ak, sig = f.attestation_key_offset, f.signature_offset
            assert res[2] is both(q[ak : ak + 64], q[: f.signed_end], q[sig : sig + 64]), name
            assert pv_outcome(bytearray(q), "native") == res  # any buffer
    assert True in verdicts and False in verdicts
    for name in _real_quotes():
        assert assert_pv_parity(_real_quotes()[name])[2] is True, name


@SETTINGS
@given(data=st.data())
def test_mutated_quotes_parse_and_verify_equal(data: st.DataObject) -> None:
    quotes = _all_quotes()
    q = bytearray(quotes[data.draw(st.sampled_from(sorted(quotes)))])
    region = data.draw(st.sampled_from(["anywhere", "signed", "signature"]))
    lo, hi = {"anywhere": (0, len(q)), "signed": (0, 700), "signature": (400, 900)}[region]
    lo, hi = min(lo, len(q) - 1), max(1, min(hi, len(q)))
    for off, val in data.draw(
        st.lists(st.tuples(st.integers(lo, hi - 1), st.integers(0, 255)), max_size=4)
    ):
        q[off] = val
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(q))))
    assert_pv_parity(bytes(q[:cut] if cut is not None else q))


def test_another_attestation_key_is_refused_equally() -> None:
    a = _built_quotes()["sgx_v3"]
    fa = parse_python(a)
    q = bytearray(a)
    q[fa.attestation_key_offset : fa.attestation_key_offset + 64] = _other_point()
    assert assert_pv_parity(bytes(q))[2] is False


@cache
def _other_point() -> bytes:
    return raw_point(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_a_wrong_cached_key_never_changes_the_verdict() -> None:
    """C compares the cached key's point with the parsed one: a key for another point (a
    stale or wrong hint) is ignored and a fresh key is handed back."""
    lib, ffi = _native.lib, _native.ffi
    a = _built_quotes()["sgx_v3"]
    wrong = _native._key(_other_point())
    assert wrong != ffi.NULL
    tampered = bytearray(a)
    tampered[100] ^= 1  # SGX report body attributes: signed
    for data, expect in ((a, True), (bytes(tampered), False)):
        out = ffi.new("cv_quote_fields *")
        verdict = ffi.new("int *")
        made = ffi.new("cv_ec_key **")
        lib.cv_dcap_parse_verify(data, len(data), wrong, out, verdict, made)
        if out.status == lib.CV_OK:
            assert (verdict[0] == lib.CV_SIG_OK) is expect
            assert made[0] != ffi.NULL
            lib.cv_ec_key_free(made[0])
    # the right key is used as is: nothing new is made
    fa = parse_python(a)
    right = _native._key(a[fa.attestation_key_offset : fa.attestation_key_offset + 64])
    out, verdict, made = ffi.new("cv_quote_fields *"), ffi.new("int *"), ffi.new("cv_ec_key **")
    lib.cv_dcap_parse_verify(a, len(a), right, out, verdict, made)
    assert verdict[0] == lib.CV_SIG_OK and made[0] == ffi.NULL
    # and tampering with the signed region is caught with the cached key too
    lib.cv_dcap_parse_verify(bytes(tampered), len(tampered), right, out, verdict, made)
    assert out.status == lib.CV_OK and verdict[0] == lib.CV_SIG_BAD


def test_c_entry_points_refuse_null_and_bad_arguments() -> None:
    lib, ffi = _native.lib, _native.ffi
    key = _keys()[64][0]
    point = raw_point(key.public_key())
    sig = _sign(key, b"m")
    assert lib.cv_ec_key_new(ffi.NULL, 64) == ffi.NULL
    assert lib.cv_ec_key_new(point, 63) == ffi.NULL
    assert lib.cv_ecdsa_verify_key(ffi.NULL, b"m", 1, sig, 64, 0) == lib.CV_SIG_BAD
    k = _native._key(point)
    assert lib.cv_ecdsa_verify_key(k, b"m", 1, sig, 64, 0) == lib.CV_SIG_OK
    assert lib.cv_ecdsa_verify_key(k, ffi.NULL, 1, sig, 64, 0) == lib.CV_SIG_BAD
    assert lib.cv_ecdsa_verify_key(k, b"m", 1, ffi.NULL, 64, 0) == lib.CV_SIG_BAD
    assert lib.cv_ecdsa_verify(point, 64, b"m", 1, sig, 64, 0) == lib.CV_SIG_OK
    lib.cv_ec_key_free(ffi.NULL)
    out = ffi.new("cv_quote_fields *")
    q = _built_quotes()["sgx_v3"]
    assert lib.cv_dcap_parse_verify(q, len(q), ffi.NULL, out, ffi.NULL, ffi.NULL) == (
        lib.CV_ERR_ARGUMENT
    )
    verdict = ffi.new("int *")
    assert lib.cv_dcap_parse_verify(q, len(q), ffi.NULL, ffi.NULL, verdict, ffi.NULL) == (
        lib.CV_ERR_ARGUMENT
    )
    assert verdict[0] == lib.CV_SIG_BAD
    assert lib.cv_dcap_parse_verify(q, len(q), ffi.NULL, out, verdict, ffi.NULL) == lib.CV_OK
    assert verdict[0] == lib.CV_SIG_OK


# --- the key cache --------------------------------------------------------------------------


def test_key_cache_is_bounded_and_keyed_by_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_native, "_keys", {})
    monkeypatch.setattr(_native, "KEY_CACHE_SIZE", 4)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(10)]
    for round_ in range(2):
        for key in keys:
            point = raw_point(key.public_key())
            sig = _sign(key, b"m%d" % round_)
            assert _native.verify_in_c(point, b"m%d" % round_, sig)
            assert not _native.verify_in_c(point, b"other", sig)
            assert len(_native._keys) <= 4
    assert set(_native._keys) == {raw_point(k.public_key()) for k in keys[-4:]}
    # a refused point is remembered as such (ffi.NULL), still within the bound
    assert not _native.verify_in_c(bytes(64), b"m", bytes(64))
    assert _native._keys[bytes(64)] == _native.ffi.NULL and len(_native._keys) == 4


def test_a_key_with_a_table_outlives_keys_that_come_and_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eviction skips a key holding a P-256 table (insertion order otherwise): a platform's
    PCK CA key keeps its table while new platforms' keys pass through the cache."""
    monkeypatch.setattr(_native, "_keys", {})
    monkeypatch.setattr(_native, "KEY_CACHE_SIZE", 4)
    hot = ec.generate_private_key(ec.SECP256R1())
    hot_point = raw_point(hot.public_key())
    assert _native.verify_in_c(hot_point, b"m", _sign(hot, b"m"))
    held = _native._keys[hot_point]
    if not _native.lib.cv_ec_key_precompute(held):
        pytest.skip("this libcrypto build has no P-256 tables (docs/native.md)")
    others = [ec.generate_private_key(ec.SECP256R1()) for _ in range(9)]
    for key in others:
        point = raw_point(key.public_key())
        assert _native.verify_in_c(point, b"x", _sign(key, b"x"))
        assert len(_native._keys) <= 4
        assert _native._keys[hot_point] is held
    # the others left in insertion order: the newest three stay beside the hot key
    assert set(_native._keys) == {hot_point} | {raw_point(k.public_key()) for k in others[-3:]}
    assert _native.verify_in_c(hot_point, b"n", _sign(hot, b"n"))
    assert not _native.verify_in_c(hot_point, b"n", _sign(hot, b"other"))
    # a cache of keys that all hold tables still drops one when full
    monkeypatch.setattr(_native, "KEY_CACHE_SIZE", 1)
    _native._keys.clear()
    _native._keys[hot_point] = held
    second = others[0]
    second_point = raw_point(second.public_key())
    assert _native.verify_in_c(second_point, b"y", _sign(second, b"y"))
    assert list(_native._keys) == [second_point]


def test_quote_keys_are_cached_by_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_native, "_keys", {})
    q = _built_quotes()["tdx_v5_td15"]
    f, ok = _native.parse_and_verify_quote(q)
    point = q[f.attestation_key_offset : f.attestation_key_offset + 64]
    assert ok and _native._attestation_key_at(q) == f.attestation_key_offset
    assert list(_native._keys) == [point]
    cached = _native._keys[point]
    assert _native.parse_and_verify_quote(q) == (f, True)
    assert _native._keys[point] is cached


def test_threads_share_keys_and_agree() -> None:
    """cffi releases the GIL around each C call: four threads verifying with shared cached
    keys get the answers one thread gets."""
    work: list[tuple[Case, bool]] = []
    for case in [c for cases in _cases().values() for c in cases][:60]:
        work.append((case, ecdsa_verify_python(*case[1:4], little_endian=case[4])))
    quotes = list(_all_quotes().values())[:40]
    expected_q = [pv_outcome(q, "python") for q in quotes]
    errors: list[str] = []

    def run() -> None:
        for _ in range(3):
            for (name, point, message, sig, le), want in work:
                if _native.verify_in_c(point, message, sig, little_endian=le) is not want:
                    errors.append(name)
            for q, want_q in zip(quotes, expected_q, strict=True):
                if pv_outcome(q, "native") != want_q:
                    errors.append(q[:8].hex())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- dispatch -------------------------------------------------------------------------------


def test_ecdsa_verify_dispatches_on_the_selected_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Spy:
        C_POINT_SIZES = _native.C_POINT_SIZES

        @staticmethod
        def ecdsa_verify(*args: Any, **kw: Any) -> bool:
            calls.append("native")
            return True

        @staticmethod
        def parse_and_verify_quote(data: bytes) -> tuple[Any, bool]:
            calls.append("native-quote")
            return None, True

    monkeypatch.setattr(backend_mod, "_NATIVE", Spy)
    assert backend_mod.ecdsa_verify(b"", b"", b"") is True
    assert backend_mod.parse_and_verify_quote(b"", parse_python) == (None, True)
    assert calls == ["native", "native-quote"]
    monkeypatch.setattr(backend_mod, "_NATIVE", None)
    assert backend_mod.ecdsa_verify(b"", b"", b"") is False
    q = _built_quotes()["sgx_v3"]
    assert backend_mod.parse_and_verify_quote(q, parse_python) == (parse_python(q), True)
    assert calls == ["native", "native-quote"]


def test_native_ecdsa_verify_uses_c_for_its_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(_native, "verify_in_c", lambda p, *a, **k: seen.append(("c", len(p))))
    monkeypatch.setattr(
        _native, "ecdsa_verify_python", lambda p, *a, **k: seen.append(("py", len(p)))
    )
    for size in (64, 96, 132, 10):
        _native.ecdsa_verify(bytes(size), b"", bytes(size))
    assert [s for s in seen if s[0] == "c"] == [
        ("c", n) for n in (64, 96, 132) if n in _native.C_POINT_SIZES
    ]
    assert ("py", 10) in seen
    assert 64 in _native.C_POINT_SIZES and 132 in _native.C_POINT_SIZES
    modern = _native.lib.cv_crypto_version_num() >= _native.P384_MIN_LIBCRYPTO
    assert (96 in _native.C_POINT_SIZES) is modern


def test_selected_backend_in_a_fresh_process() -> None:
    """COCOVERIFY_BACKEND picks ecdsa_verify's implementation; ``native`` without the
    extension is a ConfigurationError naming the variable and the import error."""
    code = (
        "import cocoverify, cocoverify._backend as b;"
        "print(cocoverify.backend(), b._NATIVE is not None, b.describe())"
    )

    def run(env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", prelude + code],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    res = run({"COCOVERIFY_BACKEND": "python"})
    assert res.returncode == 0 and res.stdout.startswith("python False python backend, "), res
    res = run({"COCOVERIFY_BACKEND": "native"})
    assert res.returncode == 0 and res.stdout.startswith("native True native backend, OpenSSL ")
    missing = "import sys; sys.modules['cocoverify._native'] = None;"
    res = run({"COCOVERIFY_BACKEND": "native"}, missing)
    assert res.returncode != 0
    assert "ConfigurationError" in res.stderr and "COCOVERIFY_BACKEND=native" in res.stderr
    assert "cocoverify._native" in res.stderr
    res = run({"COCOVERIFY_BACKEND": "auto"}, missing)
    assert res.returncode == 0 and res.stdout.startswith("python False"), res


def test_version_names_the_backend_and_libcrypto() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "cocoverify", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0
    assert f"({backend_mod.backend()} backend, " in res.stdout
    assert backend_mod.crypto_version() in res.stdout


def test_docs_name_the_cache_size() -> None:
    text = (ROOT / "docs" / "native.md").read_text(encoding="utf-8")
    assert f"{_native.KEY_CACHE_SIZE} keys" in text
    assert Path(ROOT / "csrc" / "cv_crypto.c").is_file()


# --- P-256 keys with a table of multiples (csrc/cv_crypto.c verify_fast) --------------------


def _free_tables() -> None:
    with _native._keys_lock:
        _native._keys.clear()
    gc.collect()


@cache
def _table_keys() -> list[ec.EllipticCurvePrivateKey]:
    """P-256 keys whose cached native key has its table (``cv_ec_key_precompute``); the key
    cache is emptied first, so that earlier tests' keys free their tables (16 at most)."""
    _free_tables()
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    for key in keys:
        assert _native.lib.cv_ec_key_precompute(_native._key(raw_point(key.public_key()))) == 1
    return keys


@pytest.mark.parametrize("le", [False, True])
def test_keys_with_a_table_equal(le: bool) -> None:
    """The checks of ``test_generated_keys_equal`` through keys with a table: valid, the
    other valid s, every out-of-range r and s, another message, the other byte order."""
    n, half = CURVES[64][4], 32
    order: Literal["little", "big"] = "little" if le else "big"
    for key in _table_keys():
        point = raw_point(key.public_key())
        assert _native.lib.cv_ec_key_precomputed(_native._key(point)) == 1
        for message in (b"", b"m", os.urandom(1000)):
            sig = _sign(key, message, le=le)
            assert both(point, message, sig, le)
            assert not both(point, message + b"x", sig, le)
            assert not both(point, message, sig, not le)
            r, s = int.from_bytes(sig[:half], order), int.from_bytes(sig[half:], order)
            assert both(point, message, sig[:half] + (n - s).to_bytes(half, order), le)
            for bad_r, bad_s in ((0, s), (r, 0), (n, s), (r, n), (r + n, s), (r, s + n)):
                if bad_r < 2**256 and bad_s < 2**256:
                    bad = bad_r.to_bytes(half, order) + bad_s.to_bytes(half, order)
                    assert not both(point, message, bad, le)
            # another key's valid signature
            other = _sign(
                _table_keys()[0] if key is not _table_keys()[0] else _keys()[64][0], message, le=le
            )
            assert not both(point, message, other, le)


@SETTINGS
@given(le=st.booleans(), data=st.data())
def test_fuzzed_signatures_with_a_table_equal(le: bool, data: st.DataObject) -> None:
    key = _table_keys()[data.draw(st.integers(0, 2))]
    message = data.draw(st.binary(max_size=300))
    sig = _sign(key, message, le=le)
    both(raw_point(key.public_key()), message, _mutated_signature(data, sig, 64, le), le)


def test_real_quotes_verify_equal_with_tables() -> None:
    """Every project quote, verified again after its attestation key got its table."""
    quotes = sorted((PROJECT_VECTORS / "intel" / "quotes").glob("*.bin"))
    assert quotes
    for path in quotes:
        data = path.read_bytes()
        before = pv_outcome(data, "native")
        if before[0] != "ok":
            continue
        f = before[1]
        point = data[f.attestation_key_offset : f.attestation_key_offset + 64]
        key = _native._key(point)
        if key != _native.ffi.NULL:
            _native.lib.cv_ec_key_precompute(key)
        assert pv_outcome(data, "native") == before == pv_outcome(data, "python"), path.name


def test_a_key_gets_its_table_after_32_verifies_and_tables_are_bounded() -> None:
    lib, ffi = _native.lib, _native.ffi
    key = ec.generate_private_key(ec.SECP256R1())
    point = raw_point(key.public_key())
    sig = _sign(key, b"m")
    own = ffi.gc(lib.cv_ec_key_new(point, 64), lib.cv_ec_key_free)
    _free_tables()
    for i in range(260):
        assert lib.cv_ec_key_precomputed(own) == (1 if i >= 256 else 0)
        assert lib.cv_ecdsa_verify_key(own, b"m", 1, sig, 64, 0) == lib.CV_SIG_OK
    del own
    _free_tables()
    before = lib.cv_ec_tables()
    made = [lib.cv_ec_key_new(raw_point(k.public_key()), 64) for k in _keys()[64] * 7]
    try:
        got = [lib.cv_ec_key_precompute(k) for k in made]
        assert lib.cv_ec_tables() == max(16, before)
        assert sum(got) == max(0, 16 - before)
    finally:
        for k in made:
            lib.cv_ec_key_free(k)
    assert lib.cv_ec_tables() == before
    # other curves never get one
    p384 = lib.cv_ec_key_new(raw_point(_keys()[96][0].public_key()), 96)
    try:
        assert lib.cv_ec_key_precompute(p384) == 0
    finally:
        lib.cv_ec_key_free(p384)
