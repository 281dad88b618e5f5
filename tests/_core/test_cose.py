"""COSE_Sign1 structure and ES256/384/512 signatures (cocoverify._core.cose)."""

from __future__ import annotations

import dataclasses
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes

from cocoverify import EvidenceError, Reason, SignatureInvalid, UnsupportedEvidence
from cocoverify._core.cose import CoseSign1, parse_sign1, sign1_verifies, verify_sign1
from cocoverify_testing.pki import ec_key, sign_ecdsa_raw


def _reason(fn: Any, *args: Any) -> tuple[Reason, str | None]:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason, getattr(err.value, "field", None)


def _sign1(body: Any, tag: int = 18) -> bytes:
    return bytes(cbor2.dumps(cbor2.CBORTag(tag, body)))


PROT = cbor2.dumps({1: -35})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([PROT, {}, b"\xa0"], "platform.cose"),
        ([PROT, {}, None, b"s"], "platform.payload"),  # detached
        ([PROT, {}, "text", b"s"], "platform.payload"),
        ([PROT, {}, b"\xa0", None], "platform.signature"),
        ([PROT, [], b"\xa0", b"s"], "platform.unprotected"),
        ([PROT, {4: "kid"}, b"\xa0", b"s"], "platform.kid"),
        ([cbor2.dumps([1]), {}, b"\xa0", b"s"], "platform.protected"),
        ([{1: -35}, {}, b"\xa0", b"s"], "platform.protected"),
    ],
)
def test_sign1_shapes(body: Any, field: str) -> None:
    assert _reason(parse_sign1, _sign1(body), "platform") == (Reason.MALFORMED, field)


def test_sign1_wrong_tag_is_rejected_by_the_scanner() -> None:
    assert _reason(parse_sign1, _sign1([PROT, {}, b"\xa0", b"s"], 17), "realm")[0] is (
        Reason.MALFORMED
    )


def test_sign1_alg_and_kid() -> None:
    s = parse_sign1(_sign1([PROT, {4: b"k1"}, b"\xa0", b"sig"]), "realm")
    assert (s.alg, s.alg_name, s.kid) == (-35, "ES384", b"k1")
    with pytest.raises(UnsupportedEvidence) as err:
        parse_sign1(_sign1([cbor2.dumps({1: "ES384"}), {}, b"\xa0", b"s"]), "realm")
    assert err.value.reason is Reason.UNSUPPORTED_ALGORITHM


# --- signatures ------------------------------------------------------------------------------

KEY = ec_key("cose-signer", "P-384")
_UNSIGNED = CoseSign1(protected=PROT, alg=-35, kid=None, payload=b"\xa0", signature=b"")
SIGNED = dataclasses.replace(
    _UNSIGNED, signature=sign_ecdsa_raw(KEY, _UNSIGNED.to_be_signed(), hashes.SHA384())
)


def test_verify_sign1_curve_mismatch_and_bad_signature() -> None:
    p256 = ec_key("cose-other", "P-256").public_key()
    with pytest.raises(SignatureInvalid) as err:
        verify_sign1(SIGNED, p256, "platform")
    assert err.value.reason is Reason.KEY_TYPE_MISMATCH
    other = ec_key("x", "P-384").public_key()
    with pytest.raises(SignatureInvalid) as err:
        verify_sign1(SIGNED, other, "platform")
    assert err.value.reason is Reason.SIGNATURE_INVALID
    verify_sign1(SIGNED, KEY.public_key(), "platform")


def test_signature_must_have_the_exact_coordinate_width() -> None:
    tbs = SIGNED.to_be_signed()
    exact = sign_ecdsa_raw(KEY, tbs, hashes.SHA384())
    padded = sign_ecdsa_raw(KEY, tbs, hashes.SHA384(), width=49)  # leading zero bytes
    assert sign1_verifies(dataclasses.replace(SIGNED, signature=exact), KEY.public_key())
    assert not sign1_verifies(dataclasses.replace(SIGNED, signature=padded), KEY.public_key())


def test_sig_structure_covers_the_protected_bytes_as_received() -> None:
    assert SIGNED.to_be_signed() == cbor2.dumps(["Signature1", PROT, b"", b"\xa0"])
