"""``cocoverify show``: decoded evidence and collateral, nothing verified (real vectors)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from cocoverify.tee.ibmse.parse import BootHdrTags
from cocoverify_testing.ibmse.uv import response_json

from _shared import require_shared
from _shared.cli import run_cli, run_cli_json

TDX = "tdx-v4-dcapqvl-sample"
NOT_VERIFIED = "NOT VERIFIED"


def _text(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> str:
    """The text view, runs of spaces collapsed (the columns' alignment is not the test)."""
    rc, out = run_cli(capsys, "show", str(path), *extra)
    assert rc == 0, out
    assert NOT_VERIFIED in out.splitlines()[1]
    return re.sub(r"(?<=\S) {2,}", " ", out)


def test_json_keeps_the_old_keys(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / TDX
    rc, doc = run_cli_json(capsys, "show", str(base / "tdx_quote"))
    assert rc == 0 and doc["kind"] == "tdx" and doc["verified"] is False
    assert doc["claims"]["mr_td"].startswith("91eb2b44")
    assert doc["identifiers"]["fmspc"] == "b0c06f000000"
    assert doc["identifiers"]["pck_ca"] == "platform"
    assert [c["role"] for c in doc["certificates"]] == [
        "Intel PCK leaf (platform key)",
        "Intel PCK Platform CA",
        "Intel SGX Root CA",
    ]


def test_tdx_text_groups_and_identifiers(capsys: pytest.CaptureFixture[str]) -> None:
    out = _text(capsys, require_shared("intel") / TDX / "tdx_quote")
    for title in (
        "Identifiers",
        "Header",
        "Body",
        "Signature data",
        "Certificate chain",
        "TCB components",
        "Decoded flags",
    ):
        assert f"\n{title}" in out, title
    for needle in (
        "fmspc b0c06f000000",
        "pck_ca platform",
        "pce_id 0000",
        "qe_vendor_id 939a7233f79c4ca9940a0db3957f0607 (Intel)",
        "tee_type TDX",
        "tcb_info_url https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000",
        "pck_crl_url https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform",
        "td_attributes sept_ve_disable",
        "Intel SGX PCK Certificate (Intel PCK leaf (platform key))",
        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    ):
        assert needle in out, needle


def test_sgx_text(capsys: pytest.CaptureFixture[str]) -> None:
    out = _text(capsys, require_shared("intel") / "sgx-v3-dcapqvl-sample" / "sgx_quote")
    assert "fmspc 00a067110000" in out
    assert "pck_ca processor" in out
    assert "attributes init, mode64bit" in out
    assert "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb" in out


def test_snp_identifiers_for_kds(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("amd")
    out = _text(capsys, base / "ms-turin-v5-vcek" / "report.bin")
    assert "product Turin" in out and "signing_key VCEK" in out
    assert "hardware_id 59790fb1c39f35c1\n" in out  # Turin: the first 8 bytes of CHIP_ID
    assert "/vcek/v1/Turin/59790fb1c39f35c1?fmcSPL=1&blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=81" in out
    rc, doc = run_cli_json(capsys, "show", str(base / "anolis-milan-v2-vlek" / "report.bin"))
    assert rc == 0 and doc["identifiers"]["signing_key"] == "VLEK"
    assert "vcek_url" not in doc["identifiers"]
    assert doc["claims"]["signing_key"] == "VLEK"  # the old key stays


def test_cca_nitro_nvidia(capsys: pytest.CaptureFixture[str]) -> None:
    cca = _text(capsys, require_shared("cca") / "ccatoken-good-cmw907-realm1" / "token.cbor")
    assert "platform_instance_id 0102020202" in cca
    assert "lifecycle 0x3000 (secured)" in cca
    nitro = _text(capsys, require_shared("nitro") / "evervault-beta-20221013" / "attestation.cose")
    assert "module_id i-020b6af9246d90e92-enc0183d09086c24190" in nitro
    assert "aws.nitro-enclaves (AWS Nitro root)" in nitro
    gpu = _text(
        capsys,
        require_shared("nvidia") / "trustee-hopper-local" / "hopperAttestationReport.txt",
    )
    assert "Device [0]" in gpu and "driver_version 550.90.07" in gpu


def test_azure_shows_the_hardware_report(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("azure")
    out = _text(capsys, base / "trustee-az-snp-vtpm-v2" / "evidence-v2.json")
    assert "snp report inside" in out and "product Milan" in out
    assert "SEV-VCEK (AMD VCEK (chip endorsement key), Milan)" in out
    rc, doc = run_cli_json(
        capsys, "show", str(base / "trustee-az-tdx-vtpm-v1" / "evidence-v1.json")
    )
    assert rc == 0 and doc["hardware_report"]["kind"] == "tdx"
    assert doc["hardware_report"]["identifiers"]["tee_type"] == "TDX"


def test_ibmse_text_view(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """No public SE response exists: a response in trustee's JSON from the test builder."""
    doc = response_json(
        measurement_value=b"\x01" * 64,
        additional=b"\x09" * 64,
        user_data=b"\x07" * 16,
        cuid=b"\x05" * 16,
        tags=BootHdrTags(b"\x01" * 64, b"\x02" * 64, b"\x03" * 64, b"\x04" * 16),
    )
    path = tmp_path / "se.json"
    path.write_text(json.dumps(doc))
    out = _text(capsys, path)
    assert "se evidence" in out.splitlines()[0]
    assert "cuid " + "05" * 16 in out and "HMAC-SHA512" in out


def test_ibmse_and_tpm_have_a_text_view(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("azure")
    out = _text(
        capsys,
        base
        / "trustee-tpm-generic"
        / next(p.name for p in (base / "trustee-tpm-generic").iterdir() if p.suffix == ".json"),
    )
    assert "tpm evidence" in out.splitlines()[0]


def _cos() -> tuple[Path, Path]:
    quote = require_shared("intel") / "tdx-v4-gotdx-cos113" / "cos-113-tdx-quote.dat"
    log = require_shared("tdx-eventlog") / "gotdx-cos113-ccel-with-quote" / "cos-113-intel-tdx.bin"
    return quote, log


def test_event_log_replayed_next_to_the_quote(capsys: pytest.CaptureFixture[str]) -> None:
    quote, log = _cos()
    out = _text(capsys, quote, "--event-log", str(log))
    assert "\nEvent log" in out and "EFI variable SecureBoot" in out
    assert "[17] EV_EFI_BOOT_SERVICES_APPLICATION rtmr1" in out
    for i in range(4):
        assert f"rtmr{i} match" in out
    rc, doc = run_cli_json(capsys, "show", str(quote), "--event-log", str(log))
    assert rc == 0 and doc["event_log"]["events_count"] == 43
    assert all(doc["rtmr_replay"][f"rtmr{i}"]["match"] for i in range(4))


def test_trustee_json_with_cc_eventlog(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    quote, log = _cos()
    doc = {
        "quote": base64.b64encode(quote.read_bytes()).decode(),
        "cc_eventlog": base64.b64encode(log.read_bytes()).decode(),
    }
    path = tmp_path / "tdx.json"
    path.write_text(json.dumps(doc))
    rc, shown = run_cli_json(capsys, "show", str(path))
    assert rc == 0 and shown["kind"] == "tdx"
    assert all(shown["rtmr_replay"][f"rtmr{i}"]["match"] for i in range(4))
    # another log for the same quote: shown, with the registers that differ marked
    other = require_shared("tdx-eventlog") / "trustee-ccel-ovmf" / "CCEL_data_ovmf"
    path.write_text(
        json.dumps(dict(doc, cc_eventlog=base64.b64encode(other.read_bytes()).decode()))
    )
    out = _text(capsys, path)
    assert "rtmr0 DIFFERS" in out


def test_legacy_aa_event_log(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("tdx-eventlog") / "trustee-legacy-aael-text"
    quote = base / "AAEL_quote_tdx"
    out = _text(capsys, quote, "--aa-event-log", str(base / "AAEL_data_1"))
    assert "AA event log (legacy text)" in out and "match yes" in out
    rc, doc = run_cli_json(capsys, "show", str(quote), "--aa-event-log", str(base / "AAEL_data_2"))
    assert rc == 0 and doc["aa_event_log"]["rtmr3"]["match"] is False


def test_sm3_log_is_listed_not_replayed(capsys: pytest.CaptureFixture[str]) -> None:
    quote, _log = _cos()
    sm3 = require_shared("tdx-eventlog") / "trustee-ccel-csv-sm3" / "CCEL_data_csv"
    rc, doc = run_cli_json(capsys, "show", str(quote), "--event-log", str(sm3))
    assert rc == 0 and doc["event_log"]["algorithms"] == ["SM3"]
    assert doc["rtmr_replay"]["not_replayed"].startswith("unsupported_algorithm")


def test_event_log_on_other_evidence_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    _quote, log = _cos()
    report = require_shared("amd") / "ms-genoa-v3-vcek" / "report.bin"
    rc, _ = run_cli(capsys, "show", str(report), "--event-log", str(log))
    assert rc == 2


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        (
            "tcb_info.json",
            [
                "Intel TCB Info",
                "fmspc B0C06F000000",
                "tcbEvaluationDataNumber 17",
                "nextUpdate 2025-07-19T10:16:03Z",
                "tcbType 0",
            ],
        ),
        ("qe_identity.json", ["Intel QE Identity", "id TD_QE"]),
        ("pck_crl.der", ["Intel PCK CRL (CA type platform)", "revoked_serials 44"]),
        ("root_ca_crl.der", ["Intel SGX Root CA CRL", "next_update 2026-04-03"]),
        (
            "tcb_info_issuer_chain.pem",
            ["Intel SGX TCB Signing (Intel TCB signing", "Intel SGX Root CA (Intel SGX Root CA)"],
        ),
    ],
)
def test_intel_collateral_files(
    capsys: pytest.CaptureFixture[str], name: str, needles: list[str]
) -> None:
    out = _text(capsys, require_shared("intel") / TDX / name)
    assert out.splitlines()[0].endswith(": collateral")
    for needle in needles:
        assert needle in out, needle
    rc, doc = run_cli_json(capsys, "show", str(require_shared("intel") / TDX / name))
    assert rc == 0 and doc["kind"] == "collateral" and doc["verified"] is False


def test_amd_and_nvidia_collateral_files(capsys: pytest.CaptureFixture[str]) -> None:
    amd = require_shared("amd")
    roots = amd / "roots"
    assert "AMD ARK (root), Genoa" in _text(capsys, roots / "genoa_ark.pem")
    assert "AMD ASK, Turin" in _text(capsys, roots / "turin_ask.pem")
    assert "AMD ASVK, Milan" in _text(capsys, roots / "milan_asvk.pem")
    assert "AMD CRL of the ARK-Milan" in _text(capsys, roots / "milan_crl.pem")
    assert "AMD VCEK (chip endorsement key), Genoa" in _text(
        capsys, amd / "ms-genoa-v3-vcek" / "vcek.pem"
    )
    assert "AMD VLEK (loaded endorsement key), Milan" in _text(
        capsys, amd / "anolis-milan-v2-vlek" / "vlek.der"
    )
    chain = require_shared("nvidia") / "trustee-hopper-chain-case1" / "hopper_cert_chain_case1.txt"
    rc, doc = run_cli_json(capsys, "show", str(chain))
    assert rc == 0 and doc["certificates"][-1]["role"] == "NVIDIA device identity root"


def test_unrecognised_input_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(7, 200)))
    rc, out = run_cli(capsys, "show", str(path))
    assert rc == 2 and out == ""
    rc, doc = run_cli_json(capsys, "show", str(path))
    assert rc == 2 and doc["reason"] == "unknown_format"
    path.write_text('{"hello": "world"}')
    assert run_cli(capsys, "show", str(path))[0] == 2
