"""Policy verdicts reused across appraisals that differ only in REPORTDATA (``api._evaluate``).

The reuse rests on one fact: no policy rule reads REPORTDATA except the binding asked with
``expected_report_data`` (then nothing is reused). These tests check that fact on every
Intel policy field, and that reused verdicts equal freshly evaluated ones, accepted or not.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest

from cocoverify import CocoverifyError, Policy, Verifier, api, registry
from cocoverify.tee.intel.claims import StaticParts
from cocoverify_testing.intel import NOW, QuoteBuilder

from _shared.intel import PKI, TRUST, collateral

H48, H32 = "ab" * 48, "cd" * 32

POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "tdx_everything": {
        "tdx": {
            **{k: [H48] for k in ("mr_td", "mr_config_id", "mr_owner", "mr_owner_config")},
            **{f"rtmr{i}": [H48] for i in range(4)},
            "mr_seam": [H48],
            "mr_signer_seam": [H48],
            "mr_service_td": [H48],
            "td_attributes_mask": "ff" * 8,
            "td_attributes_value": "00" * 8,
            "xfam_mask": "ff" * 8,
            "xfam_value": "00" * 8,
            "unsafe_allow_sept_ve_disabled": True,
        },
        "unsafe_allow_debug": True,
    },
    "sgx_everything": {
        "sgx": {
            "mr_enclave": [H32],
            "mr_signer": [H32],
            "isv_prod_id": [1],
            "min_isv_svn": 3,
            "config_id": ["00" * 64],
            "min_config_svn": 0,
            "isv_ext_prod_id": ["00" * 16],
            "isv_family_id": ["00" * 16],
            "attributes_mask": "ff" * 16,
            "attributes_value": "00" * 16,
            "misc_select_mask": "ffffffff",
            "misc_select_value": "00000000",
        }
    },
    "strict_tcb": {"accepted_tcb_statuses": ["UpToDate"], "allowed_advisory_ids": []},
}


def _builders() -> dict[str, QuoteBuilder]:
    return {
        "sgx": QuoteBuilder.sgx(),
        "tdx": QuoteBuilder.tdx(),
        "td15": QuoteBuilder.tdx(version=5, body_type=3),
    }


def _outcome(v: Verifier, quote: bytes) -> dict[str, Any]:
    try:
        return {"ok": v.verify(quote, at=NOW).to_dict()}
    except CocoverifyError as exc:
        assert exc.result is not None or exc.reason.value
        return {"reason": exc.reason.value, "result": exc.result and exc.result.to_dict()}


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kind", ["sgx", "tdx", "td15"])
def test_no_rule_reads_report_data(kind: str, policy: str) -> None:
    tee = "sgx" if kind == "sgx" else "tdx"
    pol = Policy.from_dict(POLICIES[policy])
    v = Verifier(trust=TRUST, collateral=collateral(tee), policy=pol)
    quote = _builders()[kind].build(PKI).data
    try:
        appraisal = v.verify(quote, at=NOW)
        claims_result = appraisal
    except CocoverifyError as exc:
        assert exc.result is not None
        claims_result = exc.result
    assert claims_result.claims["report_data"]
    base = registry.detect(quote).appraise(
        quote, collateral=v.collateral, trust=TRUST, at=NOW, source=None, require_crl=False
    )
    assert isinstance(base.policy_key[1], StaticParts)  # type: ignore[index]
    other = dataclasses.replace(
        base,
        claims={**base.claims, "report_data": b"\x77" * 64},
        report_data=b"\x77" * 64,
        policy_key=None,
    )
    assert pol.evaluate(base, at=NOW) == pol.evaluate(other, at=NOW)


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kind", ["sgx", "tdx", "td15"])
def test_reused_verdicts_equal_fresh_ones(
    kind: str, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tee = "sgx" if kind == "sgx" else "tdx"
    pol = Policy.from_dict(POLICIES[policy])
    v = Verifier(trust=TRUST, collateral=collateral(tee), policy=pol)
    quotes = [_builders()[kind].report_data(bytes([i]) * 64).sign(PKI) for i in range(4)]
    reused = [_outcome(v, q) for q in quotes]
    api._VERDICTS.clear()
    fresh = []
    for q in quotes:
        api._VERDICTS.clear()
        fresh.append(_outcome(v, q))
    assert reused == fresh
    # a binding or a time rule bypasses the reuse
    calls: list[int] = []
    evaluate = Policy.evaluate

    def counting(self: Policy, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(Policy, "evaluate", counting)
    kept = bool(api._VERDICTS)  # verdicts holding lists are not shared
    assert kept or policy != "default"
    for q in quotes:
        _outcome(v, q)
    assert len(calls) == (0 if kept else len(quotes))
    calls.clear()
    for q in quotes:
        with contextlib.suppress(CocoverifyError):
            v.verify(q, at=NOW, expected_report_data=q[-100:-36])
    assert len(calls) == len(quotes)
