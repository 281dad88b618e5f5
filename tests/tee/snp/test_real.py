"""Every case of the real AMD vectors (../shared/vectors/amd/MANIFEST.json) at its time."""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from cocoverify import verify
from cocoverify._core.time import parse_time
from cocoverify.cli import main
from cocoverify.collateral import load_collateral
from cocoverify.errors import (
    AuthenticityError,
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    CollateralUnavailable,
    EvidenceError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    SignatureInvalid,
)
from cocoverify.policy import Policy
from cocoverify.result import to_jsonable
from cocoverify.tee.snp.chain import verify_chain_roles, verify_vek_chain
from cocoverify.tee.snp.parse import parse_report
from cocoverify.tee.snp.verify import check_binding, parse_vek_extensions
from cocoverify.trust import TrustStore

from _shared import require_shared, shared_manifest

_MANIFEST = shared_manifest("amd")
_CASES = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
_ROLES = ("vcek", "vlek", "ask", "asvk", "ark", "crl")

#: The rejection each negative case must produce (class, reason).
_INVALID: dict[str, tuple[type[CocoverifyError], Reason]] = {
    "neg-turin-tampered-measurement": (SignatureInvalid, Reason.SIGNATURE_INVALID),
    "neg-turin-tampered-reported-tcb": (SignatureInvalid, Reason.SIGNATURE_INVALID),
    "neg-milan-report-with-genoa-vcek": (ChainInvalid, Reason.PRODUCT_MISMATCH),
    "neg-milan-vcek-under-genoa-chain": (ChainInvalid, Reason.PRODUCT_MISMATCH),
    "neg-milan-wrong-chip-vcek": (SignatureInvalid, Reason.SIGNATURE_INVALID),
    "neg-vlek-expired": (ChainInvalid, Reason.CERTIFICATE_EXPIRED),
    "neg-turin-before-vcek-issued": (ChainInvalid, Reason.CERTIFICATE_NOT_YET_VALID),
    "neg-genoa-report-truncated": (MalformedEvidence, Reason.TRUNCATED),
    # genuine ASK and ARK under each other's file name: the stated roles are contradicted
    "neg-milan-ask-ark-swapped": (ChainInvalid, Reason.CHAIN_INVALID),
}


def _ids(pred: Any) -> list[str]:
    return [cid for cid, c in _CASES.items() if pred(c)] or ["<no manifest>"]


def _case(cid: str) -> tuple[Path, dict[str, Any]]:
    base = require_shared("amd")
    if cid not in _CASES:
        pytest.skip("no AMD manifest")
    c = _CASES[cid]
    return base / c["dir"], c


def _collateral_paths(folder: Path, c: dict[str, Any], *, crl: bool = True) -> list[Path]:
    # role order, as the CLI is used: --collateral vcek --collateral ask --collateral ark
    return [folder / c["files"][r] for r in _ROLES if r in c["files"] and (crl or r != "crl")]


