"""The public API: Verifier reuse across threads, asyncio, immutability, time handling, results
as JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import cocoverify
from cocoverify import ConfigurationError, Policy, Reason, Verifier, load_collateral

from _shared import require_shared

CASE, QUOTE, AT = "tdx-v4-dcapqvl-sample", "tdx_quote", "2025-07-04T10:16:31Z"


def _setup() -> tuple[bytes, Verifier]:
    base = require_shared("intel") / CASE
    return (base / QUOTE).read_bytes(), Verifier(collateral=load_collateral([base]))


def test_verifier_shared_between_threads() -> None:
    quote, verifier = _setup()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: verifier.verify(quote, at=AT), range(16)))
    assert {r.tcb_status for r in results} == {"UpToDate"}
    assert len({r.claims["mr_td"] for r in results}) == 1


def test_async_entry_points() -> None:
    quote, verifier = _setup()

    async def main() -> list[cocoverify.VerificationResult]:
        return list(
            await asyncio.gather(
                verifier.averify(quote, at=AT),
                cocoverify.averify(quote, collateral=verifier.collateral, at=AT),
            )
        )

    assert [r.accepted for r in asyncio.run(main())] == [True, True]


def test_results_and_verifier_are_immutable() -> None:
    quote, verifier = _setup()
    r = verifier.verify(quote, at=AT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.accepted = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.claims["mr_td"] = b""  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        verifier.policy = Policy()  # type: ignore[misc]


def test_time_is_an_argument() -> None:
    quote, verifier = _setup()
    r = verifier.verify(quote, at=dt.datetime(2025, 7, 4, 10, 16, 31, tzinfo=dt.UTC))
    assert r.verified_at.isoformat() == "2025-07-04T10:16:31+00:00"
    with pytest.raises(ConfigurationError) as ei:
        verifier.verify(quote, at=dt.datetime(2025, 7, 4))  # naive: ambiguous
    assert ei.value.reason is Reason.INVALID_ARGUMENT
    for wrong in (1751624191, 1751624191.0, dt.date(2025, 7, 4)):  # was AttributeError
        with pytest.raises(ConfigurationError) as ei:
            verifier.verify(quote, at=wrong)  # type: ignore[arg-type]
        assert ei.value.reason is Reason.INVALID_ARGUMENT
    with pytest.raises(cocoverify.CollateralError):
        verifier.verify(quote)  # now (2026+): this 2025 collateral has expired


def test_per_call_policy_override() -> None:
    quote, verifier = _setup()
    strict = Policy.from_dict({"tdx": {"mr_td": ["00" * 48]}})
    with pytest.raises(cocoverify.MeasurementMismatch):
        verifier.verify(quote, at=AT, policy=strict)
    assert verifier.verify(quote, at=AT).accepted


def test_result_to_dict_is_json() -> None:
    quote, verifier = _setup()
    r = verifier.verify(quote, at=AT)
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["accepted"] is True and doc["tee"] == "tdx" and doc["reason"] is None
    assert doc["claims"]["mr_td"] == r.claims["mr_td"].hex()
    assert doc["claims"]["pck"]["fmspc"] == "b0c06f000000"
    assert doc["collateral"]["tcb_evaluation_data_number"] >= 1
