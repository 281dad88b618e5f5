"""Azure real evidence: every az-snp-vtpm / az-tdx-vtpm case of ../shared/vectors/azure gives
its manifest outcome through ``verify()`` and ``cocoverify verify EVIDENCE.json --collateral
... --report-data HEX --at T``; claims compared with what trustee asserts and with the
manifest's own checks.

The SNP side needs the ASK and ARK (the VCEK is in the evidence): the Milan ones of
../amd/trustee-azure-milan-v3-vcek-a. The TD quote side needs the DCAP collateral of
../intel/tdx-v4-trustee-azure, whose TCB status at ``at`` is OutOfDate; trustee does not
reject on TCB status, so the manifest's accept is checked with a policy accepting it, and the
default policy is shown to refuse it (exit 4).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import CocoverifyError, Policy, Reason, TcbRejected
from cocoverify.wrappers.azure.parse import (
    parse_evidence,
    parse_hcl,
    parse_tpm_attest,
    parse_var_data,
)

from _shared import require_shared, shared_manifest
from _shared.cli import run_cli, run_cli_json

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

_MANIFEST = shared_manifest("azure")
_CASES = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
_FULL = [i for i, c in _CASES.items() if c["kind"] in ("az-snp-vtpm", "az-tdx-vtpm")] or ["none"]
_INTEL_FILES = (
    "intel_root_ca_crl.der",
    "pck_crl_issuer_chain.pem",
    "tcb_info_issuer_chain.pem",
    "qe_identity_issuer_chain.pem",
    "tcb_info.json",
    "identity.json",
    "pck_crl.der",
)
OUT_OF_DATE = Policy(accepted_tcb_statuses=frozenset({"UpToDate", "OutOfDate"}))


def _case(case_id: str) -> tuple[Path, dict[str, Any], list[str]]:
    base = require_shared("azure")
    case = _CASES[case_id]
    vectors = base.parent
    if case["kind"] == "az-snp-vtpm":
        amd = vectors / "amd" / "trustee-azure-milan-v3-vcek-a"
        coll = [str(amd / "ask.pem"), str(amd / "ark.pem")]
    else:
        intel = vectors / "intel" / "tdx-v4-trustee-azure"
        coll = [str(intel / f) for f in _INTEL_FILES] + [
            str(vectors / "intel" / "IntelSGXRootCA.der")
        ]
    return base / case["id"] / case["files"]["evidence"], case, coll


@pytest.mark.parametrize("case_id", _FULL)
def test_verify_gives_manifest_outcome(case_id: str) -> None:
    path, case, coll = _case(case_id)
    assert case["expected"]["outcome"] == "accept"
    result = cocoverify.verify(
        path.read_bytes(),
        collateral=coll,
        at=case["at"],
        expected_report_data=case["inputs"]["expected_report_data_hex"],
        policy=OUT_OF_DATE,
    )
    assert result.accepted and result.tee == case["kind"]
    claims = result.claims
    for key, want in case["expected"]["peer_claims_asserted"].items():
        got: Any = claims
        for part in key.split("."):
            got = got[part]
        assert got == want, key
    own = case["expected"]["own_checks"]
    assert claims["tpm"]["pcr00"] == own["pcr00"]
    assert claims["init_data"] == own["pcr08"]
    assert sorted(claims["tpm"]) == [f"pcr{i:02d}" for i in range(24)]
    azure = claims["azure"]
    assert dict(azure["vm_configuration"]) == own["hcl"]["vm_configuration"]
    assert azure["tpm_quote"]["pcr_digest"].hex() == own["tpm_quote"]["pcrDigest"]
    assert azure["tpm_quote"]["firmware_version"] == int(own["tpm_quote"]["firmwareVersion"], 16)
    assert azure["hcl"]["version"] == own["hcl"]["header_version"]
    assert claims["hardware"]["tee"] == ("snp" if case["kind"] == "az-snp-vtpm" else "tdx")


@pytest.mark.parametrize("case_id", _FULL)
def test_wrong_nonce_is_report_data_mismatch(case_id: str) -> None:
    path, case, coll = _case(case_id)
    nonce = bytes.fromhex(case["inputs"]["expected_report_data_hex"])[::-1].hex()
    with pytest.raises(CocoverifyError) as exc:
        cocoverify.verify(
            path.read_bytes(), collateral=coll, at=case["at"], expected_report_data=nonce,
            policy=OUT_OF_DATE,
        )  # fmt: skip
    assert exc.value.reason is Reason.REPORT_DATA_MISMATCH


@pytest.mark.parametrize("case_id", _FULL)
def test_cli_gives_manifest_outcome(
    case_id: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, case, coll = _case(case_id)
    argv = [
        str(path),
        "--at",
        case["at"],
        "--report-data",
        case["inputs"]["expected_report_data_hex"],
    ]
    for c in coll:
        argv += ["--collateral", c]
    if case["kind"] == "az-tdx-vtpm":
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps({"accepted_tcb_statuses": ["UpToDate", "OutOfDate"]}))
        code, _ = run_cli(capsys, "verify", *argv)
        assert code == 5  # the default policy refuses OutOfDate (a policy verdict)
        argv += ["--policy", str(policy)]
    code, out = run_cli_json(capsys, "verify", *argv, "--format", "json")
    assert code == 0, out
    assert out["accepted"] is True and out["tee"] == case["kind"]
    assert out["claims"]["report_data"] == case["expected"]["peer_claims_asserted"]["report_data"]
    # --report-data: another nonce of the same length (a longer one is a usage error, exit 1)
    argv[4] = argv[4][:-2] + ("01" if argv[4][-2:] == "00" else "00")
    code, _ = run_cli(capsys, "verify", *argv)
    assert code == 5


def test_default_policy_refuses_out_of_date_td_quote() -> None:
    path, case, coll = _case("trustee-az-tdx-vtpm-v1")
    with pytest.raises(TcbRejected):
        cocoverify.verify(
            path.read_bytes(), collateral=coll, at=case["at"],
            expected_report_data=case["inputs"]["expected_report_data_hex"],
        )  # fmt: skip


def test_without_ask_and_ark_the_shipped_amd_certificates_serve() -> None:
    # the VCEK travels in the evidence; AMD's ASK and ARK ship with cocoverify
    # (docs/trust-and-collateral.md), so no collateral file is needed
    path, case, _ = _case("trustee-az-snp-vtpm-v1")
    nonce = case["inputs"]["expected_report_data_hex"]
    result = cocoverify.verify(path.read_bytes(), at=case["at"], expected_report_data=nonce)
    assert result.accepted and result.tee == "az-snp-vtpm"


@pytest.mark.parametrize("case_id", _FULL)
def test_parse_matches_own_checks(case_id: str) -> None:
    path, case, _ = _case(case_id)
    own = case["expected"]["own_checks"]
    ev = parse_evidence(path.read_bytes())
    assert ev.version == case["evidence_version"]
    hcl = parse_hcl(ev.hcl_report)
    assert hcl.version == own["hcl"]["header_version"]
    assert hcl.report_size == own["hcl"]["report_size"]
    assert hcl.report_type == own["hcl"]["igvm_request_data"]["report_type"]
    assert len(hcl.var_data) == own["hcl"]["igvm_request_data"]["var_size"]
    assert hashlib.sha256(hcl.var_data).hexdigest() == own["hcl"]["var_data_sha256"]
    var = parse_var_data(hcl.var_data)
    assert (
        list(var.keys) == own["hcl"]["jwk_kids"] and len(var.ak_n) * 8 == own["hcl"]["ak_rsa_bits"]
    )
    assert (var.user_data or b"").hex().upper() == own["hcl"]["user_data"].upper()
    attest = parse_tpm_attest(ev.message)
    tq = own["tpm_quote"]
    assert attest.extra_data.hex() == tq["extraData_hex"]
    assert (attest.clock, attest.reset_count, attest.restart_count, attest.safe) == (
        tq["clock"], tq["resetCount"], tq["restartCount"], tq["safe"],
    )  # fmt: skip
    assert [(s.hash_alg, s.select.hex(), list(s.pcrs)) for s in attest.selections] == [
        (s["hash"], s["pcrSelect"], s["pcrs"]) for s in tq["pcr_selection"]
    ]


def _components() -> tuple[bytes, dict[str, Any], bytes]:
    base = require_shared("azure") / "trustee-az-snp-vtpm-components"
    quote = json.loads((base / "tpm-quote-v1.json").read_text())
    return (base / "hcl-report.bin").read_bytes(), quote, (base / "vcek.pem").read_bytes()


def _component_evidence(hcl: bytes, quote: dict[str, Any], vcek: bytes) -> bytes:
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding

    from cocoverify._core.x509 import load_certificates

    der = load_certificates(vcek)[0].public_bytes(Encoding.DER)
    return json.dumps(
        {
            "version": 1,
            "tpm_quote": quote,
            "hcl_report": base64.urlsafe_b64encode(hcl).decode(),
            "vcek": base64.urlsafe_b64encode(der).decode(),
        }
    ).encode()


def _verify_components(hcl: bytes, quote: dict[str, Any], nonce: str = "6368616c6c656e6765") -> Any:
    _, _, vcek = _components()
    case = _CASES["trustee-az-snp-vtpm-components"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cocoverify.verify(
            _component_evidence(hcl, quote, vcek),
            collateral=[str(require_shared("azure") / case["id"] / "vcek.pem")],
            at=case["at"], expected_report_data=nonce,
        )  # fmt: skip


def test_components_accept() -> None:
    hcl, quote, _ = _components()
    assert _verify_components(hcl, quote).accepted


@pytest.mark.parametrize(
    ("mutation", "reason"),
    [
        ("snp_reported_tcb", Reason.SIGNATURE_INVALID),  # trustee: SNP version mismatch
        ("var_data", Reason.BINDING_INVALID),  # trustee: HCL variable data digest mismatch
        ("akpub", None),  # trustee: Failed to get AKpub
        ("tpm_signature", Reason.SIGNATURE_INVALID),
        ("nonce", Reason.REPORT_DATA_MISMATCH),
        ("pcr0", Reason.BINDING_INVALID),  # trustee: Digest of PCRs does not match
    ],
)
def test_components_peer_negatives(mutation: str, reason: Reason | None) -> None:
    hcl, quote, _ = _components()
    raw = bytearray(hcl)
    nonce = "6368616c6c656e6765"
    if mutation == "snp_reported_tcb":
        raw[0x01A6] = 0
    elif mutation == "var_data":
        raw[0x06E0] += 1
    elif mutation == "akpub":
        raw[0x0540] = 0
    elif mutation == "tpm_signature":
        sig = bytearray.fromhex(quote["signature"])
        sig[0] ^= 1
        quote = {**quote, "signature": sig.hex()}
    elif mutation == "nonce":
        nonce = b"challenge"[::-1].hex()
    elif mutation == "pcr0":
        pcrs = list(quote["pcrs"])
        pcrs[0] = bytes([bytes.fromhex(pcrs[0])[0] ^ 1]).hex() + pcrs[0][2:]
        quote = {**quote, "pcrs": pcrs}
    with pytest.raises(CocoverifyError) as exc:
        _verify_components(bytes(raw), quote, nonce)
    if reason is not None:
        assert exc.value.reason is reason, exc.value


def test_no_other_shared_evidence_is_claimed() -> None:
    """The azure detector claims none of the other shared vectors' files."""
    from cocoverify.wrappers.azure import detect

    vectors = require_shared("azure").parent
    seen = 0
    for path in sorted(vectors.rglob("*")):
        if not path.is_file() or path.stat().st_size > 2_000_000 or "azure" in path.parts:
            continue
        seen += 1
        assert detect(path.read_bytes()) is None, path
    assert seen > 100


def test_vcek_of_another_chip_is_refused() -> None:
    """v1 evidence with the component vectors' VCEK (another Milan chip) in place of its own."""
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding

    from cocoverify._core.x509 import load_certificates

    path, case, coll = _case("trustee-az-snp-vtpm-v1")
    obj = json.loads(path.read_text())
    _, _, vcek = _components()
    obj["vcek"] = base64.urlsafe_b64encode(
        load_certificates(vcek)[0].public_bytes(Encoding.DER)
    ).decode()
    with pytest.raises(CocoverifyError) as exc:
        cocoverify.verify(
            json.dumps(obj).encode(), collateral=coll, at=case["at"],
            expected_report_data=case["inputs"]["expected_report_data_hex"],
        )  # fmt: skip
    assert exc.value.exit_code == 3, exc.value
