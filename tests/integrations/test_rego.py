"""Optional Rego policies over verified claims (trustee's input shape), library and CLI."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import ear, rego, trustee
from cocoverify.cli import main
from cocoverify.errors import ConfigurationError, PolicyRejected, Reason
from cocoverify.result import RuleVerdict, VerificationResult, freeze
from integrations._fixtures import synthetic_result

from _shared import require_shared, shared_manifest

pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")

AT = dt.datetime(2025, 7, 4, 10, 28, 44, tzinfo=dt.UTC)

# Written for these tests in the style of a CoCo AS CPU policy: package policy, AR4SI
# trust_claims computed from the annotated evidence.
TDX_POLICY = """
package policy
import rego.v1

default hardware := 97
default executables := 33
default configuration := 36

hardware := 2 if {
    input.tdx.quote.header.tee_type == "81000000"
    input.tdx.tcb_status == "UpToDate"
}

executables := 3 if {
    input.tdx.quote.body.mr_td in data.reference.mr_td
}

configuration := 2 if {
    not input.tdx.td_attributes.debug
}

trust_claims := {
    "hardware": hardware,
    "executables": executables,
    "configuration": configuration,
}
"""


def _synthetic(tee: str = "sgx") -> VerificationResult:
    return VerificationResult(
        accepted=True,
        tee=tee,
        verified_at=AT,
        tcb_status="UpToDate",
        claims=freeze({"report_data": b"\x02" * 64, "config_id": b"\x03" * 64, "x": 1}),
        policy=(RuleVerdict("debug", True, actual=False),),
    )


def _tdx() -> tuple[VerificationResult, Path, str]:
    base = require_shared("intel")
    case = next(
        c for c in (shared_manifest("intel") or {})["cases"] if c["id"] == "tdx-v4-dcapqvl-sample"
    )
    folder = base / case["id"]
    result = cocoverify.verify(
        (folder / "tdx_quote").read_bytes(), collateral=[folder], at=case["verify_at"]
    )
    return result, folder, case["verify_at"]


# --- input shape ------------------------------------------------------------------------------


def test_trustee_input_shape() -> None:
    inp = rego.trustee_input(_synthetic(), runtime_data_claims={"nonce": "n"})
    assert set(inp) == {"sgx", "report_data", "init_data", "runtime_data_claims",
                        "init_data_claims"}  # fmt: skip
    assert inp["report_data"] == "02" * 64
    assert inp["init_data"] == "03" * 64
    assert inp["runtime_data_claims"] == {"nonce": "n"}
    assert inp["init_data_claims"] is None
    assert "report_data" not in inp["sgx"]


def test_trustee_input_of_a_real_tdx_quote() -> None:
    result, _, _ = _tdx()
    inp = rego.trustee_input(result)
    assert inp["report_data"] == result.claims["report_data"].hex()
    assert inp["init_data"] == result.claims["mr_config_id"].hex()
    assert inp["tdx"]["quote"]["header"]["tee_type"] == "81000000"
    assert inp["tdx"]["tcb_status"] == "UpToDate"
    json.dumps(inp)


# --- evaluation -------------------------------------------------------------------------------


def test_evaluate_values_and_undefined() -> None:
    text = "package policy\nimport rego.v1\nallow if input.a == data.want\n"
    assert rego.evaluate_rego(text, {"a": 1}, data={"want": 1}) == {"allow": True}
    assert rego.evaluate_rego(text, {"a": 2}, data={"want": 1}) == {}
    assert rego.evaluate_rego(text, {"a": 2}, query="data.policy.allow") is None
    assert rego.evaluate_rego(text, {"a": b"\x01"}, query="input.a") == "01"  # bytes as hex


@pytest.mark.parametrize(
    "text",
    [
        "package policy\n allow if {",
        "package policy\nimport rego.v1\nx := 1 if input.a == 1\nx := 2 if input.a == 1\n",
    ],
)
def test_broken_policies_are_configuration_errors(
    text: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigurationError) as err:
        rego.evaluate_rego(text, {"a": 1})
    assert err.value.reason is Reason.INVALID_POLICY
    assert capfd.readouterr().out == ""  # rego-cpp's own error printing is off


def test_missing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake(name: str, *a: Any) -> Any:
        if name == "regopy":
            raise ImportError(name)
        return real(name, *a)

    monkeypatch.setattr(rego.importlib, "import_module", fake)
    with pytest.raises(ConfigurationError) as err:
        rego.evaluate_rego("package policy", {})
    assert err.value.reason is Reason.INVALID_CONFIGURATION


# --- decisions --------------------------------------------------------------------------------


def test_allow_true_accepts() -> None:
    d = rego.check_rego(_synthetic(), "package policy\nimport rego.v1\nallow if input.sgx.x == 1")
    assert d.allowed and d.trust_claims == {}


def test_allow_false_rejects() -> None:
    text = "package policy\nimport rego.v1\ndefault allow := false\nallow if input.sgx.x == 2"
    with pytest.raises(PolicyRejected) as err:
        rego.check_rego(_synthetic(), text)
    assert err.value.reason is Reason.REGO_REJECTED
    res = err.value.result
    assert res is not None and not res.accepted and res.reason is Reason.REGO_REJECTED
    assert [v.rule for v in res.failed_rules()] == ["rego"]
    assert err.value.exit_code == 5


def test_allow_must_be_exactly_true() -> None:
    with pytest.raises(PolicyRejected):
        rego.check_rego(_synthetic(), 'package policy\nallow := "yes"')


@pytest.mark.parametrize("executables", [96, 33])  # contraindicated, warning
def test_a_status_that_is_not_affirming_rejects(executables: int) -> None:
    # trustee's KBS affirming.rego releases nothing for a warning: neither does check_rego
    text = f'package policy\ntrust_claims := {{"hardware": 2, "executables": {executables}}}'
    with pytest.raises(PolicyRejected) as err:
        rego.check_rego(_synthetic(), text)
    assert err.value.reason is Reason.REGO_REJECTED
    assert err.value.result is not None
    [verdict] = err.value.result.failed_rules()
    assert verdict.actual["ear.status"] == ear.tier(executables)
    ok = rego.check_rego(_synthetic(), 'package policy\ntrust_claims := {"executables": 3}')
    assert ok.allowed and ok.status == "affirming"


@pytest.mark.parametrize(
    "text",
    [
        "package other\nallow := true",  # nothing under data.policy
        "package policy\nx := 1",  # neither allow nor trust_claims
        'package policy\ntrust_claims := {"bogus": 2}',
        'package policy\ntrust_claims := {"hardware": "2"}',
        'package policy\ntrust_claims := {"hardware": 300}',
        "package policy\ntrust_claims := [2]",
    ],
)
def test_policies_that_decide_nothing_fail_closed(text: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        rego.check_rego(_synthetic(), text)
    assert err.value.reason is Reason.INVALID_POLICY


def test_rego_cannot_allow_a_rejected_result() -> None:
    policy = "package policy\n\nallow := true\n"
    assert rego.check_rego(synthetic_result(policy=()), policy).allowed
    with pytest.raises(ConfigurationError):  # was: an "allowed" decision
        rego.check_rego(synthetic_result(accepted=False, policy=()), policy)


def test_trustee_style_policy_on_a_real_quote() -> None:
    result, _, _ = _tdx()
    mr_td = result.claims["mr_td"].hex()
    good = rego.check_rego(result, TDX_POLICY, data={"reference": {"mr_td": [mr_td]}})
    assert good.trust_claims == {"hardware": 2, "executables": 3, "configuration": 2}
    claims = ear.to_ear(result, decision=good)
    assert claims["submods"]["cpu0"]["ear.status"] == "affirming"
    with pytest.raises(PolicyRejected):
        rego.check_rego(result, TDX_POLICY, data={"reference": {"mr_td": []}})
    unknown = rego.evaluate_policy(result, TDX_POLICY, reference_values={"mr_td": []})
    assert unknown.trust_claims["executables"] == 33 and unknown.status == "warning"
    assert ear.to_ear(result, decision=unknown)["submods"]["cpu0"]["ear.status"] == "warning"


# --- CLI --------------------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def test_cli_rego(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, folder, at = _tdx()
    base = ["verify", str(folder / "tdx_quote"), "--collateral", str(folder), "--at", at]
    allow = tmp_path / "allow.rego"
    allow.write_text('package policy\nimport rego.v1\nallow if input.tdx.tcb_status == "UpToDate"')
    deny = tmp_path / "deny.rego"
    deny.write_text("package policy\ndefault allow := false")
    broken = tmp_path / "broken.rego"
    broken.write_text("package policy\n allow if {")
    rc, out = _cli(capsys, *base, "--rego", str(allow), "--format", "json")
    assert rc == 0 and json.loads(out)["accepted"]
    rc, out = _cli(capsys, *base, "--rego", str(deny), "--format", "json")
    doc = json.loads(out)
    assert rc == 5 and doc["reason"] == "rego_rejected" and doc["claims"]
    rc, _ = _cli(capsys, *base, "--rego", str(broken))
    assert rc == 1
    rc, _ = _cli(capsys, *base, "--rego", str(tmp_path / "missing.rego"))
    assert rc == 1


def test_cli_rego_trust_claims_go_into_the_ear(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, folder, at = _tdx()
    pol = tmp_path / "p.rego"
    pol.write_text('package policy\ntrust_claims := {"hardware": 2, "executables": 33}')
    rc, out = _cli(capsys, "verify", str(folder / "tdx_quote"), "--collateral", str(folder),
                   "--at", at, "--rego", str(pol), "--format", "ear")  # fmt: skip
    assert rc == 5  # a warning is not released by trustee's KBS affirming.rego
    sub = json.loads(out)["submods"]["cpu0"]
    # the appraisal trustee's AS issues: only the claims the policy sets, status from them
    assert sub["ear.trustworthiness-vector"] == {"executables": 33, "hardware": 2}
    assert sub["ear.status"] == "warning"
    assert sub["cocoverify.result"]["reason"] == "rego_rejected"


def test_cli_trustee_policy_with_reference_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policies = require_shared("trustee-policies")
    base = require_shared("amd") / "trustee-e2e-genoa-model-a0-v3-vcek"
    argv = ["verify", str(base / "report.bin"), "--at", "2025-05-28T00:00:00Z"]
    for name in ("vcek.der", "ask.pem", "ark.pem"):
        argv += ["--collateral", str(base / name)]
    argv += ["--rego", str(policies / "as_ear_default_policy_cpu.rego"), "--format", "ear"]
    claims = trustee.claims_for(
        cocoverify.verify((base / "report.bin").read_bytes(), collateral=[base / "vcek.der",
                          base / "ask.pem", base / "ark.pem"], at="2025-05-28T00:00:00Z")
    )  # fmt: skip
    rv = {
        "snp_launch_measurement": [claims["measurement"]],
        **{f"snp_{k}": [claims[f"reported_tcb_{k}"]] for k in ("bootloader", "microcode")},
        "snp_snp_svn": [claims["reported_tcb_snp"]],
        "snp_tee_svn": [claims["reported_tcb_tee"]],
    }
    good = tmp_path / "rv.json"
    good.write_text(json.dumps(rv))
    rc, out = _cli(capsys, *argv, "--reference-values", str(good))
    sub = json.loads(out)["submods"]["cpu0"]
    # configuration: the SMT/TSME/ABI reference values are absent, so 3 ("no known
    # vulnerabilities") instead of 2 -- still affirming
    assert rc == 0 and sub["ear.status"] == "affirming"
    assert sub["ear.trustworthiness-vector"]["executables"] == 3
    assert sub["ear.trustworthiness-vector"]["configuration"] == 3
    bad = tmp_path / "rv.yaml"
    bad.write_text("snp_launch_measurement: ['00']\n")
    rc, out = _cli(capsys, *argv, "--reference-values", str(bad))
    assert rc == 5 and json.loads(out)["submods"]["cpu0"]["ear.status"] != "affirming"
    rc, _ = _cli(capsys, *argv[:-4], "--reference-values", str(good))  # without --rego
    assert rc == 1
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1, "a": 2}')
    rc, _ = _cli(capsys, *argv, "--reference-values", str(broken))
    assert rc == 1


def test_cli_trustee_policy_without_reference_values_is_a_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # trustee's policy calls query_reference_value: without a store every value is null, the
    # policy runs, and the outcome is a rejection (exit 5), never an internal error
    policy = require_shared("trustee-policies") / "as_ear_default_policy_cpu.rego"
    _, folder, at = _tdx()
    rc = main(["verify", str(folder / "tdx_quote"), "--collateral", str(folder), "--at", at,
               "--rego", str(policy), "--format", "json"])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 5 and "internal error" not in captured.err
    assert json.loads(captured.out)["reason"] == "rego_rejected"
