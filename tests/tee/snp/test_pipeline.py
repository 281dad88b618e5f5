"""The SNP pipeline end to end on the fake AMD PKI (API and CLI)."""

from __future__ import annotations

from typing import Any

import pytest

from cocoverify.cli import main
from cocoverify_testing.pki import pem

from _shared.snp import MB, REPORT, VCEK, M, der_of, verify_with


def test_baseline_accepts() -> None:
    assert verify_with(REPORT, VCEK, M.ask, M.ark).accepted


def test_cli_with_fake_roots(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rep = MB.sign(M)
    files = {
        "report.bin": rep,
        "vcek.der": der_of(M.vcek_for(rep)),
        "ask.pem": pem(M.ask),
        "ark.pem": pem(M.ark),
        "crl.der": der_of(M.crl()),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = ["verify", str(tmp_path / "report.bin"), "--at", "2025-06-01T00:00:00Z"]
    for name in ("vcek.der", "ask.pem", "ark.pem", "crl.der"):
        argv += ["--collateral", str(tmp_path / name)]
    assert main([*argv, "--trust-root", str(tmp_path / "ark.pem"), "--format", "json"]) == 0
    assert '"revocation_checked":true' in capsys.readouterr().out.replace(" ", "")
    assert main(argv) == 3  # the fake ARK is not pinned in the real store
