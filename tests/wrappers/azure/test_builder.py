"""The fake HCL/vTPM (cocoverify_testing.azure) and its one-defect negatives: each defect is
refused with its reason, every evidence version and both kinds are accepted when intact."""

from __future__ import annotations

import pytest

from cocoverify import CocoverifyError
from cocoverify.errors import MalformedEvidence
from cocoverify.wrappers.azure import appraise_evidence, describe, detect
from cocoverify.wrappers.azure.parse import parse_evidence
from cocoverify_testing.azure import DEFECTS, AzureBuilder

KINDS = ("az-snp-vtpm", "az-tdx-vtpm")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", [0, 1, 2])
def test_intact_evidence_is_accepted(kind: str, version: int) -> None:
    b = AzureBuilder(kind=kind, version=version)
    data = b.evidence()
    assert detect(data) == kind
    a = appraise_evidence(data, inner=b.inner())
    assert a.tee == kind and a.report_data == b.nonce
    assert a.claims["report_data"] == b.nonce.hex()
    assert a.claims["init_data"] == b.pcrs[8].hex()
    assert a.claims["tpm"]["pcr23"] == b.pcrs[23].hex()
    assert a.claims["azure"]["vm_configuration"]["secure-boot"] is True
    assert describe(data)["kind"] == kind
    if kind == "az-snp-vtpm":
        assert a.claims["policy_abi_minor"] == "31" and a.claims["policy_smt_allowed"] == "true"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_refused_with_its_reason(kind: str, defect: str) -> None:
    if defect == "vmpl_1" and kind == "az-tdx-vtpm":
        pytest.skip("VMPL is an SNP field")
    if defect == "tdreport_report_data" and kind == "az-snp-vtpm":
        pytest.skip("the TDREPORT is a TDX field")
    b = AzureBuilder(kind=kind)
    with pytest.raises(CocoverifyError) as exc:
        appraise_evidence(b.evidence(defect), inner=b.inner(defect))
    assert exc.value.reason is not None and exc.value.reason.value == DEFECTS[defect], exc.value


def test_version_1_does_not_check_user_data() -> None:
    # trustee checks user-data from evidence version 2 on
    b = AzureBuilder(version=1)
    appraise_evidence(b.evidence("user_data_mismatch"), inner=b.inner("user_data_mismatch"))


def test_hardware_of_the_wrong_tee_is_refused() -> None:
    snp, tdx = AzureBuilder(), AzureBuilder(kind="az-tdx-vtpm")
    with pytest.raises(CocoverifyError, match="expected snp"):
        appraise_evidence(snp.evidence(), inner=tdx.inner())


def test_kind_and_hcl_report_type_must_agree() -> None:
    b = AzureBuilder()
    data = b.evidence().replace(b'"vcek"', b'"td_quote"')
    with pytest.raises(CocoverifyError, match="HCL report of type 2"):
        appraise_evidence(data, inner=b.inner())


@pytest.mark.parametrize(
    "data",
    [b"{}", b'{"quote": "x"}', b"[1]", b"not json", b"\x00" * 64, b'{"hcl_report": 1}'],
)
def test_detect_claims_nothing_else(data: bytes) -> None:
    assert detect(data) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("hcl_report", "!!"), ("tpm_quote", 1), ("vcek", 5)],
)
def test_malformed_fields_name_the_field(field: str, value: object) -> None:
    import json

    obj = json.loads(AzureBuilder(version=1).evidence())
    obj[field] = value
    with pytest.raises(MalformedEvidence) as exc:
        parse_evidence(json.dumps(obj).encode())
    assert exc.value.field is not None and exc.value.field.startswith(field)


def test_claims_are_frozen() -> None:
    from types import MappingProxyType

    b = AzureBuilder(version=2)
    claims = appraise_evidence(b.evidence(), inner=b.inner()).claims

    def walk(value: object, where: str) -> None:
        assert not isinstance(value, dict | list | bytearray), where
        if isinstance(value, MappingProxyType):
            for key, item in value.items():
                if key != "hardware":  # the stand-in's own claims
                    walk(item, f"{where}.{key}")
        elif isinstance(value, tuple):
            for item in value:
                walk(item, where)

    walk(claims, "claims")
    with pytest.raises(TypeError):
        claims["azure"]["pcrs"]["0"] = b""  # type: ignore[index]
