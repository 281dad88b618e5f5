"""trustee's generic ``tpm`` evidence: verified only under an attestation key the caller pins
(trustee trusts the evidence's own key); the shared vector accepts with its AK pinned."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import cocoverify
from cocoverify import CocoverifyError, Reason
from cocoverify.collateral import Collateral
from cocoverify.wrappers.azure import appraise_tpm, describe_tpm, detect_tpm
from cocoverify_testing.azure import AzureBuilder, attestation_key

from _shared import require_shared, shared_manifest
from _shared.cli import run_cli, run_cli_json

_MANIFEST = shared_manifest("azure")
_CASE = next(
    (c for c in (_MANIFEST or {}).get("cases", []) if c["id"] == "trustee-tpm-generic"), {}
)


def _vector(tmp_path: Path) -> tuple[Path, Path]:
    path = require_shared("azure") / "trustee-tpm-generic" / _CASE["files"]["evidence"]
    ak = tmp_path / "ak.der"
    ak.write_bytes(base64.b64decode(json.loads(path.read_text())["ak_public"]))
    return path, ak


def test_real_vector_accepts_with_its_ak_pinned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, ak = _vector(tmp_path)
    extra = _CASE["expected"]["own_checks"]["extraData_hex"]
    result = cocoverify.verify(path.read_bytes(), collateral=[str(ak)], expected_report_data=extra)
    assert result.accepted and result.tee == "tpm"
    claims = result.claims
    assert claims["report_data"] == extra and len(claims["init_data"]) == 64
    assert sorted(k for k in claims if k.startswith("pcr")) == [f"pcr{i:02d}" for i in range(24)]
    assert claims["ak_public"] == json.loads(path.read_text())["ak_public"]
    code, out = run_cli_json(
        capsys, "verify", str(path), "--collateral", str(ak), "--format", "json"
    )
    assert code == 0 and out["tee"] == "tpm"
    code, _ = run_cli(capsys, "verify", str(path))
    assert code == 3  # the AK is not pinned
    code, _ = run_cli(capsys, "verify", str(path), "--collateral", str(ak), "--report-data", "ff")
    assert code == 5


def test_unpinned_or_other_ak_is_untrusted() -> None:
    b = AzureBuilder()
    data = b.tpm_evidence()
    assert detect_tpm(data) == "tpm" and describe_tpm(data)["kind"] == "tpm"
    for coll in (Collateral(), Collateral(public_keys=(attestation_key(2).public_key(),))):
        with pytest.raises(CocoverifyError) as exc:
            appraise_tpm(data, collateral=coll)
        assert exc.value.reason is Reason.UNTRUSTED_ROOT


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        (None, None),
        ("quote_signed_by_other_key", Reason.SIGNATURE_INVALID),
        ("signature_bit_flip", Reason.SIGNATURE_INVALID),
        ("pcr_value_changed", Reason.BINDING_INVALID),
        ("selection_narrower", Reason.BINDING_INVALID),
        ("attest_trailing", Reason.TRAILING_DATA),
    ],
)
def test_fake_tpm_evidence(defect: str | None, reason: Reason | None) -> None:
    b = AzureBuilder()
    coll = Collateral.from_bytes(b.ak_pem())
    if reason is None:
        a = appraise_tpm(b.tpm_evidence(), collateral=coll)
        assert a.tee == "tpm" and a.report_data == b.nonce
        return
    with pytest.raises(CocoverifyError) as exc:
        appraise_tpm(b.tpm_evidence(defect), collateral=coll)
    assert exc.value.reason is reason
