"""Loading collateral files (``load_collateral``, ``Collateral.from_bytes`` in
collateral/__init__.py): content decides, names never make collateral valid, damaged files only
raise cocoverify errors."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

import cocoverify
from cocoverify import ChainInvalid, CocoverifyError, Collateral

from _shared import require_shared

TDX = "tdx-v4-dcapqvl-sample"


def test_collateral_named_after_a_role_must_hold_it(tmp_path: Path) -> None:
    """Names never make collateral valid; a name contradicting the content rejects it."""
    base = require_shared("amd") / "ms-milan-v3-vcek"
    ask = (base / "ask.pem").read_bytes()
    (tmp_path / "ark.pem").write_bytes(ask)
    coll = Collateral.from_bytes(ask, source=str(tmp_path / "ark.pem"))
    assert [role for role, _ in coll.labels] == ["ark"]
    assert Collateral.from_bytes(ask, source="bundle.pem").labels == ()
    with pytest.raises(ChainInvalid) as ei:
        cocoverify.verify(
            (base / "report.bin").read_bytes(),
            at="2026-01-01T00:00:00Z",
            collateral=cocoverify.load_collateral(
                [base / "vcek.pem", tmp_path / "ark.pem", base / "ark.pem"]
            ),
        )
    assert ei.value.reason.value == "chain_invalid"


def test_mutated_collateral_files_only_raise_cocoverify_errors() -> None:
    """Flipped bytes in collateral CRLs: a collateral error, never a crash."""
    base = require_shared("intel") / TDX
    for name in ("pck_crl.der", "root_ca_crl.der"):
        data = (base / name).read_bytes()
        for i in range(min(len(data), 64)):
            for bit in (0x01, 0x80):
                mutated = bytearray(data)
                mutated[i] ^= bit
                with contextlib.suppress(CocoverifyError):
                    Collateral.from_bytes(bytes(mutated), source=name)
