"""Fuzz the TCG event log parser and the TDX event-log wrapper (docs/eventlog.md).

    python tests/wrappers/fuzz_tdx_eventlog.py                   # atheris, else 20000 mutations
    python tests/wrappers/fuzz_tdx_eventlog.py --mutations 5000  # the mutation loop only

One input feeds the parser, trustee's JSON shape, the wrapper (with an ``inner`` that returns
the built log's registers), the legacy text AAEL and the trustee JSON recognition. Seeds: the
built log and, when ../shared is checked out, the real logs of ../shared/vectors/tdx-eventlog.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

import _harness

from cocoverify import CocoverifyError
from cocoverify._core.eventlog import parse_event_log
from cocoverify.result import Appraisal
from cocoverify.wrappers.tdx_eventlog import (
    appraise_with_log,
    replay_aael_text,
    trustee_evidence,
    uefi_event_logs,
)
from cocoverify_testing.eventlog import LogBuilder

BUILDER = LogBuilder.typical()
RTMRS = MappingProxyType(BUILDER.rtmrs())
SHARED = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "tdx-eventlog"


def seeds() -> list[bytes]:
    out = [BUILDER.build(), b"INIT sha384/" + b"00" * 48 + b"\nd op content\n"]
    for name in ("CCEL_data", "CCEL_AAEL_alibabacloud", "cos-113-intel-tdx.bin"):
        out += [p.read_bytes()[:6000] for p in sorted(SHARED.glob(f"*/{name}"))]
    return out


def _inner(_quote: bytes) -> Appraisal:
    return Appraisal(tee="tdx", claims=RTMRS)


def target(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        uefi_event_logs(parse_event_log(data))
    with contextlib.suppress(CocoverifyError):
        replay_aael_text(data)
    with contextlib.suppress(CocoverifyError):
        trustee_evidence(data)
    appraise_with_log(b"q", data, inner=_inner)


if __name__ == "__main__":
    _harness.main(target, seeds(), sys.argv)
