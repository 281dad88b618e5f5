"""AMD's ARK, ASK and ASVK shipped with cocoverify: pinned, used only for empty roles, and
enough with a report's VCEK or VLEK to verify every real vector offline."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from cocoverify import Collateral, verify
from cocoverify.collateral import load_collateral
from cocoverify.collateral.requests import AmdRequest, CollateralRequest
from cocoverify.errors import (
    FETCH_COMMAND,
    ChainInvalid,
    CocoverifyError,
    CollateralUnavailable,
    PolicyRejected,
    Reason,
)
from cocoverify.policy import Policy
from cocoverify.tee.snp.bundled import ROLES, bundled_certificate
from cocoverify.trust import AMD_ARK_SHA256, AMD_CA_SHA256, TrustStore

from _shared import SHARED_VECTORS, require_shared, shared_manifest

_MANIFEST = shared_manifest("amd")
_CASES = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
_PRODUCTS = ("Milan", "Genoa", "Turin")
_PERMISSIVE = Policy.from_dict({"unsafe_allow_debug": True})

#: With only the VCEK/VLEK, the rejection of each negative case (class, reason); the two
#: cases whose defect is the supplied chain are valid then (the manifest's
#: ``outcome_if_supplied_ask_ark_ignored_and_builtin_roots_used``).
_INVALID_VEK_ONLY: dict[str, Reason] = {
    "neg-turin-tampered-measurement": Reason.SIGNATURE_INVALID,
    "neg-turin-tampered-reported-tcb": Reason.SIGNATURE_INVALID,
    "neg-milan-report-with-genoa-vcek": Reason.PRODUCT_MISMATCH,
    "neg-milan-wrong-chip-vcek": Reason.SIGNATURE_INVALID,
    "neg-vlek-expired": Reason.CERTIFICATE_EXPIRED,
    "neg-turin-before-vcek-issued": Reason.CERTIFICATE_NOT_YET_VALID,
    "neg-genoa-report-truncated": Reason.TRUNCATED,
}


def _data_files() -> dict[str, bytes]:
    folder = resources.files("cocoverify.tee.snp").joinpath("_data")
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith(".der")}


def test_shipped_files_match_the_pinned_fingerprints() -> None:
    files = _data_files()
    assert set(files) == {f"{p.lower()}_{r}.der" for p in _PRODUCTS for r in ROLES}
    for product in _PRODUCTS:
        assert AMD_CA_SHA256[product]["ark"] == AMD_ARK_SHA256[product]
        for role in ROLES:
            der = files[f"{product.lower()}_{role}.der"]
            assert hashlib.sha256(der).hexdigest() == AMD_CA_SHA256[product][role]
            cert = bundled_certificate(product, role)
            want_cn = {"ark": f"ARK-{product}", "ask": f"SEV-{product}"}.get(
                role, f"SEV-VLEK-{product}"
            )
            assert (cert.role, cert.product) == (role, product), want_cn


def test_pinned_fingerprints_equal_the_documented_table() -> None:
    """docs/amd.md §6.2 of the shared facts (each value agreed across four projects)."""
    doc = SHARED_VECTORS.parent / "docs" / "amd.md"
    if not doc.is_file():
        pytest.skip(f"{doc} is absent (../shared not checked out)")
    rows = re.findall(
        r"^\| (Milan|Genoa|Turin) \| (ARK|ASK|ASVK) \| [^|]+\| [^|]+\| ([0-9a-f]{64}) \|$",
        doc.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    table = {(p, r.lower()): fp for p, r, fp in rows}
    assert len(table) == 9
    assert table == {(p, r): AMD_CA_SHA256[p][r] for p in _PRODUCTS for r in ROLES}
    manifest = _MANIFEST or {}
    for product, roots in manifest.get("amd_roots", {}).items():
        for role in ROLES:
            assert roots[f"{role}_sha256_der"] == AMD_CA_SHA256[product][role]


def _case(cid: str) -> tuple[Path, dict[str, Any]]:
    base = require_shared("amd")
    if cid not in _CASES:
        pytest.skip("no AMD manifest")
    return base / _CASES[cid]["dir"], _CASES[cid]


def _vek_path(folder: Path, c: dict[str, Any]) -> Path:
    return folder / c["files"]["vcek" if "vcek" in c["files"] else "vlek"]


_WITH_VEK = [
    cid
    for cid, c in _CASES.items()
    if "report" in c["files"] and set(c["files"]) & {"vcek", "vlek"}
] or ["<no manifest>"]


@pytest.mark.parametrize("cid", _WITH_VEK)
def test_every_real_report_with_only_its_vek(cid: str) -> None:
    folder, c = _case(cid)
    expected = c["expected"].get(
        "outcome_if_supplied_ask_ark_ignored_and_builtin_roots_used", c["expected"]["outcome"]
    )
    data = (folder / c["files"]["report"]).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning reaches a library user (serial 0)
        collateral = load_collateral([_vek_path(folder, c)])
        assert len(collateral.certificates) == 1
        try:
            result = verify(
                data, collateral=collateral, at=c["verification_time"], policy=_PERMISSIVE
            )
        except CocoverifyError as exc:
            assert expected == "invalid", f"{cid}: {exc}"
            assert exc.reason is _INVALID_VEK_ONLY[cid], f"{cid}: {exc}"
            return
    assert expected == "valid", cid
    assert result.accepted and result.claims["product"] == c["product"]
    assert result.claims["signing_key"] == c["signing_key"]


def test_every_negative_case_is_listed() -> None:
    negatives = {
        cid
        for cid, c in _CASES.items()
        if cid in _WITH_VEK
        and c["expected"].get(
            "outcome_if_supplied_ask_ark_ignored_and_builtin_roots_used",
            c["expected"]["outcome"],
        )
        == "invalid"
    }
    assert negatives == set(_INVALID_VEK_ONLY) or not _CASES


@pytest.mark.parametrize(
    ("cid", "code"),
    [("ms-turin-v5-vcek", 0), ("trustee-milan-v3-vlek", 0), ("neg-vlek-expired", 3)],
)
def test_cli_with_only_the_vek(cid: str, code: int) -> None:
    """``cocoverify verify report.bin --collateral vcek.pem`` in a fresh interpreter, with
    Python's default warning filters: the verdict, and no serial-0 warning on stderr."""
    folder, c = _case(cid)
    argv = ["verify", str(folder / c["files"]["report"])]
    argv += ["--collateral", str(_vek_path(folder, c)), "--at", c["verification_time"]]
    run = subprocess.run(
        [sys.executable, "-W", "default", "-m", "cocoverify", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == code, run.stdout + run.stderr
    assert "Warning" not in run.stderr, run.stderr


def _turin() -> tuple[bytes, Path, str]:
    folder, c = _case("ms-turin-v5-vcek")
    return (folder / "report.bin").read_bytes(), folder, c["verification_time"]


def test_a_supplied_foreign_ark_is_still_the_one_checked() -> None:
    data, folder, at = _turin()
    genoa_ark = require_shared("amd") / "roots" / "genoa_ark.pem"
    with pytest.raises(ChainInvalid) as exc:
        verify(data, collateral=load_collateral([folder / "vcek.pem", genoa_ark]), at=at)
    assert exc.value.reason is Reason.PRODUCT_MISMATCH
    # a supplied intermediate of another product: no shipped ASK fills in
    genoa_ask = require_shared("amd") / "roots" / "genoa_ask.pem"
    with pytest.raises(ChainInvalid) as exc:
        verify(data, collateral=load_collateral([folder / "vcek.pem", genoa_ask]), at=at)
    assert exc.value.reason is Reason.PRODUCT_MISMATCH


def test_no_shipped_certificates_for_a_store_without_amds_ark() -> None:
    data, folder, at = _turin()
    ark = bundled_certificate("Turin", "ark").cert
    # pins a different Turin root: the shipped chain does not apply, the ASK is missing
    trust = TrustStore(amd_arks={"Turin": frozenset({"00" * 32})})
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, collateral=load_collateral([folder / "vcek.pem"]), at=at, trust=trust)
    assert exc.value.reason is Reason.COLLATERAL_MISSING
    assert [m.item for m in exc.value.missing] == ["ASK", "ARK"]
    assert all(m.url is None for m in exc.value.missing)  # not AMD's chain: no KDS URL
    # the same store pinning AMD's ARK: verified with the shipped chain
    trust = TrustStore.from_certificates(amd={"Turin": [ark]})
    assert verify(data, collateral=load_collateral([folder / "vcek.pem"]), at=at, trust=trust)


class _Recording:
    def __init__(self, answer: Collateral | None) -> None:
        self.answer = answer
        self.requests: list[CollateralRequest] = []

    def fetch(self, request: CollateralRequest, *, at: dt.datetime) -> Collateral:
        self.requests.append(request)
        if self.answer is None:
            raise CollateralUnavailable("offline", reason=Reason.COLLATERAL_MISSING)
        return self.answer


def test_source_asked_only_for_what_is_missing() -> None:
    data, folder, at = _turin()
    vcek = load_collateral([folder / "vcek.pem"])
    # VCEK supplied, chain shipped, no CRL required: nothing is missing, nothing asked
    source = _Recording(Collateral())
    assert verify(data, collateral=vcek, at=at, collateral_source=source).accepted
    assert source.requests == []
    # the policy requires a CRL: the source is asked although the VCEK is there
    crl_policy = Policy.from_dict({"require_crl": True})
    source = _Recording(None)
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, collateral=vcek, at=at, collateral_source=source, policy=crl_policy)
    ((request,),) = [source.requests]
    assert isinstance(request, AmdRequest) and request.product == "Turin"
    assert exc.value.reason is Reason.CRL_MISSING
    ((item),) = exc.value.missing
    assert item.item == "CRL" and item.url == "https://kdsintf.amd.com/vcek/v1/Turin/crl"
    assert "offline" in str(exc.value)
    # no VCEK: the source is asked for it by product, hwid and reported TCB
    source = _Recording(vcek)
    assert verify(data, at=at, collateral_source=source).accepted
    (request,) = source.requests
    assert isinstance(request, AmdRequest)
    assert (request.product, request.key_type, len(request.hwid)) == ("Turin", "vcek", 8)


