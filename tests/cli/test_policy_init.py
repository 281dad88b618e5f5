"""``cocoverify policy init``: a policy pinned from real evidence accepts that evidence and
rejects it once a pinned measurement is changed; the file passes ``policy check``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from _shared import require_shared
from _shared.cli import run_cli

Case = tuple[str, list[str], str, str]  # evidence, verify arguments, pinned key, its value


def _intel(name: str, quote: str, at: str) -> tuple[str, list[str]]:
    base = require_shared("intel") / name
    return str(base / quote), ["--collateral", str(base), "--at", at]


def _cases() -> dict[str, tuple[str, list[str]]]:
    cca = require_shared("cca") / "ccatoken-good-cmw907-realm1"
    amd = require_shared("amd") / "ms-genoa-v3-vcek"
    return {
        "tdx": _intel("tdx-v4-dcapqvl-sample", "tdx_quote", "2025-07-04T10:16:31Z"),
        "sgx": _intel("sgx-v3-dcapqvl-sample", "sgx_quote", "2025-07-04T10:28:44Z"),
        # the VCEK's validity starts 2026-02-05: verified at a time inside it
        "snp": (
            str(amd / "report.bin"),
            ["--collateral", str(amd), "--at", "2026-06-01T00:00:00Z"],
        ),
        "cca": (str(cca / "token.cbor"), ["--collateral", str(cca / "platform-key.pem")]),
        "nitro": (
            str(require_shared("nitro") / "evervault-beta-20221013" / "attestation.cose"),
            ["--at", "2022-10-13T09:00:00Z"],
        ),
        "az-tdx-vtpm": (
            str(require_shared("azure") / "trustee-az-tdx-vtpm-v1" / "evidence-v1.json"),
            [
                "--collateral",
                str(require_shared("intel") / "tdx-v4-trustee-azure"),
                "--at",
                "2025-10-31T14:17:11Z",
            ],
        ),
    }


#: the pinned key whose value the negative test changes, per TEE
_TAMPER = {
    "tdx": "mr_td",
    "sgx": "mr_enclave",
    "snp": "measurement",
    "cca": "realm_initial_measurement",
    "nitro": "pcrs",
    "az-tdx-vtpm": "pcrs",
}


def _flip(text: str, key: str) -> str:
    """The policy with the first hex digit of ``key``'s first value changed."""
    match = re.search(rf"^  {key}: .*?\"([0-9a-f])[0-9a-f]{{31,}}\"", text, flags=re.M)
    assert match is not None, key
    digit = "1" if match.group(1) != "1" else "2"
    return text[: match.start(1)] + digit + text[match.end(1) :]


@pytest.mark.parametrize("tee", sorted(_TAMPER))
def test_init_then_verify(capsys: pytest.CaptureFixture[str], tmp_path: Path, tee: str) -> None:
    evidence, args = _cases()[tee]
    policy = tmp_path / "policy.yaml"
    rc, out = run_cli(capsys, "policy", "init", evidence, *args, "-o", str(policy))
    assert rc == 0 and out == ""
    text = policy.read_text()
    doc = yaml.safe_load(text)
    assert doc["allowed_tees"] == [tee] and tee in doc and _TAMPER[tee] in doc[tee]
    assert text.startswith("# cocoverify policy pinned from")
    rc, out = run_cli(capsys, "policy", "check", str(policy))
    assert rc == 0 and json.loads(out)[tee]
    rc, out = run_cli(
        capsys, "verify", evidence, *args, "--policy", str(policy), "--format", "json"
    )
    assert rc == 0, out
    passed = {v["rule"] for v in json.loads(out)["policy"] if v["passed"]}
    assert len(passed) > 3  # the pinned rules ran
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(_flip(text, _TAMPER[tee]))
    rc, out = run_cli(
        capsys, "verify", evidence, *args, "--policy", str(tampered), "--format", "json"
    )
    assert rc == 5 and json.loads(out)["reason"] == "measurement_mismatch"


def test_init_pins_the_current_tcb_status_and_advisories(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evidence, args = _cases()["sgx"]
    rc, out = run_cli(capsys, "policy", "init", evidence, *args)  # stdout by default
    assert rc == 0
    doc = yaml.safe_load(out)
    assert doc["accepted_tcb_statuses"] == ["ConfigurationAndSWHardeningNeeded", "UpToDate"]
    assert doc["allowed_advisory_ids"] == ["INTEL-SA-00289", "INTEL-SA-00615"]


def test_init_with_the_event_log(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / "tdx-v4-gotdx-cos113"
    log = require_shared("tdx-eventlog") / "gotdx-cos113-ccel-with-quote" / "cos-113-intel-tdx.bin"
    rc, out = run_cli(
        capsys,
        "policy",
        "init",
        str(base / "cos-113-tdx-quote.dat"),
        "--collateral",
        str(base),
        "--at",
        "2025-10-31T14:17:11Z",
        "--event-log",
        str(log),
    )
    assert rc == 0
    assert yaml.safe_load(out)["tdx"]["rtmr2"] == [
        "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1"
    ]


def test_evidence_that_does_not_verify_gives_its_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    evidence, _args = _cases()["tdx"]
    # no collateral: the verification's own class (4), and no policy written
    out_file = tmp_path / "p.yaml"
    rc, out = run_cli(capsys, "policy", "init", evidence, "-o", str(out_file))
    assert rc == 4 and out == "" and not out_file.exists()
    amd = require_shared("amd") / "neg-turin-tampered-measurement"
    rc, _ = run_cli(capsys, "policy", "init", str(amd / "report.bin"), "--collateral", str(amd))
    assert rc == 3


def test_init_on_a_token_whose_components_name_their_hash_algorithm(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The real CCA sample's platform components carry hash_algo, which a policy reference
    does not take: init pins the rest and the policy accepts the token (was exit 1)."""
    real = Path(__file__).resolve().parents[2] / "vectors" / "real" / "arm-cca"
    args = [str(real / "token.cbor"), "--collateral", str(real / "platform-key.pem")]
    policy = tmp_path / "policy.yaml"
    rc, _ = run_cli(capsys, "policy", "init", *args, "-o", str(policy))
    assert rc == 0
    assert "hash_algo" not in policy.read_text()
    assert yaml.safe_load(policy.read_text())["cca"]["platform_sw_components"]
    rc, out = run_cli(capsys, "verify", *args, "--policy", str(policy), "--format", "json")
    assert rc == 0, out
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(_flip(policy.read_text(), "realm_initial_measurement"))
    rc, out = run_cli(capsys, "verify", *args, "--policy", str(tampered), "--format", "json")
    assert rc == 5 and json.loads(out)["reason"] == "measurement_mismatch"
