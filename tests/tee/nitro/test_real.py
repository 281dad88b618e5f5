"""AWS Nitro real documents: every case of ../shared/vectors/nitro/MANIFEST.json gives its
manifest outcome through ``verify()`` and through ``cocoverify verify DOC --at T
[--report-data HEX]``, read in place.

The manifest's outcomes apply no PCR policy; the secure default policy refuses debug-mode
enclaves (PCR0/1/2 zero), so the debug documents are run with ``unsafe_allow_debug`` and,
separately, shown to be refused without it.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import CocoverifyError, Policy, PolicyRejected, Reason, TrustStore
from cocoverify._core.x509 import load_certificates
from cocoverify.result import to_jsonable
from cocoverify.tee.nitro.verify import aws_root
from cocoverify.trust import AWS_NITRO_ROOT_SHA256, fingerprint

from _shared import require_shared, shared_manifest
from _shared.cli import run_cli, run_cli_json

_MANIFEST = shared_manifest("nitro")
_CASES: dict[str, dict[str, Any]] = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
ALLOW_DEBUG = Policy(unsafe_allow_debug=True)


def _case(case_id: str) -> tuple[Path, dict[str, Any]]:
    base = require_shared("nitro")
    case = _CASES[case_id]
    return base / case["dir"], case


def _root(folder: Path, case: dict[str, Any]) -> Path:
    return (folder / case["files"]["root"]).resolve()


def _trust(folder: Path, case: dict[str, Any]) -> TrustStore:
    """The case's trust anchor pinned as the Nitro root (the look-alike case swaps it)."""
    return TrustStore.from_root_certificates(load_certificates(_root(folder, case).read_bytes()))


def _is_debug(case: dict[str, Any]) -> bool:
    pcrs = (case.get("claims") or {}).get("pcrs") or {}
    return bool(case.get("debug_mode_pcrs_zero")) or all(
        not int(pcrs.get(str(i), "00"), 16) for i in (0, 1, 2)
    )


def _policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "allow-debug.yaml"
    path.write_text("unsafe_allow_debug: true\n")
    return path


@pytest.mark.parametrize("case_id", sorted(_CASES))
def test_manifest_outcome_through_verify(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["attestation_doc"]).read_bytes()
    expected = case["expected"]
    kwargs: dict[str, Any] = {
        "at": case["verification_time"],
        "trust": _trust(folder, case),
        "policy": ALLOW_DEBUG,
        "expected_report_data": case.get("expected_nonce_hex"),
    }
    if expected["outcome"] == "valid":
        result = cocoverify.verify(data, **kwargs)
        assert result.accepted and result.tee == "nitro"
        claims = to_jsonable(result.claims)
        for key in ("module_id", "digest", "timestamp", "public_key", "user_data", "nonce"):
            assert claims[key] == case["claims"][key], key
        for index, value in case["claims"]["pcrs"].items():
            assert claims[f"pcr{index}"] == value
        assert len([k for k in claims if k.startswith("pcr")]) == len(case["claims"]["pcrs"])
        return
    with pytest.raises(CocoverifyError) as err:
        cocoverify.verify(data, **kwargs)
    assert err.value.reason.value in expected["cocoverify_reason"]
    assert err.value.exit_code in expected["cocoverify_exit"]
    # the first reason the manifest names is the one cocoverify gives
    assert err.value.reason.value == expected["cocoverify_reason"][0]


