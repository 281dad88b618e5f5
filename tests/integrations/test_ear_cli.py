"""``cocoverify verify --format ear``: unsigned and signed EARs from the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from cocoverify import ear
from cocoverify.cli import main
from integrations._fixtures import P384, intel_case_folder, jws_parts


def _pem(tmp_path: Path, key: Any) -> str:
    path = tmp_path / "ear-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def test_cli_format_ear(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder, case = intel_case_folder("sgx-v3-dcapqvl-sample")
    argv = ["verify", str(folder / "sgx_quote"), "--collateral", str(folder),
            "--at", case["verify_at"], "--format", "ear"]  # fmt: skip
    # default policy: ConfigurationAndSWHardeningNeeded is rejected (exit 5)
    assert main(argv) == 5
    claims = json.loads(capsys.readouterr().out)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "contraindicated"
    assert sub["ear.trustworthiness-vector"]["hardware"] == 96
    assert claims["iat"] == int(dt.datetime.fromisoformat(case["verify_at"]).timestamp())
    # the input trustee's AS gives its policies, with the supplemental claims trustee emits
    sgx = sub["ear.veraison.annotated-evidence"]["sgx"]
    for key in ("root_key_id", "pck_crl_num", "root_ca_crl_num", "earliest_issue_date",
                "latest_issue_date", "earliest_expiration_date", "tcb_status_current"):  # fmt: skip
        assert key in sgx, key
    # signed, P-384, trustee profile
    assert main([*argv, "--ear-key", _pem(tmp_path, P384), "--ear-profile", "trustee"]) == 5
    token = capsys.readouterr().out.strip()
    got = ear.verify_ear(token, P384.public_key(), at=claims["iat"])
    assert got["eat_profile"] == ear.TRUSTEE_PROFILE
    assert jws_parts(token)[0]["alg"] == "ES384"


def test_cli_ear_for_unparseable_evidence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x04\x00\x02\x00" + b"\x00" * 60)
    assert main(["verify", str(bad), "--format", "ear", "--at", "2025-01-01T00:00:00Z"]) == 2
    claims = json.loads(capsys.readouterr().out)
    assert claims["iat"] == int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
    assert claims["submods"]["cpu0"]["ear.trustworthiness-vector"]["instance-identity"] == 1


def test_cli_bad_ear_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder, _ = intel_case_folder("tdx-v4-dcapqvl-sample")
    rsa_pem = tmp_path / "k.pem"
    rsa_pem.write_text("not a key")
    rc = main(["verify", str(folder / "tdx_quote"), "--format", "ear", "--ear-key", str(rsa_pem)])
    assert rc == 1
