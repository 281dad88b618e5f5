"""AWS Nitro parsing (NSM attestation_process §3.1, §3.2.2): one defect per case."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

import cocoverify
from cocoverify import EvidenceError, Reason, registry
from cocoverify.cli.show import describe
from cocoverify.tee.nitro.parse import looks_like, parse_document
from cocoverify_testing.cca import CcaTokenBuilder
from cocoverify_testing.nitro import REMOVE, NitroDocumentBuilder

AT = "2026-01-01T00:00:00Z"
B = NitroDocumentBuilder()
GOOD = B.build()
TRUST = B.pki.trust()


def _reason(data: bytes) -> Reason:
    with pytest.raises(EvidenceError) as err:
        parse_document(data)
    # the pipeline raises the same for verify()
    with pytest.raises(EvidenceError) as err2:
        cocoverify.verify(data, at=AT, trust=TRUST)
    assert err2.value.reason is err.value.reason
    return err.value.reason


def _envelope(*items: Any, tag: bool = False) -> bytes:
    body = bytes(cbor2.dumps(list(items)))
    return b"\xd2" + body if tag else body


def test_good_document_tagged_and_untagged() -> None:
    for data in (GOOD, NitroDocumentBuilder(tagged=True).build()):
        doc = parse_document(data)
        assert doc.doc.digest == "SHA384" and len(doc.doc.cabundle) == 4
        assert registry.detect(data).name == "nitro"
        assert cocoverify.verify(data, at=AT, trust=TRUST).tee == "nitro"
    assert parse_document(NitroDocumentBuilder(tagged=True).build()).tagged


def test_null_optional_fields_are_absent() -> None:
    doc = parse_document(B.with_fields(nonce=None, user_data=None, public_key=None).build()).doc
    assert doc.nonce is doc.user_data is doc.public_key is None
    absent = B.with_fields(nonce=REMOVE, user_data=REMOVE, public_key=REMOVE).build()
    assert parse_document(absent).doc.nonce is None
    empty = parse_document(B.with_fields(user_data=b"", nonce=b"").build()).doc
    assert empty.user_data == b"" and empty.nonce == b""


def test_show_decodes_without_verifying() -> None:
    out = describe(GOOD)
    assert out["kind"] == "nitro" and out["verified"] is False
    assert out["claims"]["digest"] == "SHA384" and out["claims"]["pcr0"]


PAYLOAD_DEFECTS: dict[str, NitroDocumentBuilder] = {
    "module_id missing": B.with_fields(module_id=REMOVE),
    "module_id null": B.with_fields(module_id=None),
    "module_id empty": B.with_fields(module_id=""),
    "module_id bytes": B.with_fields(module_id=b"i-0"),
    "digest SHA256": B.with_fields(digest="SHA256"),
    "digest missing": B.with_fields(digest=REMOVE),
    "timestamp zero": B.with_fields(timestamp=0),
    "timestamp negative": B.with_fields(timestamp=-1),
    "timestamp text": B.with_fields(timestamp="1"),
    "timestamp bool": B.with_fields(timestamp=True),
    "pcrs empty": B.with_fields(pcrs={}),
    "pcrs 33": B.with_fields(pcrs={i: bytes(48) for i in range(33)}),
    "pcr index 32": B.with_fields(pcrs={0: bytes(48), 32: bytes(48)}),
    "pcr index -1": B.with_fields(pcrs={-1: bytes(48)}),
    "pcr index text": B.with_fields(pcrs={"0": bytes(48)}),
    "pcr 20 bytes": B.with_fields(pcrs={0: bytes(20)}),
    "pcr text": B.with_fields(pcrs={0: "00" * 48}),
    "pcrs array": B.with_fields(pcrs=[bytes(48)]),
    "certificate null": B.with_fields(certificate=None),
    "certificate empty": B.with_fields(certificate=b""),
    "certificate 1025": B.with_fields(certificate=b"\x30" * 1025),
    "cabundle empty": B.with_fields(cabundle=[]),
    "cabundle bstr": B.with_fields(cabundle=b"\x30"),
    "cabundle entry empty": B.with_fields(cabundle=[b""]),
    "cabundle entry text": B.with_fields(cabundle=["x"]),
    "user_data 1025": B.with_fields(user_data=bytes(1025)),
    "nonce 1025": B.with_fields(nonce=bytes(1025)),
    "public_key text": B.with_fields(public_key="key"),
    "nonce int": B.with_fields(nonce=0),
    "unknown key": B.with_extra("extra", b""),
    "integer key": B.with_extra(1, b""),
}


@pytest.mark.parametrize("defect", sorted(PAYLOAD_DEFECTS))
def test_payload_defects_are_malformed(defect: str) -> None:
    assert _reason(PAYLOAD_DEFECTS[defect].build()) is Reason.MALFORMED


def test_payload_limits_are_inclusive() -> None:
    for fields in (
        {"user_data": bytes(1024), "nonce": bytes(1024), "public_key": bytes(1024)},
        {"pcrs": {i: bytes(64) for i in range(32)}},
        {"pcrs": {31: bytes(32)}},
    ):
        parse_document(B.with_fields(**fields).build())


def test_payload_not_a_map() -> None:
    data = NitroDocumentBuilder(payload_bytes=bytes(cbor2.dumps([1, 2]))).build()
    assert _reason(data) is Reason.MALFORMED


PROT = bytes(cbor2.dumps({1: -35}))
PAYLOAD = B.payload()
SIG = bytes(96)

ENVELOPE_DEFECTS: dict[str, tuple[bytes, Reason]] = {
    "three elements": (_envelope(PROT, {}, PAYLOAD), Reason.MALFORMED),
    "five elements": (_envelope(PROT, {}, PAYLOAD, SIG, SIG), Reason.MALFORMED),
    "protected is a map": (_envelope({1: -35}, {}, PAYLOAD, SIG), Reason.MALFORMED),
    "unprotected is bstr": (_envelope(PROT, b"", PAYLOAD, SIG), Reason.MALFORMED),
    "payload is nil": (_envelope(PROT, {}, None, SIG), Reason.MALFORMED),
    "signature is text": (_envelope(PROT, {}, PAYLOAD, "s"), Reason.MALFORMED),
    "alg ES256": (
        _envelope(bytes(cbor2.dumps({1: -7})), {}, PAYLOAD, SIG),
        Reason.UNSUPPORTED_ALGORITHM,
    ),
    "alg ES512": (
        _envelope(bytes(cbor2.dumps({1: -36})), {}, PAYLOAD, SIG),
        Reason.UNSUPPORTED_ALGORITHM,
    ),
    "alg as text": (
        _envelope(bytes(cbor2.dumps({1: "ES384"})), {}, PAYLOAD, SIG),
        Reason.UNSUPPORTED_ALGORITHM,
    ),
    "alg missing": (_envelope(bytes(cbor2.dumps({4: b"k"})), {}, PAYLOAD, SIG), Reason.MALFORMED),
    "empty protected": (_envelope(b"", {}, PAYLOAD, SIG), Reason.MALFORMED),
    "protected extra label": (
        _envelope(bytes(cbor2.dumps({1: -35, 4: b"k"})), {}, PAYLOAD, SIG),
        Reason.MALFORMED,
    ),
    "crit header": (
        _envelope(bytes(cbor2.dumps({1: -35, 2: [4]})), {}, PAYLOAD, SIG),
        Reason.MALFORMED,
    ),
    "alg unprotected too": (_envelope(PROT, {1: -35}, PAYLOAD, SIG), Reason.MALFORMED),
    "unprotected kid": (_envelope(PROT, {4: b"k"}, PAYLOAD, SIG), Reason.MALFORMED),
    "signature 64 bytes": (_envelope(PROT, {}, PAYLOAD, bytes(64)), Reason.UNSUPPORTED_ALGORITHM),
    "signature 97 bytes": (_envelope(PROT, {}, PAYLOAD, bytes(97)), Reason.UNSUPPORTED_ALGORITHM),
    "empty payload": (_envelope(PROT, {}, b"", SIG), Reason.MALFORMED),
    "payload over 16384": (_envelope(PROT, {}, PAYLOAD + bytes(16385), SIG), Reason.MALFORMED),
    "trailing byte": (GOOD + b"\x00", Reason.TRAILING_DATA),
    "truncated": (GOOD[:-1], Reason.TRUNCATED),
    "other tag": (b"\xd1" + GOOD, Reason.MALFORMED),
    "tag twice": (b"\xd2\xd2" + GOOD, Reason.MALFORMED),
    "tag 18 in two bytes": (b"\xd8\x12" + GOOD, Reason.MALFORMED),
}


@pytest.mark.parametrize("defect", sorted(ENVELOPE_DEFECTS))
def test_envelope_defects(defect: str) -> None:
    data, reason = ENVELOPE_DEFECTS[defect]
    with pytest.raises(EvidenceError) as err:
        parse_document(data)
    assert err.value.reason is reason


def _reencode_payload(payload: bytes, transform: Any) -> bytes:
    prot = bytes(cbor2.dumps({1: -35}))
    return bytes(cbor2.dumps([prot, {}, transform(payload), SIG]))


def test_non_deterministic_cbor_is_malformed() -> None:
    # a definite map header turned indefinite; a length in a longer form than needed
    head = PAYLOAD[0] & 0x1F
    indefinite = b"\xbf" + PAYLOAD[1:] + b"\xff"
    non_minimal = bytes([0xB8, head]) + PAYLOAD[1:]
    for payload in (indefinite, non_minimal):
        with pytest.raises(EvidenceError) as err:
            parse_document(_reencode_payload(PAYLOAD, lambda _p, payload=payload: payload))
        assert err.value.reason is Reason.MALFORMED


def test_duplicate_key_is_malformed() -> None:
    pairs = list(B.payload_map().items())
    body = bytes([0xA0 + len(pairs) + 1])
    for k, v in [*pairs, pairs[1]]:
        body += bytes(cbor2.dumps(k)) + bytes(cbor2.dumps(v))
    with pytest.raises(EvidenceError) as err:
        parse_document(_reencode_payload(body, lambda p: p))
    assert err.value.reason is Reason.MALFORMED


def test_tag_inside_the_payload_is_malformed() -> None:
    data = B.with_fields(module_id=cbor2.CBORTag(32, "x")).build()
    assert _reason(data) is Reason.MALFORMED


def test_detection_looks_inside_the_payload() -> None:
    assert looks_like(GOOD) and looks_like(b"\xd2" + GOOD)
    # a COSE_Sign1 with an integer-keyed payload (a CCA/PSA platform token) is not Nitro
    psa = _envelope(PROT, {}, bytes(cbor2.dumps({265: "x", 10: b"n" * 32})), SIG, tag=True)
    assert not looks_like(psa)
    # fewer than three NSM keys: not claimed either
    assert not looks_like(_envelope(PROT, {}, bytes(cbor2.dumps({"module_id": "x"})), SIG))
    # a damaged Nitro document is still claimed, so its error names the right TEE
    broken = B.with_fields(digest=REMOVE, timestamp=REMOVE).build()
    assert looks_like(broken) and registry.detect(broken).name == "nitro"
    for junk in (b"", b"\x84", b"\xd2", b"\x84\x44", b"\x84\x5b" + b"\xff" * 8, GOOD[:40]):
        assert not looks_like(junk)


def test_never_claims_cca_tokens() -> None:
    cca = CcaTokenBuilder()
    token = cca.sign()
    platform, realm = cca.sign_parts()
    for data in (token, platform, realm):
        assert not looks_like(data)
    assert registry.detect(token).name == "cca"
