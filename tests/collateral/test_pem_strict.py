"""Damaged collateral files are errors, never skipped (docs/trust-and-collateral.md "Damaged
collateral files"; issue 11).

Before: a PEM block without its END line (a truncated download) or with a damaged BEGIN line
was dropped silently, in a file and in a folder; a truncated JSON document or DER CRL in a
folder was skipped as "not collateral". Each is now ``collateral_malformed`` (exit 4) naming
the file and, for text, the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify import Collateral, CollateralInvalid, Reason, load_collateral
from cocoverify.cli import main
from cocoverify_testing.pki import pem

from _shared import require_shared
from _shared.intel import PKI

CHAIN = pem(PKI.tcb_signing_cert, PKI.root_cert)  # two blocks, lines 1..N


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _line_of(data: bytes, needle: bytes, nth: int = 0) -> int:
    hits = [i for i, line in enumerate(_lines(data), 1) if needle in line]
    return hits[nth]


def _cut_after_line(data: bytes, line: int) -> bytes:
    return b"\n".join(_lines(data)[:line]) + b"\n"


def _replace_line(data: bytes, line: int, new: bytes) -> bytes:
    lines = _lines(data)
    lines[line - 1] = new
    return b"\n".join(lines)


# (damaged bytes, the line the error must name)
def _no_end_line() -> tuple[bytes, int]:  # the download stopped inside the second block
    second = _line_of(CHAIN, b"BEGIN", 1)
    return _cut_after_line(CHAIN, second + 3), second


def _no_end_line_last_block() -> tuple[bytes, int]:
    end = _line_of(CHAIN, b"END", 1)
    return _cut_after_line(CHAIN, end - 1), _line_of(CHAIN, b"BEGIN", 1)


def _begin_line_lost_a_dash() -> tuple[bytes, int]:
    line = _line_of(CHAIN, b"BEGIN", 1)
    return _replace_line(CHAIN, line, b"----BEGIN CERTIFICATE-----"), line


def _begin_line_misspelt() -> tuple[bytes, int]:  # the END has no BEGIN any more
    begin = _line_of(CHAIN, b"BEGIN", 1)
    return _replace_line(CHAIN, begin, b"-----BEGIO CERTIFICATE-----"), _line_of(CHAIN, b"END", 1)


def _label_mismatch() -> tuple[bytes, int]:
    end = _line_of(CHAIN, b"END", 0)
    return _replace_line(CHAIN, end, b"-----END X509 CRL-----"), end


def _bad_base64() -> tuple[bytes, int]:
    begin = _line_of(CHAIN, b"BEGIN", 0)
    line = _lines(CHAIN)[begin]
    return _replace_line(CHAIN, begin + 1, line[:10] + b"!" + line[11:]), begin + 1


def _bad_padding() -> tuple[bytes, int]:
    begin = _line_of(CHAIN, b"BEGIN", 0)
    end = _line_of(CHAIN, b"END", 0)
    last = _lines(CHAIN)[end - 2]
    return _replace_line(CHAIN, end - 1, last[:-1]), begin  # one character short


DAMAGE: dict[str, Callable[[], tuple[bytes, int]]] = {
    "no_end_line": _no_end_line,
    "no_end_line_last_block": _no_end_line_last_block,
    "begin_line_lost_a_dash": _begin_line_lost_a_dash,
    "begin_line_misspelt": _begin_line_misspelt,
    "end_label_mismatch": _label_mismatch,
    "bad_base64_character": _bad_base64,
    "base64_cut_short": _bad_padding,
}


def test_the_undamaged_chain_loads() -> None:
    assert len(Collateral.from_bytes(CHAIN).chains[0]) == 2


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_pem_in_a_named_file(damage: str, tmp_path: Path) -> None:
    data, line = DAMAGE[damage]()
    path = tmp_path / "chain.pem"
    path.write_bytes(data)
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    assert f"{path}:{line}:" in str(ei.value)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_pem_in_a_folder(damage: str, tmp_path: Path) -> None:
    data, line = DAMAGE[damage]()
    (tmp_path / "good.pem").write_bytes(CHAIN)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "chain.pem").write_bytes(data)
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    assert f"{tmp_path / 'sub' / 'chain.pem'}:{line}:" in str(ei.value)


def test_damaged_pem_is_exit_4_on_the_command_line(tmp_path: Path) -> None:
    base = require_shared("intel") / "tdx-v4-dcapqvl-sample"
    data, _ = _no_end_line()
    (tmp_path / "chain.pem").write_bytes(data)
    rc = main(
        [
            "verify",
            str(base / "tdx_quote"),
            "--collateral",
            str(base),
            "--collateral",
            str(tmp_path),
        ]
    )
    assert rc == 4


def test_cat_of_files_without_final_newline_still_loads() -> None:
    """``cat a.pem b.pem`` with no newline at the end of a.pem glues END and BEGIN."""
    glued = pem(PKI.tcb_signing_cert).rstrip(b"\n") + pem(PKI.root_cert)
    assert len(Collateral.from_bytes(glued).chains[0]) == 2


def test_explanatory_text_outside_blocks_is_allowed() -> None:
    text = b"subject=CN=whatever\nissuer=...\n" + CHAIN + b"\n--- the end of the chain\n"
    assert len(Collateral.from_bytes(text).chains[0]) == 2


# --- truncated JSON and DER, recognisable but broken documents --------------------------


def _real(name: str) -> bytes:
    return (require_shared("intel") / "tdx-v4-dcapqvl-sample" / name).read_bytes()


def test_truncated_json_in_a_folder(tmp_path: Path) -> None:
    doc = _real("tcb_info.json")
    (tmp_path / "tcb_info.json").write_bytes(doc[: len(doc) // 2])
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    assert f"{tmp_path / 'tcb_info.json'}:1:" in str(ei.value)


def test_truncated_json_names_its_line(tmp_path: Path) -> None:
    text = json.dumps({"tcbInfo": {"a": 1}, "signature": "00"}, indent=1).encode()
    (tmp_path / "t.json").write_bytes(text[:-3])
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    last_line = len(text[:-3].splitlines())
    assert f"t.json:{last_line}:" in str(ei.value)


def test_json_nested_too_deeply_is_collateral_malformed(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


@pytest.mark.parametrize("name", ["pck_crl.der", "root_ca_crl.der"])
def test_truncated_der_crl_in_a_folder(name: str, tmp_path: Path) -> None:
    der = _real(name)
    (tmp_path / name).write_bytes(der[:-20])
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


def test_truncated_hex_crl_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "rootcacrl").write_bytes(_real("root_ca_crl.der").hex().encode()[:-1])
    with pytest.raises(CollateralInvalid):
        load_collateral([tmp_path])


def test_dcap_qvl_collateral_with_a_missing_member(tmp_path: Path) -> None:
    doc = json.loads(_real("collateral.dcapqvl.json"))
    del doc["qe_identity"]
    (tmp_path / "collateral.json").write_text(json.dumps(doc))
    with pytest.raises(CollateralInvalid) as ei:
        load_collateral([tmp_path])
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


def test_files_that_are_no_collateral_are_still_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"some notes\n")
    (tmp_path / "settings.ini").write_bytes(b"[section]\nkey = value\n")
    (tmp_path / "random.bin").write_bytes(bytes(range(256)))
    (tmp_path / "good.pem").write_bytes(CHAIN)
    assert len(load_collateral([tmp_path]).chains) == 1


def test_a_quote_in_a_collateral_folder_is_not_read_as_damaged_pem(tmp_path: Path) -> None:
    """Binary files holding PEM text (a type-5 quote) give their complete blocks, as before."""
    (tmp_path / "quote.bin").write_bytes(_real("tdx_quote"))
    assert len(load_collateral([tmp_path]).chains) == 1


def test_every_real_collateral_folder_still_loads() -> None:
    base = require_shared("intel")
    for case in sorted(p for p in base.iterdir() if p.is_dir()):
        assert not load_collateral([case]).is_empty(), case


def test_der_certificate_files_still_load(tmp_path: Path) -> None:
    (tmp_path / "root.der").write_bytes(PKI.root_cert.public_bytes(Encoding.DER))
    assert len(load_collateral([tmp_path]).chains) == 1


def test_pem_loader_keeps_its_own_checks() -> None:
    """Blocks go to ``cryptography`` with their own base64 text (not re-encoded), so its
    check of the base64 pad bits (RFC 4648 3.5) still refuses a changed last character."""
    first_end = _line_of(CHAIN, b"END", 0)
    last = _lines(CHAIN)[first_end - 2]
    stem = last.rstrip(b"=")
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    flipped = bytes([alphabet[alphabet.index(stem[-1]) ^ 1]])
    if last == stem:
        pytest.skip("the first block needs no padding")
    data = _replace_line(CHAIN, first_end - 1, stem[:-1] + flipped + last[len(stem) :])
    with pytest.raises(CollateralInvalid) as ei:
        Collateral.from_bytes(data)
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


@pytest.mark.parametrize("byte", [0x1F, 0x00, 0xAD, 0x80])
def test_a_non_text_byte_on_a_boundary_line_is_damage(byte: int) -> None:
    """The sweep's mutant (tests/fuzz): ``\\x1f----END CERTIFICATE-----`` made the file look
    binary and the block was dropped; a non-text byte cuts the block instead."""
    end = CHAIN.index(b"-----END CERTIFICATE-----")
    data = bytearray(CHAIN)
    data[end] = byte
    with pytest.raises(CollateralInvalid) as ei:
        Collateral.from_bytes(bytes(data), source="chain.pem")
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    assert "chain.pem:1:" in str(ei.value)  # the block begun on line 1 has no END line


def test_pem_inside_binary_data_is_read() -> None:
    """A PEM key inside a CBOR text string: binary bytes on the boundary lines' far sides."""
    key = PKI.root_cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    data = b"\x81\xd9\x02*x\xb1" + key.rstrip(b"\n") + b"\x03\xd8 x#tag:rest\x00"
    assert len(Collateral.from_bytes(data).public_keys) == 1
