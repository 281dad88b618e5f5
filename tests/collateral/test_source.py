"""Collateral sources (collateral/source.py): static, chained (falling through only on
"unavailable"), the offline store's Intel and AMD layouts, vendor sources declining the other
vendor's requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

import cocoverify
from cocoverify.collateral import Collateral
from cocoverify.collateral.source import (
    ChainedSource,
    OfflineStore,
    StaticSource,
    amd_request,
    vcek_file_prefix,
)
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError, Reason
from cocoverify.tee.snp.parse import parse_report
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify_testing.intel import sgx_pck, sgx_qe_identity, sgx_tcb_info
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import VECTOR_TIME

from _shared.collateral import (
    AMD_TRUST,
    DER,
    GOOD_TCB,
    INTEL_ARGS,
    ONE,
    PKI,
    VLEK_ARGS,
    Counting,
    M,
    T,
    invalid,
    kds_on,
    pcs_on,
    serve_intel,
    serve_kds,
    tcb_args,
    unavailable,
    verify_sgx,
)
from _shared.loopback import Server


def test_static_source() -> None:
    assert StaticSource(ONE).intel(**INTEL_ARGS) is ONE
    assert StaticSource(ONE).amd(**VLEK_ARGS) is ONE
    with pytest.raises(CollateralUnavailable):
        StaticSource(Collateral()).intel(**INTEL_ARGS)


def test_chained_source_falls_through_only_on_unavailable() -> None:
    first, second = Counting(unavailable), Counting(lambda: ONE)
    assert ChainedSource(first, second).intel(**INTEL_ARGS) is ONE
    assert ChainedSource(first, second).amd(**VLEK_ARGS) is ONE
    with pytest.raises(CollateralInvalid):
        ChainedSource(Counting(invalid), second).intel(**INTEL_ARGS)
    with pytest.raises(CollateralUnavailable) as info:
        ChainedSource(first, Counting(unavailable)).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    with pytest.raises(ConfigurationError):
        ChainedSource()


def test_vendor_sources_decline_the_other_vendor(server: Server) -> None:
    serve_kds(server, M)
    serve_intel(server)
    pcs, _ = pcs_on(server)
    kds, _ = kds_on(server)
    both = ChainedSource(pcs, kds)
    assert M.asvk in both.amd(**VLEK_ARGS).certificates
    assert len(ChainedSource(kds, pcs).intel(**INTEL_ARGS).tcb_infos) == 1
    with pytest.raises(CollateralUnavailable):
        pcs.amd(**VLEK_ARGS)
    with pytest.raises(CollateralUnavailable):
        kds.intel(**INTEL_ARGS)


def _write_intel_store(root: Path, *, fmspc_upper: bool = False) -> Path:
    base = root / "intel"
    fmspc = sgx_pck().extension.fmspc.hex()
    (base / "sgx" / "tcb").mkdir(parents=True)
    (base / "pckcrl").mkdir()
    (base / "chains").mkdir()
    name_ = fmspc.upper() if fmspc_upper else fmspc
    (base / "sgx" / "tcb" / f"{name_}.json").write_bytes(PKI.tcb_info_body(sgx_tcb_info()))
    (base / "sgx" / "qe_identity.json").write_bytes(PKI.qe_identity_body(sgx_qe_identity()))
    ca = sgx_pck().ca
    (base / "pckcrl" / f"{ca}.der").write_bytes(PKI.pck_crl(ca).public_bytes(DER))
    (base / "rootcacrl.hex").write_bytes(PKI.root_crl.public_bytes(DER).hex().encode())
    (base / "chains" / "tcb_signing.pem").write_bytes(PKI.tcb_signing_chain_pem())
    return root


@pytest.mark.parametrize("upper", [False, True])
def test_offline_store_intel_verifies(tmp_path: Path, upper: bool) -> None:
    store = OfflineStore(_write_intel_store(tmp_path, fmspc_upper=upper))
    coll = store.intel(**INTEL_ARGS)
    assert verify_sgx(coll).accepted


@pytest.mark.parametrize(
    "remove",
    ["sgx/tcb/{fmspc}.json", "sgx/qe_identity.json", "pckcrl/{ca}.der", "rootcacrl.hex"],
)
def test_offline_store_intel_missing(tmp_path: Path, remove: str) -> None:
    _write_intel_store(tmp_path)
    fmspc = sgx_pck().extension.fmspc.hex()
    (tmp_path / "intel" / remove.format(fmspc=fmspc, ca=sgx_pck().ca)).unlink()
    with pytest.raises(CollateralUnavailable) as info:
        OfflineStore(tmp_path).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_offline_store_intel_wrong_content(tmp_path: Path) -> None:
    _write_intel_store(tmp_path)
    (tmp_path / "intel" / "sgx" / "qe_identity.json").write_bytes(PKI.tcb_info_body(sgx_tcb_info()))
    with pytest.raises(CollateralInvalid) as info:
        OfflineStore(tmp_path).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MALFORMED


def test_vcek_file_prefix() -> None:
    milan = amd_request(
        product="Milan",
        hwid=b"\x01" * 64,
        key_type="vcek",
        reported_tcb={"bl_spl": 3, "tee_spl": 0, "snp_spl": 8, "ucode_spl": 115},
    )
    assert vcek_file_prefix(milan) == "bl03_tee00_snp08_ucode115"
    turin = amd_request(
        product="Turin", hwid=b"\x01" * 8, key_type="vcek", reported_tcb={**GOOD_TCB, "fmc_spl": 1}
    )
    assert vcek_file_prefix(turin) == "bl03_tee00_snp20_ucode209_fmc01"


def _amd_args(report: bytes, product: str) -> dict[str, Any]:
    return {
        "product": product,
        "hwid": parse_report(report).chip_id,
        "reported_tcb": tcb_args(report, product),
        "key_type": "vcek",
        "at": VECTOR_TIME,
    }


def test_offline_store_trustee_layout(tmp_path: Path, milan_report: bytes) -> None:
    args = _amd_args(milan_report, "Milan")
    folder = tmp_path / "vcek" / args["hwid"].hex()
    folder.mkdir(parents=True)
    right = M.vcek_for(milan_report)
    other = M.vcek(hwid=args["hwid"], tcb=TcbVersion(1, 0, 1, 1))
    prefix = vcek_file_prefix(amd_request(**{k: v for k, v in args.items() if k != "at"}))
    (folder / "vcek.der").write_bytes(other.public_bytes(DER))
    (folder / f"{prefix}_vcek.der").write_bytes(right.public_bytes(DER))
    store = OfflineStore(tmp_path)
    assert store.amd(**args).certificates == (right,)  # the TCB-named file wins
    (folder / f"{prefix}_vcek.der").unlink()
    assert store.amd(**args).certificates == (other,)  # flat fallback
    chain_dir = tmp_path / "amd" / "Milan" / "vcek"
    chain_dir.mkdir(parents=True)
    (chain_dir / "cert_chain.pem").write_bytes(pem(M.ask, M.ark))
    (chain_dir / "crl.der").write_bytes(M.crl().public_bytes(DER))
    (folder / "vcek.der").write_bytes(right.public_bytes(DER))
    coll = store.amd(**args)
    assert set(coll.certificates) == {right, M.ask, M.ark} and len(coll.crls) == 1
    res = cocoverify.verify(milan_report, collateral=coll, trust=AMD_TRUST, at=VECTOR_TIME)
    assert res.accepted


def test_offline_store_turin_hwid_dirs(tmp_path: Path, turin_report: bytes) -> None:
    args = _amd_args(turin_report, "Turin")
    vcek = T.vcek_for(turin_report).public_bytes(DER)
    short = tmp_path / "vcek" / args["hwid"][:8].hex()
    short.mkdir(parents=True)
    (short / "vcek.der").write_bytes(vcek)
    assert len(OfflineStore(tmp_path).amd(**args).certificates) == 1
    (short / "vcek.der").unlink()
    full = tmp_path / "vcek" / (args["hwid"][:8] + bytes(56)).hex()
    full.mkdir(parents=True)
    (full / "vcek.der").write_bytes(vcek)
    assert len(OfflineStore(tmp_path).amd(**args).certificates) == 1


def test_offline_store_amd_missing(tmp_path: Path, milan_report: bytes) -> None:
    with pytest.raises(CollateralUnavailable):
        OfflineStore(tmp_path).amd(**_amd_args(milan_report, "Milan"))
    with pytest.raises(CollateralUnavailable):
        OfflineStore(tmp_path).amd(**VLEK_ARGS)
    folder = tmp_path / "amd" / "Milan" / "vlek"
    folder.mkdir(parents=True)
    (folder / "crl.pem").write_bytes(M.crl().public_bytes(Encoding.PEM))
    assert len(OfflineStore(tmp_path).amd(**VLEK_ARGS).crls) == 1


def test_offline_store_in_a_chain_defers_to_the_next(tmp_path: Path) -> None:
    fallback = Counting(lambda: ONE)
    assert ChainedSource(OfflineStore(tmp_path), fallback).amd(**VLEK_ARGS) is ONE
    assert fallback.calls == 1
