"""What evidence needs fetched (tee/intel/requests.py, tee/snp/requests.py, TeeSpec.requests):
checked on every real quote of ../shared/vectors/intel against the FMSPC and CA type its
manifest records (dcap-qvl's parse), on real SNP reports (Milan, Genoa, Turin, VLEK, v2) and
on trustee's Azure evidence."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from cocoverify._core.text import decode_text
from cocoverify.collateral import load_collateral
from cocoverify.collateral.requests import AmdRequest, IntelRequest
from cocoverify.errors import CollateralUnavailable, ConfigurationError, EvidenceError
from cocoverify.registry import TEES, collateral_requests
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.snp.parse import parse_report
from cocoverify_testing.snp import SnpReportBuilder

from _shared import SHARED_VECTORS, require_shared, shared_manifest
from _shared.collateral import M


def _intel_cases() -> list[tuple[str, str, str | None, str | None, str]]:
    manifest = shared_manifest("intel")
    if manifest is None:
        return []
    return [
        (
            c["id"],
            c["files"]["quote"],
            c["expected"]["parse"]["fmspc"],
            c["expected"]["parse"]["ca"],
            c["tee"],
        )
        for c in manifest["cases"]
    ]


@pytest.mark.parametrize(("case", "quote", "fmspc", "ca", "tee"), _intel_cases())
def test_intel_requests_match_the_manifest(
    case: str, quote: str, fmspc: str | None, ca: str | None, tee: str
) -> None:
    data = decode_text((require_shared("intel") / case / quote).read_bytes())
    if fmspc is None:
        if parse_quote(data).certification.type == 5:
            pytest.skip(f"{case}: dcap-qvl reads no PCK chain from this sample: no reference")
        # certification data without a PCK chain: it must be supplied
        with pytest.raises(CollateralUnavailable):
            collateral_requests(data)
        return
    assert collateral_requests(data) == (
        IntelRequest(fmspc=bytes.fromhex(fmspc), ca=str(ca), tee=tee),
    )


def test_intel_requests_are_empty_without_manifest_cases() -> None:
    if shared_manifest("intel") is None:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    assert len(_intel_cases()) >= 20


def _snp(case: str) -> bytes:
    return (require_shared("amd") / case / "report.bin").read_bytes()


def test_snp_milan_genoa_request() -> None:
    data = _snp("ms-milan-v3-vcek")
    ((req,),) = [collateral_requests(data)]
    report = parse_report(data)
    assert isinstance(req, AmdRequest)
    assert (req.product, req.key_type, req.hwid) == ("Milan", "vcek", report.chip_id)
    assert req.spl == {"bl_spl": 4, "tee_spl": 0, "snp_spl": 24, "ucode_spl": 219}
    (genoa,) = collateral_requests(_snp("ms-genoa-v3-vcek"))
    assert isinstance(genoa, AmdRequest) and genoa.product == "Genoa"


def test_snp_turin_asks_with_the_first_8_bytes_and_fmc() -> None:
    data = _snp("ms-turin-v5-vcek")
    (req,) = collateral_requests(data)
    assert isinstance(req, AmdRequest) and req.product == "Turin"
    assert req.hwid == parse_report(data).chip_id[:8]
    assert set(req.spl) == {"bl_spl", "tee_spl", "snp_spl", "ucode_spl", "fmc_spl"}


def test_snp_vlek_asks_for_the_vlek_chain_only() -> None:
    (req,) = collateral_requests(_snp("trustee-milan-v3-vlek"))
    assert isinstance(req, AmdRequest) and (req.product, req.key_type) == ("Milan", "vlek")
    assert req.hwid == b"" and req.tcb == ()


def test_snp_v2_product_from_vcek_or_option() -> None:
    base = require_shared("amd") / "trustee-milan-v2-vcek"
    data = (base / "report.bin").read_bytes()
    with pytest.raises(CollateralUnavailable) as err:
        collateral_requests(data)
    assert err.value.reason.value == "collateral_missing"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vcek = load_collateral([base / "vcek.der"])
    (by_vcek,) = collateral_requests(data, collateral=vcek)
    (by_option,) = collateral_requests(data, product="Milan")
    assert by_vcek == by_option and isinstance(by_vcek, AmdRequest)
    assert by_vcek.product == "Milan"


def test_snp_product_option_must_agree_with_cpuid() -> None:
    with pytest.raises(ConfigurationError):
        collateral_requests(_snp("ms-milan-v3-vcek"), product="Genoa")
    with pytest.raises(ConfigurationError):
        collateral_requests(_snp("ms-milan-v3-vcek"), product="Rome")


def test_snp_masked_chip_id_cannot_name_a_vcek() -> None:
    data = SnpReportBuilder.for_product("Milan").set(chip_id=bytes(64)).sign(M)
    with pytest.raises(CollateralUnavailable):
        collateral_requests(data)


@pytest.mark.parametrize(
    ("case", "inner"),
    [
        ("trustee-az-snp-vtpm-v2/evidence-v2.json", "amd/trustee-azure-milan-v3-vcek-c/report.bin"),
        ("trustee-az-tdx-vtpm-v1/evidence-v1.json", "intel/tdx-v4-trustee-azure/td-quote.bin"),
    ],
)
def test_azure_evidence_asks_for_its_hardware_report(case: str, inner: str) -> None:
    base = require_shared("azure")
    data = decode_text((base / case).read_bytes())
    hw = (SHARED_VECTORS / inner).read_bytes()
    assert collateral_requests(data) == collateral_requests(hw)
    assert len(collateral_requests(data)) == 1


def test_specs_without_a_collateral_service_ask_nothing() -> None:
    with_requests = {spec.name for spec in TEES if spec.requests is not None}
    assert with_requests == {"intel", "snp", "azure"}
    token = next(
        Path(__file__).resolve().parents[2].joinpath("vectors", "cca").rglob("token.cbor"), None
    )
    if token is not None:
        assert collateral_requests(token.read_bytes()) == ()


def test_unknown_evidence_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError):
        collateral_requests(b"\x00" * 64)


def test_requests_describe_their_identifiers() -> None:
    intel = IntelRequest(fmspc=bytes.fromhex("00806f050000"), ca="platform", tee="tdx")
    assert "00806F050000" in intel.describe() and "TDX" in intel.describe()
    (amd,) = collateral_requests(_snp("ms-milan-v3-vcek"))
    assert "Milan" in amd.describe() and amd.hwid.hex()[:16] in amd.describe()
    assert "bl04_tee00_snp24_ucode219" in amd.describe()
    assert json.dumps(amd.key)  # the cache key is plain text
