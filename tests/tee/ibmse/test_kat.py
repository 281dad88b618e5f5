"""IBM Secure Execution known answers from s390-tools (``rust/pv``; kat/README.md): the
measurement HMAC, the key slot, the whole ARCB and the SE-header tags, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify.tee.ibmse.parse import BootHdrTags, boot_hdr_tags_from_header
from cocoverify.tee.ibmse.request import (
    ArcbParts,
    build_arcb,
    ec_coordinates,
    flags_word,
    keyslot,
)
from cocoverify.tee.ibmse.verify import measurement, measurement_items

KAT = Path(__file__).parent / "kat"

# pv uvattest/attest.rs tests
KEY = b"\x41" * 64
TAGS = BootHdrTags(b"\x01" * 64, b"\x02" * 64, b"\x03" * 64, b"\x04" * 16)
CUID = b"\x05" * 16
USER = b"\x07" * 256
NONCE = b"\x08" * 16
ADDITIONAL = b"\x09" * 128
HMACS = {
    "all": "88794c62cce7bcf26216deb3f48f13fea6374b6d7e35bcc5c2ce68121db6f45d"
    "fc8c171856463549408bf8e7d1aca11efad0a878af97dc9e21a1fc2a32f3a675",
    "user_add": "fbd4f738a390edd947cd4f11af3a2f3bab2fdf8bf89bf81beb495117f4382cf4"
    "2f0730c8c7d9e3ca27fb25adfceb21224f57fdb398dcf41a83c146e6a23db760",
    "add": "63671fbf295036eb1023ea71f7182e7d6343dc7b2da584e824d0a7d198ab9cde"
    "d756c93b39050ffb764555b01f88cb82017a6a15c7e0bafc6005f1e4f78aa124",
    "minimal": "c5c34c93835d1ec23f5c2d778dfa20129b11b305601742cb2f38e0ed9894dcdb"
    "73fc8695ab6a8dbad0744073ddc81a5eaafa52e4a15af8deb8d761091922847f",
}


@pytest.mark.parametrize(
    ("case", "user", "nonce", "additional"),
    [
        ("all", USER, NONCE, ADDITIONAL),
        ("user_add", USER, None, ADDITIONAL),
        ("add", b"", None, ADDITIONAL),
        ("minimal", b"", None, b""),
    ],
)
def test_measurement_known_answers(
    case: str, user: bytes, nonce: bytes | None, additional: bytes
) -> None:
    expected = bytes.fromhex(HMACS[case])
    assert measurement(KEY, TAGS, CUID, user, nonce, additional) == expected


def test_measurement_items_layout() -> None:
    items = measurement_items(TAGS, CUID, USER, NONCE, ADDITIONAL)
    assert len(items) == 208 + 16 + 2 + 2 + 4 + 256 + 16 + 128
    assert items[224:232] == b"\x01\x00\x00\x00\x00\x00\x00\x80"  # 256, 0, 128 big-endian


def _customer_key() -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes((KAT / "private_cust.bin").read_bytes(), "big")
    return ec.derive_private_key(scalar, ec.SECP521R1())


def _host_key() -> ec.EllipticCurvePublicKey:
    key = x509.load_pem_x509_certificate((KAT / "host.pem.crt").read_bytes()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def test_customer_key_coordinates() -> None:
    assert ec_coordinates(_customer_key().public_key()) == (KAT / "public_cust.bin").read_bytes()


def test_keyslot_known_answer() -> None:
    slot = keyslot(_customer_key(), _host_key(), b"\x17" * 32)
    assert slot == (KAT / "keyslot.bin").read_bytes()
    assert keyslot(_customer_key(), _host_key(), b"\x16" * 32) != slot


def test_arcb_known_answer() -> None:
    parts = ArcbParts(
        measurement_key=b"\x77" * 64,
        nonce=b"\xab" * 16,
        iv=b"\x55" * 12,
        protection_key=b"\x17" * 32,
        customer_key=_customer_key(),
    )
    arcb = build_arcb([_host_key()], parts)
    assert arcb == (KAT / "arcb.bin").read_bytes()
    assert arcb[0x30:0x38] == flags_word(1, 2, 3) == bytes.fromhex("7000000000000000")


def test_se_header_tags_known_answer() -> None:
    tags = boot_hdr_tags_from_header((KAT / "secure_guest.hdr").read_bytes())
    assert tags.pld.hex().startswith("be94b5eab3c1b118c757d7db7ea0f65d")
    assert tags.ald.hex().startswith("2858c3368b2a0af0c5ea0fde7905eb15")
    assert tags.tld.hex().startswith("4860ebcf7b9d24eb909a795356ad32c9")
    assert tags.tld.hex().endswith("d7a94ae720e5c0760a825d479fe67af5")
    assert tags.tag.hex() == "92309d4589b9a85b427f8753171d1520"
    assert len(tags.to_bytes()) == 208