@pytest.mark.parametrize("case_id", sorted(_CASES))
def test_manifest_outcome_through_the_cli(
    case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, case = _case(case_id)
    argv = [
        "verify",
        str(folder / case["files"]["attestation_doc"]),
        "--at",
        case["verification_time"],
    ]
    if case.get("expected_nonce_hex"):
        argv += ["--report-data", case["expected_nonce_hex"]]
    if case["files"]["root"] != "../roots/aws_nitro_enclaves_root_g1.pem":
        argv += ["--trust-root", str(_root(folder, case))]  # the look-alike anchor
    if _is_debug(case):
        argv += ["--policy", str(_policy_file(tmp_path))]
    rc, out = run_cli_json(capsys, *argv)
    expected = case["expected"]
    if expected["outcome"] == "valid":
        assert rc == 0 and out["accepted"] and out["tee"] == "nitro", out
    else:
        assert rc == expected["cocoverify_exit"][0], out
        assert out["reason"] == expected["cocoverify_reason"][0], out


def test_nothing_but_the_document_and_the_time() -> None:
    """``cocoverify verify DOC --at T``: the bundled root needs no other option."""
    folder, case = _case("marlin-aws-20241213")
    data = (folder / "attestation.cose").read_bytes()
    result = cocoverify.verify(data, at=case["verification_time"])
    assert result.accepted and result.collateral["root_sha256"] == AWS_NITRO_ROOT_SHA256


def test_cli_plain(capsys: pytest.CaptureFixture[str]) -> None:
    folder, case = _case("marlin-aws-pcr16-20250429")
    rc, out = run_cli(
        capsys, "verify", str(folder / "attestation.cose"), "--at", case["verification_time"]
    )
    assert rc == 0 and "ACCEPTED" in out and "nitro" in out


@pytest.mark.parametrize(
    "case_id", [c for c in sorted(_CASES) if not c.startswith("neg-") and "nonce" not in c]
)
def test_debug_mode_refused_by_the_default_policy(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["attestation_doc"]).read_bytes()
    if not _is_debug(case):
        assert cocoverify.verify(data, at=case["verification_time"]).accepted
        return
    with pytest.raises(PolicyRejected) as err:
        cocoverify.verify(data, at=case["verification_time"])
    assert err.value.reason is Reason.DEBUG_ENABLED
    assert err.value.result is not None and err.value.result.tee == "nitro"


def test_text_forms_tagged_and_untagged() -> None:
    """Raw, hex and base64 text, tagged (18) or untagged: the same verdict."""
    folder, case = _case("evervault-ga-20230918")
    raw = (folder / "attestation.cose").read_bytes()
    b64 = (folder / "attestation.b64").read_bytes()
    assert base64.b64decode(b64) == raw
    tagged = b"\xd2" + raw  # the tag is outside what the signature covers
    for form in (raw, b64, raw.hex(), raw.hex().upper().encode(), tagged, tagged.hex()):
        result = cocoverify.verify(form, at=case["verification_time"], policy=ALLOW_DEBUG)
        assert result.claims["module_id"] == case["claims"]["module_id"]


def test_bundled_root_is_the_pinned_root() -> None:
    base = require_shared("nitro")
    shared = load_certificates((base / "roots" / "aws_nitro_enclaves_root_g1.pem").read_bytes())
    assert fingerprint(aws_root()) == AWS_NITRO_ROOT_SHA256 == fingerprint(shared[0])
    assert TrustStore.default().is_nitro_root(aws_root())


def test_lookalike_root_is_not_trusted_even_if_pinned_by_name() -> None:
    """The look-alike has AWS's subject, serial and dates; only the pin decides."""
    folder, _ = _case("neg-marlin-aws-wrong-root")
    lookalike = load_certificates((folder / "lookalike_root.pem").read_bytes())[0]
    assert lookalike.subject == aws_root().subject
    assert not TrustStore.default().is_nitro_root(lookalike)


def test_verification_time_is_an_input() -> None:
    folder, case = _case("marlin-aws-20241213")
    data = (folder / "attestation.cose").read_bytes()
    assert cocoverify.verify(data, at="2024-12-13T08:57:45Z").accepted  # leaf notAfter
    with pytest.raises(CocoverifyError) as err:
        cocoverify.verify(data, at="2024-12-13T08:57:46Z")
    assert err.value.reason is Reason.CERTIFICATE_EXPIRED
    assert case["verification_time"] == "2024-12-13T07:37:58Z"


def test_cli_reads_text_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, case = _case("evervault-ga-20230918")
    raw = (folder / "attestation.cose").read_bytes()
    hex_file = tmp_path / "doc.hex"
    hex_file.write_text((b"\xd2" + raw).hex())
    for path in (folder / "attestation.b64", hex_file):
        rc, out = run_cli_json(
            capsys, "verify", str(path), "--at", case["verification_time"],
            "--policy", str(_policy_file(tmp_path)),
        )  # fmt: skip
        assert rc == 0 and out["claims"]["module_id"] == case["claims"]["module_id"], out
