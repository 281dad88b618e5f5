"""_core.eventlog: every real log in shared/vectors/tdx-eventlog parses and replays to its
manifest values, the trustee JSON shape equals trustee's golden output, and each one-defect
log from cocoverify_testing.eventlog is MalformedEvidence naming the event's offset."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest

from cocoverify._core.eventlog import MAX_LOG_SIZE, parse_event_log
from cocoverify.errors import MalformedEvidence, Reason
from cocoverify.wrappers.tdx_eventlog import uefi_event_logs
from cocoverify_testing.eventlog import DEFECTS, LogBuilder

from _shared import SHARED_VECTORS, shared_manifest

VECTORS = SHARED_VECTORS / "tdx-eventlog"
REPLAY = [
    c for c in (shared_manifest("tdx-eventlog") or {"cases": []})["cases"] if "ccel" in c["files"]
]


def _log(case: dict[str, Any]) -> bytes:
    return (VECTORS / case["id"] / case["files"]["ccel"]).read_bytes()


@pytest.mark.parametrize("case", REPLAY, ids=lambda c: c["id"])
def test_parse_and_replay_as_the_manifest(case: dict[str, Any]) -> None:
    log = parse_event_log(_log(case))
    parse = case["expected"]["parse"]
    assert log.spec_id.mr_index == parse["spec_id_event_mr_index"]
    assert {f"{a:#x}": s for a, s in log.spec_id.algorithms} == parse["digest_algorithms"]
    assert len(log.events) == parse["events_after_spec_id"]
    assert log.end_offset == parse["log_end_offset"]
    replay = case["expected"]["replay"]
    for index, value in replay["by_mr_index"].items():
        assert log.replay(int(index), replay["algorithm"]).hex() == value
        # trustee extends EV_NO_ACTION too; on every real log both rules agree
        assert log.replay(int(index), replay["algorithm"], skip_no_action=False).hex() == value
    counts = Counter(f"{e.mr_index}:{e.event_type:#x}" for e in log.events)
    assert dict(counts) == case["event_counts_by_mr_index_and_type"]


@pytest.mark.parametrize("case", REPLAY, ids=lambda c: c["id"])
def test_padding_byte(case: dict[str, Any]) -> None:
    # td-shim pads with 0x00, OVMF/TDVF with 0xFF (gcp is untrimmed: its own padding)
    log = parse_event_log(_log(case))
    expected = 0 if case["id"] == "trustee-ccel-tdshim" else 0xFF
    if log.padding is not None:
        assert log.padding == expected


@pytest.mark.parametrize(
    "case", [c for c in REPLAY if "peer_uefi_event_logs" in c["files"]], ids=lambda c: c["id"]
)
def test_trustee_json_equals_trustee_golden_output(case: dict[str, Any]) -> None:
    golden = json.loads((VECTORS / case["id"] / case["files"]["peer_uefi_event_logs"]).read_text())
    ours = uefi_event_logs(parse_event_log(_log(case)))
    assert ours == golden["uefi_event_logs"]
    peer = case["expected"]["peer_json"]
    assert len(ours) == peer["entries"]
    assert sum(e["digest_matches_event"] for e in ours) == peer["digest_matches_event_true"]


def test_views_are_frozen() -> None:
    log = parse_event_log(LogBuilder.typical().build())
    with pytest.raises(dataclasses.FrozenInstanceError):
        log.events[0].mr_index = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        log.events[0].details["unicode_name"] = "x"  # type: ignore[index]
    assert isinstance(log.events, tuple)


def test_builder_log_replays_as_built() -> None:
    b = LogBuilder.typical()
    log = parse_event_log(b.build())
    assert [log.replay(i + 1).hex() for i in range(4)] == [v.hex() for v in b.rtmrs().values()]
    assert log.padding == 0xFF
    assert log.events[-1].details["data"]["operation"] == "op"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_malformed_with_an_offset(defect: str) -> None:
    b = LogBuilder.typical()
    data = DEFECTS[defect](b)
    with pytest.raises(MalformedEvidence) as err:
        parse_event_log(data)
    assert err.value.reason is Reason.MALFORMED
    assert err.value.offset is not None and 0 <= err.value.offset < len(data)
    assert f"offset {err.value.offset}" in str(err.value)


def test_truncations_of_a_real_log_never_crash() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"real vectors not available: {VECTORS} is absent")
    data = (VECTORS / "trustee-ccel-tdshim" / "CCEL_data").read_bytes()
    for n in range(0, 600, 7):
        try:
            parse_event_log(data[:n])
        except MalformedEvidence as exc:
            assert exc.offset is not None


def test_bounds() -> None:
    with pytest.raises(MalformedEvidence):
        parse_event_log(bytes(MAX_LOG_SIZE + 1))
    with pytest.raises(MalformedEvidence):
        parse_event_log("not bytes")  # type: ignore[arg-type]
