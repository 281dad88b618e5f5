"""Verifier(collateral_source=...): the pipelines ask the source (collateral/source.py protocol)
for what they need, with typed requests (collateral/requests.py)."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import pytest

from cocoverify import Collateral, CollateralUnavailable, Verifier, load_collateral
from cocoverify.collateral.requests import CollateralRequest, IntelRequest

from _shared import require_shared


class RecordingSource:
    """A CollateralSource serving fixed collateral and recording the requests."""

    def __init__(self, collateral: Collateral) -> None:
        self.collateral = collateral
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def fetch(self, request: CollateralRequest, *, at: dt.datetime) -> Collateral:
        if isinstance(request, IntelRequest):
            self.calls.append(
                ("intel", {"fmspc": request.fmspc, "ca": request.ca, "tee": request.tee, "at": at})
            )
        else:
            self.calls.append(
                (
                    "amd",
                    {
                        "product": request.product,
                        "hwid": request.hwid,
                        "reported_tcb": request.spl,
                        "key_type": request.key_type,
                    },
                )
            )
        return self.collateral


class NoSource(RecordingSource):
    def fetch(self, request: CollateralRequest, *, at: dt.datetime) -> Collateral:
        raise CollateralUnavailable("offline")


def test_intel_collateral_from_source() -> None:
    base = require_shared("intel") / "tdx-v4-dcapqvl-sample"
    source = RecordingSource(load_collateral([base]))
    r = Verifier(collateral_source=source).verify(
        (base / "tdx_quote").read_bytes(), at="2025-07-04T10:16:31Z"
    )
    assert r.accepted
    assert source.calls == [
        (
            "intel",
            {
                "fmspc": bytes.fromhex("B0C06F000000"),
                "ca": "platform",
                "tee": "tdx",
                "at": r.verified_at,
            },
        )
    ]
    with pytest.raises(CollateralUnavailable):
        Verifier(collateral_source=NoSource(Collateral())).verify(
            (base / "tdx_quote").read_bytes(), at="2025-07-04T10:16:31Z"
        )


def _amd(case: str) -> tuple[Path, bytes]:
    base = require_shared("amd") / case
    return base, (base / "report.bin").read_bytes()


def test_amd_certificates_from_source_only_when_missing() -> None:
    base, report = _amd("ms-turin-v5-vcek")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chain = load_collateral([base / "vcek.pem", base / "ask.pem", base / "ark.pem"])
    source = RecordingSource(chain)
    at = "2026-06-01T00:00:00Z"
    r = Verifier(collateral_source=source).verify(report, at=at)
    assert r.accepted and r.claims["product"] == "Turin"
    ((kind, args),) = source.calls
    assert kind == "amd" and args["product"] == "Turin" and args["key_type"] == "vcek"
    assert set(args["reported_tcb"]) == {"bl_spl", "tee_spl", "snp_spl", "ucode_spl", "fmc_spl"}
    # the typed request holds what KDS is asked for: the first 8 bytes of a Turin CHIP_ID
    assert args["hwid"] == r.claims["chip_id"][:8]
    # certificates supplied: the source is not asked
    source2 = RecordingSource(Collateral())
    assert Verifier(collateral=chain, collateral_source=source2).verify(report, at=at).accepted
    assert source2.calls == []