def test_missing_collateral_is_listed_with_identifiers_and_urls() -> None:
    data, _folder, at = _turin()
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, at=at, policy=Policy.from_dict({"require_crl": True}))
    err = exc.value
    assert err.reason is Reason.COLLATERAL_MISSING
    vcek, crl = err.missing
    ids = dict(vcek.ids)
    assert vcek.item == "VCEK" and vcek.tee == "snp" and ids["product"] == "Turin"
    assert len(ids["hwid"]) == 16  # Turin: KDS takes the first 8 bytes of CHIP_ID
    assert set(ids) >= {"bl_spl", "tee_spl", "snp_spl", "ucode_spl", "fmc_spl"}
    assert vcek.url is not None and vcek.url.startswith(
        f"https://kdsintf.amd.com/vcek/v1/Turin/{ids['hwid']}?fmcSPL={ids['fmc_spl']}&blSPL="
    )
    assert isinstance(vcek.request, AmdRequest)
    assert crl.item == "CRL"
    message = str(err)
    assert vcek.url in message and crl.url is not None and crl.url in message
    assert FETCH_COMMAND in message


def test_vlek_missing_names_no_url() -> None:
    folder, c = _case("trustee-milan-v3-vlek")
    data = (folder / "report.bin").read_bytes()
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, at=c["verification_time"])
    (item,) = exc.value.missing
    assert item.item == "VLEK" and item.url is None and "cloud provider" in item.note


