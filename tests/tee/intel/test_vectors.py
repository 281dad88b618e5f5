"""The project's own Intel vectors (vectors/manifest.json) through ``cocoverify.verify``.

Each entry states the outcome: ``accept`` (with the TCB status) or the ``Reason`` code of
the raised error and the CLI exit code its class implies. The regeneration test checks
that ``cocoverify_testing.intel.generate_vectors`` reproduces the committed files byte for
byte, so the manifest cannot drift from the generator.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import (
    AuthenticityError,
    CocoverifyError,
    CollateralError,
    EvidenceError,
    Policy,
    PolicyRejected,
    TrustStore,
    load_collateral,
)
from cocoverify_testing.intel import AT, FakeIntelPKI, QuoteBuilder, generate_vectors, write_samples

from _shared import PROJECT_VECTORS

MANIFEST = PROJECT_VECTORS / "manifest.json"
ERROR_CLASS: dict[int, type[CocoverifyError]] = {
    2: EvidenceError,
    3: AuthenticityError,
    4: CollateralError,
    5: PolicyRejected,
}


def _intel_cases() -> list[dict[str, Any]]:
    if not MANIFEST.is_file():
        return []
    with open(MANIFEST, encoding="utf-8") as fh:
        cases: list[dict[str, Any]] = json.load(fh)["cases"]
    return [c for c in cases if c["platform"] in ("sgx", "tdx")]


CASES = _intel_cases()


@pytest.fixture(scope="module")
def pipeline() -> None:
    """Skip (naming why) while the Intel verifier pipeline is not importable."""
    pytest.importorskip("cocoverify.tee.intel.pipeline", reason="Intel pipeline not available")


def _run(entry: dict[str, Any], base: Path) -> cocoverify.VerificationResult:
    trust = entry["trust"]
    return cocoverify.verify(
        (base / entry["evidence"]).read_bytes(),
        collateral=load_collateral([base / p for p in entry["collateral"]]),
        trust=TrustStore(**trust) if trust is not None else TrustStore.default(),
        policy=Policy.from_dict(entry["policy"]),
        at=entry["at"],
    )


def test_manifest_is_present() -> None:
    assert MANIFEST.is_file(), "run: python vectors/generate.py"
    assert len(CASES) > 100


@pytest.mark.usefixtures("pipeline")
@pytest.mark.parametrize("entry", CASES, ids=[c["id"] for c in CASES])
def test_intel_vector(entry: dict[str, Any]) -> None:
    expected_status = entry.get("expected_tcb_status")
    if entry["expected"] == "accept":
        assert entry["exit_code"] == 0
        result = _run(entry, PROJECT_VECTORS)
        assert result.accepted
        if expected_status is not None:
            assert result.tcb_status == expected_status
        return
    with pytest.raises(CocoverifyError) as info:
        _run(entry, PROJECT_VECTORS)
    err = info.value
    assert err.reason.value == entry["expected"]
    assert err.exit_code == entry["exit_code"]
    assert isinstance(err, ERROR_CLASS[entry["exit_code"]])
    if expected_status is not None:
        assert err.result is not None
        assert err.result.tcb_status == expected_status


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_regeneration_reproduces_manifest_and_files(tmp_path: Path) -> None:
    fresh = generate_vectors(tmp_path)
    assert [(c["id"], c["expected"], c.get("expected_tcb_status")) for c in fresh] == [
        (c["id"], c["expected"], c.get("expected_tcb_status")) for c in CASES
    ]
    assert fresh == CASES  # every field, paths included
    assert _tree(tmp_path / "intel") == _tree(PROJECT_VECTORS / "intel")


def test_regeneration_is_deterministic(tmp_path: Path) -> None:
    generate_vectors(tmp_path / "a")
    generate_vectors(tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    write_samples(tmp_path / "sa")
    assert _tree(tmp_path / "sa") == _tree(PROJECT_VECTORS / "sample")


def test_every_negative_case_has_one_reason_and_cases_share_common_collateral() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert c["at"] == AT
        assert (PROJECT_VECTORS / c["evidence"]).is_file()
        for p in c["collateral"]:
            assert (PROJECT_VECTORS / p).is_file(), p
    expected = {c["expected"] for c in CASES}
    # every reason the Intel brief asks for is exercised
    assert {
        "accept",
        "tcb_status_rejected",
        "tcb_not_supported",
        "tdx_module_identity_missing",
        "tdx_module_mismatch",
        "untrusted_root",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_revoked",
        "crl_invalid",
        "crl_expired",
        "collateral_mismatch",
        "collateral_signature_invalid",
        "collateral_expired",
        "collateral_not_yet_valid",
        "collateral_chain_invalid",
        "collateral_missing",
        "qe_report_data_mismatch",
        "qe_report_signature_invalid",
        "signature_invalid",
        "qe_identity_mismatch",
        "qe_vendor_id_unknown",
        "unsupported_key_type",
        "unsupported_version",
        "unsupported_tee_type",
        "unsupported_certification_data",
        "truncated",
        "debug_enabled",
        "attribute_rejected",
        "measurement_mismatch",
    } <= expected
    size = sum(len(b) for b in _tree(PROJECT_VECTORS / "intel").values())
    assert size < 2_000_000


@pytest.mark.usefixtures("pipeline")
@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_samples_verify(tee: str) -> None:
    base = PROJECT_VECTORS / "sample"
    trust = TrustStore(intel_roots=frozenset({FakeIntelPKI().root_fingerprint()}))
    result = cocoverify.verify(
        (base / tee / "quote.bin").read_bytes(),
        collateral=[base / tee / "collateral"],
        trust=trust,
        at=AT,
    )
    assert result.tcb_status == "UpToDate"


# --- arbitrary damage only ever raises cocoverify errors -----------------------------------

_PKI = FakeIntelPKI()
_GOOD = {
    "sgx": QuoteBuilder.sgx().sign(_PKI),
    "tdx": QuoteBuilder.tdx(version=5, body_type=3).sign(_PKI),
}


@functools.cache
def _collateral(tee: str) -> cocoverify.Collateral:
    entry = next(c for c in CASES if c["id"] == f"{tee}.good.{'v3' if tee == 'sgx' else 'v4'}")
    return load_collateral([PROJECT_VECTORS / p for p in entry["collateral"]])


@pytest.mark.usefixtures("pipeline")
@pytest.mark.parametrize("tee", ["sgx", "tdx"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_quotes_raise_only_cocoverify_errors(tee: str, data: st.DataObject) -> None:
    good = bytearray(_GOOD[tee])
    action = data.draw(st.sampled_from(["flip", "truncate", "splice"]))
    if action == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(good) - 1))
            good[i] ^= data.draw(st.integers(1, 255))
    elif action == "truncate":
        del good[data.draw(st.integers(0, len(good) - 1)) :]
    else:
        i = data.draw(st.integers(0, len(good)))
        good[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    trust = TrustStore(intel_roots=frozenset({_PKI.root_fingerprint()}))
    with contextlib.suppress(CocoverifyError):
        cocoverify.verify(bytes(good), collateral=_collateral(tee), trust=trust, at=AT)
