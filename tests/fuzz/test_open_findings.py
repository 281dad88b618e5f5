"""One strict-xfail test per entry of tests/fuzz/open_findings.py: each asserts the correct
behaviour, fails today (the verifier bug the mutation sweep found and the lead was told of),
and turns into an XPASS failure once the bug is fixed, so the entry and its xfail mark must
then be removed. Each names the mutant that showed it."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _cases  # noqa: E402
import open_findings  # noqa: E402

from cocoverify import CocoverifyError, Policy, Verifier  # noqa: E402
from cocoverify._core.eventlog import parse_event_log  # noqa: E402
from cocoverify.collateral import Collateral  # noqa: E402

PROJECT = HERE.parents[1] / "vectors"


def _mutated(path: Path, offset: int, value: int) -> bytes:
    raw = bytearray(path.read_bytes())
    raw[offset] = value
    return bytes(raw)


def test_every_open_entry_has_a_test() -> None:
    names = {e.name for e in open_findings.OPEN}
    assert names == set()


# found by the sweep as eventlog-event-type-changed, fixed with unbound_event's retyping check
def test_aael_event_retyped_as_separator_is_refused() -> None:
    logging.disable(logging.WARNING)
    case = _cases.project("eventlog.good.policy")
    doc = json.loads(case.evidence)
    log = bytearray(base64.b64decode(doc["cc_eventlog"]))
    event = next(e for e in parse_event_log(bytes(log)).events if b"coco.com" in e.data)
    start = event.offset  # the AAEL EV_EVENT_TAG event
    log[start + 4 : start + 8] = (4).to_bytes(4, "little")  # EV_EVENT_TAG -> EV_SEPARATOR
    doc["cc_eventlog"] = base64.b64encode(bytes(log)).decode()
    with pytest.raises(CocoverifyError):
        case.verifier().verify(json.dumps(doc).encode(), at=case.at)


# found by the sweep as eventlog-unrecognised-event-data, fixed in 047976f
def test_unrecognised_event_data_changed_under_its_digest_is_refused() -> None:
    logging.disable(logging.WARNING)
    case = _cases.project("eventlog.good.policy")
    doc = json.loads(case.evidence)
    log = bytearray(base64.b64decode(doc["cc_eventlog"]))
    i = bytes(log).find(b"grub_cmd linux")  # the EV_IPL event at offset 360
    log[i + 7] ^= 0x01  # 'grub_cmd' -> 'grub_cme': the digest is unchanged, replay matches
    doc["cc_eventlog"] = base64.b64encode(bytes(log)).decode()
    with pytest.raises(CocoverifyError):
        case.verifier().verify(json.dumps(doc).encode(), at=case.at)


# found by the sweep as eventlog-event-data-not-bound, fixed in 1226087 (unbound_event)
def test_event_data_changed_under_its_digest_is_refused() -> None:
    logging.disable(logging.WARNING)
    case = _cases.project("eventlog.good.policy")
    doc = json.loads(case.evidence)
    log = bytearray(base64.b64decode(doc["cc_eventlog"]))
    i = bytes(log).find(b"console=ttyS0", 479)  # in the grub_kernel_cmdline EV_IPL event
    log[i : i + 13] = b"evil=1 ttyS0 "  # same length; the event's digest is unchanged
    doc["cc_eventlog"] = base64.b64encode(bytes(log)).decode()
    policy = Policy.from_dict({"eventlog": {"kernel_cmdline_contains": ["evil=1"]}})
    with pytest.raises(CocoverifyError):
        case.verifier().verify(json.dumps(doc).encode(), at=case.at, policy=policy)


# found by the sweep as "raised ValueError / UnsupportedAlgorithm", fixed in aec7871
@pytest.mark.parametrize(
    ("name", "offset", "value"), [("brom", 640, 0x74), ("brom", 92, 0x1E), ("leaf", 61, 0x83)]
)
def test_damaged_ocsp_response_is_a_cocoverify_error(name: str, offset: int, value: int) -> None:
    case = _cases.project("nvidia.good.ocsp")
    base = PROJECT / "nvidia" / "nvidia.good.ocsp"
    coll = Collateral()
    for f in ("brom.ocsp.der", "chain.pem", "leaf.ocsp.der"):
        raw = (
            _mutated(base / f, offset, value)
            if f == f"{name}.ocsp.der"
            else (base / f).read_bytes()
        )
        coll = coll + Collateral.from_bytes(raw, source=f)
    kw = {k: v for k, v in case.kwargs.items() if k not in ("at", "collateral")}
    # refused cleanly (or accepted): either is fine here, an internal error is not
    with contextlib.suppress(CocoverifyError):
        Verifier(collateral=coll, **kw).verify(case.evidence, at=case.at)


# found by the sweep as pem-damaged-block-dropped, fixed for issue 11 (_core/pem.py)
def test_damaged_end_line_is_collateral_malformed() -> None:
    path = PROJECT / "intel" / "common" / "pck_crl_issuer_chain_processor.pem"
    raw = _mutated(path, 1883, 0x1F)  # "-----END CERTIFICATE-----" -> "\x1f----END ..."
    with pytest.raises(CocoverifyError):
        Collateral.from_bytes(raw, source=path.name)