def test_library_users_see_no_serial_warning() -> None:
    data, folder, at = _turin()
    for name in ("vcek.pem", "vcek.der"):
        path = folder / name
        if not path.is_file():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert verify(data, collateral=[path], at=at).accepted
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        verify(data, collateral=[folder / "vcek.pem"], at=at)
    assert seen == []
    # the caller's own filters are left as they were
    before = list(warnings.filters)
    verify(data, collateral=[folder / "vcek.pem"], at=at)
    assert warnings.filters == before


def test_expiry_at_the_current_time_suggests_at() -> None:
    folder, c = _case("neg-vlek-expired")
    data = (folder / "report.bin").read_bytes()
    coll = load_collateral([folder / "vlek.der"])
    with pytest.raises(ChainInvalid) as exc:
        verify(data, collateral=coll, policy=_PERMISSIVE)  # at = now
    assert exc.value.reason is Reason.CERTIFICATE_EXPIRED
    assert "--at 2024-12-10T22:14:21Z" in str(exc.value)
    with pytest.raises(ChainInvalid) as exc:
        verify(data, collateral=coll, at=c["verification_time"], policy=_PERMISSIVE)
    assert exc.value.reason is Reason.CERTIFICATE_EXPIRED and "--at" not in str(exc.value)


def test_debug_report_with_only_the_vcek_is_authentic() -> None:
    folder, c = _case("gsg-milan-v2-vcek")
    data = (folder / "report.bin").read_bytes()
    with pytest.raises(PolicyRejected) as exc:
        verify(data, collateral=[folder / "vcek.der"], at=c["verification_time"])
    assert exc.value.reason is Reason.DEBUG_ENABLED


def test_v2_report_names_no_product_and_no_url() -> None:
    folder, c = _case("gsg-milan-v2-vcek")
    data = (folder / "report.bin").read_bytes()
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, at=c["verification_time"])
    (item,) = exc.value.missing
    ids = dict(item.ids)
    assert item.item == "VCEK" and item.url is None and "Milan or Genoa" in item.note
    assert ids["hwid"] == c["claims"]["chip_id"] and "ucode_spl" in ids
    # with the VCEK, the issuer names the product and the shipped Milan chain completes it
    with pytest.raises(PolicyRejected):  # a debug guest: authentic, rejected by policy
        verify(data, collateral=[folder / "vcek.der"], at=c["verification_time"])
