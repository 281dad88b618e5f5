"""wrappers.tdx_eventlog: every case of shared/vectors/tdx-eventlog gives its manifest outcome
through cocoverify.verify() and the CLI; one-defect logs from cocoverify_testing.eventlog are
rejected for that defect; the quote's appraisal comes from an injected ``inner``."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import cocoverify
from cocoverify.errors import (
    AuthenticityError,
    ConfigurationError,
    MalformedEvidence,
    Reason,
    UnsupportedEvidence,
)
from cocoverify.result import Appraisal
from cocoverify.wrappers.tdx_eventlog import (
    appraise_with_log,
    replay_aael_text,
    trustee_evidence,
    uefi_event_logs,
)
from cocoverify_testing.eventlog import DEFECTS, LogBuilder, aael_event

from _shared import SHARED_VECTORS, shared_manifest
from _shared.cli import run_cli, run_cli_json

EL = SHARED_VECTORS / "tdx-eventlog"
COS = SHARED_VECTORS / "intel" / "tdx-v4-gotdx-cos113"
AT = "2025-10-31T14:17:11Z"
_COLLATERAL = (
    "tcb_info.json",
    "identity.json",
    "pck_crl.der",
    "intel_root_ca_crl.der",
    "pck_crl_issuer_chain.pem",
    "tcb_info_issuer_chain.pem",
    "qe_identity_issuer_chain.pem",
)
CASES = {c["id"]: c for c in (shared_manifest("tdx-eventlog") or {"cases": []})["cases"]}
CCEL_CASES = [c for c in CASES.values() if "ccel" in c["files"]]


@pytest.fixture
def cos() -> tuple[bytes, list[str]]:
    if not (COS / "cos-113-tdx-quote.dat").is_file() or not CASES:
        pytest.skip(f"real vectors not available under {SHARED_VECTORS}")
    return (COS / "cos-113-tdx-quote.dat").read_bytes(), [str(COS / f) for f in _COLLATERAL]


def _ccel(case: dict[str, Any]) -> bytes:
    return (EL / case["id"] / case["files"]["ccel"]).read_bytes()


def _cli_collateral(paths: list[str]) -> list[str]:
    return [arg for p in paths for arg in ("--collateral", p)]


def _expected(case: dict[str, Any]) -> tuple[str, str | None]:
    """(reason or 'accept', first differing register) for this log against the COS-113 quote."""
    replay = case["expected"]["replay"]
    if replay["as_rtmr"] is None:
        return Reason.UNSUPPORTED_ALGORITHM.value, None
    cos = CASES["gotdx-cos113-ccel-with-quote"]["expected"]["replay"]["as_rtmr"]
    for reg in ("rtmr0", "rtmr1", "rtmr2", "rtmr3"):
        if replay["as_rtmr"][reg] != cos[reg]:
            return Reason.EVENT_LOG_MISMATCH.value, reg
    return "accept", None


@pytest.mark.parametrize("case", CCEL_CASES, ids=lambda c: c["id"])
def test_verify_each_log_with_the_cos113_quote(
    case: dict[str, Any], cos: tuple[bytes, list[str]]
) -> None:
    # only gotdx-cos113 has its quote; every trustee log replays to other RTMRs (eventlog.md)
    quote, coll = cos
    outcome, register = _expected(case)
    if case["id"] == "gotdx-cos113-ccel-with-quote":
        assert case["expected"]["verify"]["outcome"] == outcome == "accept"
        r = cocoverify.verify(quote, collateral=coll, at=AT, event_log=_ccel(case))
        assert r.accepted
        replayed = case["expected"]["replay"]["as_rtmr"]
        assert {k: v.hex() for k, v in r.claims["event_log"]["replayed"].items()} == replayed
        assert len(r.claims["uefi_event_logs"]) == case["expected"]["parse"]["events_after_spec_id"]
        assert r.claims["event_log"]["kernel_cmdline"].startswith("/syslinux/vmlinuz.A ")
        json.dumps(r.to_dict())
        return
    with pytest.raises(cocoverify.CocoverifyError) as err:
        cocoverify.verify(quote, collateral=coll, at=AT, event_log=_ccel(case))
    assert err.value.reason.value == outcome
    if register is not None:
        assert isinstance(err.value, AuthenticityError) and err.value.exit_code == 3
        assert err.value.details["register"] == register
        assert register.upper() in str(err.value)
    else:
        assert isinstance(err.value, UnsupportedEvidence) and err.value.exit_code == 2


@pytest.mark.parametrize("case", CCEL_CASES, ids=lambda c: c["id"])
def test_cli_each_log_with_the_cos113_quote(
    case: dict[str, Any], cos: tuple[bytes, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, coll = cos
    outcome, _register = _expected(case)
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(COS / "cos-113-tdx-quote.dat"),
        *_cli_collateral(coll),
        "--at",
        AT,
        "--event-log",
        str(EL / case["id"] / case["files"]["ccel"]),
    )
    if outcome == "accept":
        assert rc == 0 and doc["accepted"] is True
        assert doc["claims"]["event_log"]["replayed"] == case["expected"]["replay"]["as_rtmr"]
    else:
        assert rc == (3 if outcome == Reason.EVENT_LOG_MISMATCH.value else 2)
        assert doc["reason"] == outcome


def test_trustee_json_by_content_through_verify_and_cli(
    cos: tuple[bytes, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quote, coll = cos
    log = _ccel(CASES["gotdx-cos113-ccel-with-quote"])
    doc = {
        "quote": base64.b64encode(quote).decode(),
        "cc_eventlog": base64.b64encode(log).decode(),
    }
    text = json.dumps(doc).encode()
    r = cocoverify.verify(text, collateral=coll, at=AT)
    assert r.accepted and len(r.claims["uefi_event_logs"]) == 43
    path = tmp_path / "evidence.json"
    path.write_bytes(text)
    rc, out = run_cli(capsys, "verify", str(path), *_cli_collateral(coll), "--at", AT)
    assert rc == 0, out
    other = dict(doc, cc_eventlog=base64.b64encode(_ccel(CASES["trustee-ccel-ovmf"])).decode())
    path.write_text(json.dumps(other))
    rc, out = run_cli(capsys, "verify", str(path), *_cli_collateral(coll), "--at", AT)
    assert rc == 3 and "event_log_mismatch" in out
    with pytest.raises(ConfigurationError):
        cocoverify.verify(text, collateral=coll, at=AT, event_log=log)


def test_the_quote_is_verified_before_the_log(cos: tuple[bytes, list[str]]) -> None:
    quote, _ = cos
    with pytest.raises(cocoverify.CocoverifyError) as err:
        cocoverify.verify(quote, at=AT, event_log=b"garbage")  # no collateral: the quote fails
    assert err.value.exit_code == 4


def test_trustee_claims_expected_for_tdshim() -> None:
    case = CASES.get("trustee-ccel-tdshim")
    if case is None:
        pytest.skip("real vectors not available")
    from cocoverify._core.eventlog import parse_event_log

    claims = json.loads((EL / case["id"] / case["files"]["peer_tdx_claims"]).read_text())
    assert uefi_event_logs(parse_event_log(_ccel(case))) == claims["uefi_event_logs"]


# --- legacy text AA event log ----------------------------------------------------------------


def _quote_inner(quote: bytes) -> Appraisal:
    """Claims read from the TD quote body (offsets 328..520), nothing verified: tests only."""
    body = quote[48:]
    claims = {f"rtmr{i}": body[328 + 48 * i : 376 + 48 * i] for i in range(4)}
    return Appraisal(tee="tdx", claims=MappingProxyType(claims))


def test_legacy_aael_text() -> None:
    case = CASES.get("trustee-legacy-aael-text")
    if case is None:
        pytest.skip("real vectors not available")
    base = EL / case["id"]
    for name, value in case["expected"]["replay"].items():
        assert replay_aael_text((base / name).read_bytes()).hex() == value
    quote = (base / case["files"]["quote"]).read_bytes()
    assert _quote_inner(quote).claims["rtmr3"].hex() == case["expected"]["quote_rtmr3"]
    a = appraise_with_log(
        quote, inner=_quote_inner, aa_event_log=(base / "AAEL_data_1").read_bytes()
    )
    entries = a.claims["aael"]
    assert entries[0]["init"] == bytes(48) and entries[1]["domain"]
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(
            quote, inner=_quote_inner, aa_event_log=(base / "AAEL_data_2").read_bytes()
        )
    assert (
        err.value.reason is Reason.EVENT_LOG_MISMATCH and err.value.details["register"] == "rtmr3"
    )
    for bad in (b"", b"INIT sha384/00\n", b"INIT sha384/" + b"00" * 48 + b"\nno-fields\n", b"\xff"):
        with pytest.raises(MalformedEvidence):
            appraise_with_log(quote, inner=_quote_inner, aa_event_log=bad)


# --- built logs: one defect at a time ---------------------------------------------------------


def _inner_for(rtmrs: dict[str, bytes], tee: str = "tdx") -> Any:
    return lambda _quote: Appraisal(tee=tee, claims=MappingProxyType(dict(rtmrs)))


def test_built_log_accepts_with_typed_claims() -> None:
    b = LogBuilder.typical()
    a = appraise_with_log(b"q", b.build(), inner=_inner_for(b.rtmrs()))
    typed = a.claims["event_log"]
    assert typed["kernel_cmdline"] == "/vmlinuz root=/dev/vda1 console=ttyS0"
    assert typed["kernel"] == "/vmlinuz" and typed["initrd"] == "/initrd.img"
    assert typed["grub_commands"][-1] == "initrd /initrd.img"
    assert typed["events"][3]["kernel_args"] == "root=/dev/vda1 console=ttyS0"
    no_cmdline = LogBuilder.typical()
    del no_cmdline.entries[4]  # grub_kernel_cmdline: the linux command stands in
    fallback = appraise_with_log(b"q", no_cmdline.build(), inner=_inner_for(no_cmdline.rtmrs()))
    assert fallback.claims["event_log"]["kernel_cmdline"] == "/vmlinuz root=/dev/vda1 console=ttyS0"
    assert [e["register"] for e in typed["events"]][:3] == ["rtmr0", "rtmr0", "rtmr1"]
    assert typed["events"][0]["details"]["unicode_name"] == "SecureBoot"
    assert typed["events"][0]["description"].startswith("EFI variable SecureBoot {")
    assert typed["events"][1]["description"] == "separator 00000000"
    assert typed["events"][3]["description"].startswith("EV_IPL 'grub_cmd linux")
    aael = a.claims["aael"]
    assert aael[0]["operation"] == "PullImage" and aael[0]["content"]["image"] == "busybox"
    assert aael[1]["content"] == "some content" and aael[1]["register"] == "rtmr3"
    assert a.claims["uefi_event_logs"][-1]["details"]["unicode_name"] == "AAEL"


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_a_changed_digest_names_its_register(index: int) -> None:
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    if index == 4:
        b.add(index, 0x6, aael_event("d", "o", "x"))
    else:
        b.add(index, 0x4, b"\0\0\0\0")
    with pytest.raises(AuthenticityError) as err:
        appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH
    assert err.value.details["register"] == f"rtmr{index - 1}"


def test_no_action_events_are_not_extended() -> None:
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    b.add(1, 0x3, b"StartupLocality\0\x03")  # EV_NO_ACTION: not extended (PFP)
    appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs))


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_rejects(defect: str) -> None:
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    with pytest.raises(MalformedEvidence):
        appraise_with_log(b"q", DEFECTS[defect](b), inner=_inner_for(rtmrs))


def test_sm3_only_and_non_tdx() -> None:
    b = LogBuilder.typical()
    rtmrs = b.rtmrs()
    with pytest.raises(UnsupportedEvidence) as err:
        appraise_with_log(b"q", b.build(), inner=_inner_for(rtmrs, tee="snp"))
    assert err.value.reason is Reason.UNSUPPORTED_TEE_TYPE
    sm3 = LogBuilder(algorithms=[(0x12, 32)])
    sm3.add(1, 0x4, b"\0\0\0\0", digests=[(0x12, bytes(32))])
    with pytest.raises(UnsupportedEvidence) as err:
        appraise_with_log(b"q", sm3.build(), inner=_inner_for(rtmrs))
    assert err.value.reason is Reason.UNSUPPORTED_ALGORITHM
    with pytest.raises(ConfigurationError):
        appraise_with_log(b"q", inner=_inner_for(rtmrs))


def test_trustee_evidence_recognition() -> None:
    assert trustee_evidence(b"\x04\x00") is None
    assert trustee_evidence(b'{"quote": "AAAA"}') is None  # no log: not this wrapper's
    q, ccel, aael = trustee_evidence(b'{"quote": "AAAA", "cc_eventlog": "AQI="}') or (
        b"",
        None,
        None,
    )
    assert (q, ccel, aael) == (b"\0\0\0", b"\x01\x02", None)
    with pytest.raises(MalformedEvidence):
        trustee_evidence(b'{"quote": "AAAA", "cc_eventlog": "!!"}')
    assert struct.calcsize("<I") == 4


def test_cli_aa_event_log(cos: tuple[bytes, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    # the legacy AAEL replays to AAEL_quote_tdx's RTMR3, not to COS-113's (all zeros)
    _, coll = cos
    base = EL / "trustee-legacy-aael-text"
    args = ["verify", str(COS / "cos-113-tdx-quote.dat"), *_cli_collateral(coll), "--at", AT]
    rc, doc = run_cli_json(capsys, *args, "--aa-event-log", str(base / "AAEL_data_1"))
    assert rc == 3 and doc["reason"] == "event_log_mismatch"
    rc, out = run_cli(capsys, *args, "--event-log", str(base / "missing"))
    assert rc == 1 and "invalid_argument" in out