def _load(paths: list[Path]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        return load_collateral(paths)


def _certs(folder: Path, c: dict[str, Any], role: str) -> x509.Certificate:
    coll = _load([folder / c["files"][role]])
    return coll.certificates[0]  # type: ignore[no-any-return]


def _run(folder: Path, c: dict[str, Any], policy: Policy | None = None) -> Any:
    data = (folder / c["files"]["report"]).read_bytes()
    return verify(
        data,
        collateral=_load(_collateral_paths(folder, c)),
        at=c["verification_time"],
        policy=policy,
    )


_VALID = _ids(lambda c: c["expected"]["outcome"] == "valid" and "report" in c["files"])


@pytest.mark.parametrize("cid", _VALID)
def test_valid_cases_are_authentic(cid: str) -> None:
    folder, c = _case(cid)
    debug = c["claims"]["policy_decoded"]["debug"]
    try:
        result = _run(folder, c)
        claims = result.claims
        assert not debug
    except PolicyRejected as exc:
        # the default policy rejects debug guests (gsg-milan-v2-vcek has DEBUG set)
        assert debug and exc.reason is Reason.DEBUG_ENABLED
        assert exc.result is not None
        claims = exc.result.claims
        result = exc.result
    _assert_claims(claims, c["claims"])
    assert claims["product"] == c["product"]
    assert claims["signing_key"] == c["signing_key"]
    assert result.collateral["revocation_checked"] == ("crl" in c["files"])
    # permissive policy (debug allowed) accepts every valid case
    accepted = _run(folder, c, Policy.from_dict({"unsafe_allow_debug": True}))
    assert accepted.accepted


def _hexint(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


def _assert_claims(ours: Any, theirs: dict[str, Any]) -> None:
    j = to_jsonable(ours)
    for key in (
        "measurement",
        "report_data",
        "host_data",
        "chip_id",
        "family_id",
        "image_id",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
    ):
        assert j[key] == theirs[key], key
    for key in ("vmpl", "guest_svn", "author_key_en", "mask_chip_key"):
        assert j[key] == theirs[key], key
    assert j["policy"]["raw"] == _hexint(theirs["policy"])
    assert {k: v for k, v in j["policy"].items() if k != "raw"} == {
        k: v for k, v in theirs["policy_decoded"].items() if k != "reserved_must_be_1"
    }
    assert j["platform_info"]["raw"] == _hexint(theirs["platform_info"])
    assert {k: v for k, v in j["platform_info"].items() if k != "raw"} == theirs[
        "platform_info_decoded"
    ]
    for key in ("reported_tcb", "current_tcb", "committed_tcb", "launch_tcb"):
        want = dict(theirs[key])
        assert j[key]["raw_u64"] == _hexint(want.pop("raw_u64")), key
        assert {k: v for k, v in j[key].items() if k != "raw_u64"} == want, key
    for ours_key, their_key in (
        ("current_firmware", "current_version"),
        ("committed_firmware", "committed_version"),
    ):
        fw = j[ours_key]
        assert f"{fw['major']}.{fw['minor']} build {fw['build']}" == theirs[their_key]
    if "cpuid" in theirs:
        cp = theirs["cpuid"]
        assert j["cpuid"] == {
            "family": _hexint(cp["family"]),
            "model": _hexint(cp["model"]),
            "stepping": _hexint(cp["stepping"]),
        }
    else:
        assert "cpuid" not in j
    for key in ("launch_mit_vector", "current_mit_vector"):
        if key in theirs:
            assert j[key] == _hexint(theirs[key])
        else:
            assert key not in j


@pytest.mark.parametrize("cid", sorted(_INVALID))
def test_invalid_cases_are_rejected(cid: str) -> None:
    folder, c = _case(cid)
    assert c["expected"]["outcome"] == "invalid"
    cls, reason = _INVALID[cid]
    with pytest.raises(cls) as exc:
        _run(folder, c, Policy.from_dict({"unsafe_allow_debug": True}))
    assert exc.value.reason is reason
    assert isinstance(exc.value, AuthenticityError | EvidenceError)


def test_every_invalid_case_is_covered() -> None:
    require_shared("amd")
    invalid = {
        cid
        for cid, c in _CASES.items()
        if c["expected"]["outcome"] == "invalid" and "report" in c["files"]
    }
    assert invalid == set(_INVALID)


def test_tampered_reports_also_fail_the_binding() -> None:
    # beyond the signature, the extension binding alone catches both
    for cid, product, reason in (
        ("neg-turin-tampered-reported-tcb", "Turin", Reason.TCB_MISMATCH),
        ("neg-milan-wrong-chip-vcek", "Milan", Reason.CHIP_ID_MISMATCH),
    ):
        folder, c = _case(cid)
        report = parse_report((folder / c["files"]["report"]).read_bytes())
        ext = parse_vek_extensions(_certs(folder, c, "vcek"))
        with pytest.raises(ChainInvalid) as exc:
            check_binding(ext, report, product=product, kind="VCEK")
        assert exc.value.reason is reason


def test_swapped_ask_ark_files() -> None:
    """neg-milan-ask-ark-swapped holds the genuine ASK and ARK under each other's file name.

    Collateral is recognised by content, but a file named after a role must hold that role
    (docs/snp.md): through ``verify()`` the swap is chain_invalid. Renamed neutrally, the
    same certificates are the genuine chain. With roles stated explicitly, the "ARK" is not
    the pinned ARK: untrusted_root.
    """
    folder, c = _case("neg-milan-ask-ark-swapped")
    with pytest.raises(ChainInvalid) as named:
        _run(folder, c)
    assert named.value.reason is Reason.CHAIN_INVALID
    with tempfile.TemporaryDirectory() as tmp:
        neutral = []
        for i, path in enumerate(_collateral_paths(folder, c)):
            dst = Path(tmp) / f"item{i}{path.suffix}"
            shutil.copy(path, dst)
            neutral.append(dst)
        data = (folder / c["files"]["report"]).read_bytes()
        assert verify(data, collateral=_load(neutral), at=c["verification_time"]).accepted
    vek = _certs(folder, c, "vcek")
    with pytest.raises(ChainInvalid) as exc:
        verify_chain_roles(
            vek,
            _certs(folder, c, "ask"),
            _certs(folder, c, "ark"),
            product="Milan",
            trust=TrustStore.default(),
            at=_at(c),
        )
    assert exc.value.reason is Reason.UNTRUSTED_ROOT


def _at(c: dict[str, Any]) -> Any:
    return parse_time(c["verification_time"])


@pytest.mark.parametrize("cid", _ids(lambda c: "report" not in c["files"]))
def test_chain_only_cases(cid: str) -> None:
    folder, c = _case(cid)
    vek = _certs(folder, c, "vcek")
    pool = [_certs(folder, c, "ask"), _certs(folder, c, "ark")]
    product = _product_of(vek)
    if c["expected"]["outcome"] == "valid":
        inter, ark = verify_vek_chain(
            vek, pool, product=product, trust=TrustStore.default(), at=_at(c)
        )
        assert ark == pool[1] and inter == pool[0]
    else:
        with pytest.raises(ChainInvalid) as exc:
            verify_vek_chain(vek, pool, product=product, trust=TrustStore.default(), at=_at(c))
        assert exc.value.reason is Reason.CHAIN_INVALID


def _product_of(vek: x509.Certificate) -> str:
    cn = vek.issuer.rfc4514_string()
    return next(p for p in ("Milan", "Genoa", "Turin") if f"SEV-{p}" in cn)


def test_octet_string_hwid_is_unwrapped() -> None:
    folder, c = _case("trustee-milan-vcek-octet-hwid-chain-only")
    raw = parse_vek_extensions(_certs(folder, c, "vcek"))
    folder2, c2 = _case("trustee-milan-vcek-raw-hwid-chain-only")
    assert raw.hwid == parse_vek_extensions(_certs(folder2, c2, "vcek")).hwid
    assert raw.hwid is not None and len(raw.hwid) == 64


def test_turin_vcek_extensions() -> None:
    folder, c = _case("anolis-turin-v5-vcek")
    ext = parse_vek_extensions(_certs(folder, c, "vcek"))
    want = c["vcek_cert"]["kds_extensions"]
    assert (
        ext.struct_version,
        ext.product_name,
        ext.fmc_spl,
        ext.bl_spl,
        ext.tee_spl,
        ext.snp_spl,
        ext.ucode_spl,
    ) == (
        want["struct_version"],
        want["product_name"],
        want["fmc_spl"],
        want["bl_spl"],
        want["tee_spl"],
        want["snp_spl"],
        want["ucode_spl"],
    )
    assert ext.hwid is not None and ext.hwid.hex() == want["hwid"]


def test_vlek_csp_id() -> None:
    folder, c = _case("anolis-milan-v2-vlek")
    result = _run(folder, c)
    assert result.collateral["csp_id"] == c["vlek_cert"]["kds_extensions"]["csp_id"]


@pytest.mark.parametrize("cid", _ids(lambda c: c["expected"]["outcome"] == "parse_only"))
def test_parse_only_cases(cid: str) -> None:
    folder, c = _case(cid)
    data = (folder / c["files"]["report"]).read_bytes()
    report = parse_report(data)
    assert report.to_bytes() == data
    assert report.measurement.hex() == c["claims"]["measurement"]
    assert report.chip_id.hex() == c["claims"]["chip_id"]
    with pytest.raises(CollateralUnavailable) as exc:
        verify(data, at="2025-01-01T00:00:00Z")
    assert exc.value.reason is Reason.COLLATERAL_MISSING


def test_real_crls() -> None:
    base = require_shared("amd")
    # Genoa CRL (revokes the earlier ASK 0x020001) applied to the current Genoa ASK
    folder, c = _case("openpcc-azure-genoa-v3-vcek")
    result = _run(folder, c)
    assert result.collateral["revocation_checked"] is True
    # the Milan CRL (2025-05-06..2026-05-12) is current at ms-milan-v3-vcek's time
    folder, c = _case("ms-milan-v3-vcek")
    paths = [*_collateral_paths(folder, c), base / "roots" / "milan_crl.pem"]
    data = (folder / c["files"]["report"]).read_bytes()
    result = verify(data, collateral=_load(paths), at=c["verification_time"])
    assert result.collateral["revocation_checked"] is True
    # the Genoa CRL is stale at ms-genoa-v3-vcek's time (nextUpdate 2025-11-03)
    folder, c = _case("ms-genoa-v3-vcek")
    paths = [*_collateral_paths(folder, c), base / "roots" / "genoa_crl.pem"]
    data = (folder / c["files"]["report"]).read_bytes()
    with pytest.raises(CollateralInvalid) as exc:
        verify(data, collateral=_load(paths), at=c["verification_time"])
    assert exc.value.reason is Reason.CRL_EXPIRED


def test_real_vectors_load_by_content_from_a_directory() -> None:
    # a directory of mixed files (sorted names: ark, ask, report.bin, vcek) loads by content
    folder, c = _case("ms-turin-v5-vcek")
    data = (folder / c["files"]["report"]).read_bytes()
    result = verify(data, collateral=_load([folder]), at=c["verification_time"])
    assert result.claims["product"] == "Turin"


def test_require_crl_without_crl() -> None:
    folder, c = _case("ms-milan-v3-vcek")
    with pytest.raises(CollateralUnavailable) as exc:
        _run(folder, c, Policy.from_dict({"require_crl": True}))
    assert exc.value.reason is Reason.CRL_MISSING


@pytest.mark.parametrize(
    ("cid", "code"),
    [
        ("ms-turin-v5-vcek", 0),
        ("anolis-milan-v2-vlek", 0),
        ("gsg-milan-v2-vcek", 5),
        ("neg-milan-report-with-genoa-vcek", 3),
        ("neg-genoa-report-truncated", 2),
    ],
)
def test_cli(cid: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    folder, c = _case(cid)
    argv = ["verify", str(folder / c["files"]["report"])]
    for p in _collateral_paths(folder, c):
        argv += ["--collateral", str(p)]
    argv += ["--at", c["verification_time"], "--format", "json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == code
    out = json.loads(capsys.readouterr().out)
    if code == 0:
        assert out["claims"]["measurement"] == c["claims"]["measurement"]
        assert out["collateral"]["revocation_checked"] is False
