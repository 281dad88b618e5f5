"""Missing Intel collateral is named all at once, each piece with its identifiers and its
PCS v4 URL; a source is asked for what is missing and may fail without hiding supplied
collateral; an expiry at the current time suggests ``--at``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cocoverify import Collateral, verify
from cocoverify.cli import main
from cocoverify.collateral import load_collateral
from cocoverify.collateral.requests import CollateralRequest, IntelRequest
from cocoverify.errors import (
    FETCH_COMMAND,
    CollateralInvalid,
    CollateralUnavailable,
    Reason,
)

from _shared import require_shared, shared_manifest

_CASE = "tdx-v4-dcapqvl-sample"
_AT = "2025-07-04T10:16:31Z"
_FMSPC = "b0c06f000000"
_PCS = "https://api.trustedservices.intel.com"


_ROLES = (
    "tcb_info",
    "qe_identity",
    "pck_crl",
    "root_ca_crl",
    "tcb_info_issuer_chain",
    "qe_identity_issuer_chain",
    "pck_crl_issuer_chain",
)


def _files() -> tuple[bytes, dict[str, Path]]:
    """The quote and its collateral files by manifest role."""
    base = require_shared("intel")
    (case,) = [c for c in shared_manifest("intel")["cases"] if c["id"] == _CASE]  # type: ignore[index]
    folder, files = base / _CASE, case["files"]
    return (folder / files["quote"]).read_bytes(), {r: folder / files[r] for r in _ROLES}


def _paths(files: dict[str, Path], *roles: str) -> list[Path]:
    return [files[r] for r in roles]


def test_everything_missing_is_listed_in_one_error() -> None:
    quote, _ = _files()
    with pytest.raises(CollateralUnavailable) as exc:
        verify(quote, at=_AT)
    err = exc.value
    assert err.reason is Reason.CRL_MISSING  # the reason of the first check, as before
    items = {m.item: m for m in err.missing}
    assert list(items) == [
        "TDX TCB Info",
        "QE Identity",
        "PCK CRL",
        "Root CA CRL",
        "TCB Signing issuer chain",
    ]
    assert dict(items["TDX TCB Info"].ids) == {"fmspc": _FMSPC, "tee": "tdx"}
    assert items["TDX TCB Info"].url == f"{_PCS}/tdx/certification/v4/tcb?fmspc={_FMSPC}"
    assert dict(items["QE Identity"].ids) == {"id": "TD_QE", "tee": "tdx"}
    assert items["QE Identity"].url == f"{_PCS}/tdx/certification/v4/qe/identity"
    assert dict(items["PCK CRL"].ids) == {"ca": "platform"}
    assert items["PCK CRL"].url == f"{_PCS}/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
    assert items["Root CA CRL"].url == (
        "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
    )
    for m in err.missing:
        assert m.tee == "tdx"
        assert isinstance(m.request, IntelRequest)
        assert (m.request.fmspc.hex(), m.request.ca, m.request.tee) == (_FMSPC, "platform", "tdx")
        assert m.url is not None and m.url in str(err)
    assert FETCH_COMMAND in str(err)


@pytest.mark.parametrize(
    ("supplied", "still_missing"),
    [
        (
            ("tcb_info", "tcb_info_issuer_chain", "root_ca_crl"),
            ["QE Identity", "PCK CRL"],
        ),
        (
            ("tcb_info", "qe_identity", "tcb_info_issuer_chain", "pck_crl"),
            ["Root CA CRL"],
        ),
        (
            ("pck_crl", "root_ca_crl", "qe_identity", "tcb_info_issuer_chain"),
            ["TDX TCB Info"],
        ),
    ],
)
def test_only_what_is_missing_is_listed(
    supplied: tuple[str, ...], still_missing: list[str]
) -> None:
    quote, files = _files()
    with pytest.raises(CollateralUnavailable) as exc:
        verify(quote, collateral=load_collateral(_paths(files, *supplied)), at=_AT)
    assert [m.item for m in exc.value.missing] == still_missing


class _Source:
    def __init__(self, answer: Collateral | None) -> None:
        self.answer = answer
        self.requests: list[CollateralRequest] = []

    def fetch(self, request: CollateralRequest, *, at: dt.datetime) -> Collateral:
        self.requests.append(request)
        if self.answer is None:
            raise CollateralUnavailable("PCCS unreachable", reason=Reason.COLLATERAL_MISSING)
        return self.answer


def test_source_supplies_the_missing_pieces() -> None:
    quote, files = _files()
    have = load_collateral(_paths(files, "tcb_info", "tcb_info_issuer_chain", "qe_identity"))
    rest = load_collateral(_paths(files, "pck_crl", "root_ca_crl"))
    source = _Source(rest)
    assert verify(quote, collateral=have, at=_AT, collateral_source=source).accepted
    (request,) = source.requests
    assert isinstance(request, IntelRequest) and request.fmspc.hex() == _FMSPC


def test_an_unavailable_source_leaves_complete_collateral_to_decide() -> None:
    quote, files = _files()
    everything = load_collateral(list(files.values()))
    assert verify(quote, collateral=everything, at=_AT, collateral_source=_Source(None)).accepted
    partial = load_collateral(_paths(files, "tcb_info", "tcb_info_issuer_chain", "qe_identity"))
    with pytest.raises(CollateralUnavailable) as exc:
        verify(quote, collateral=partial, at=_AT, collateral_source=_Source(None))
    assert [m.item for m in exc.value.missing] == ["PCK CRL", "Root CA CRL"]
    assert "PCCS unreachable" in str(exc.value)


def _expired(**kwargs: Any) -> CollateralInvalid:
    quote, files = _files()
    with pytest.raises(CollateralInvalid) as exc:
        verify(quote, collateral=load_collateral(list(files.values())), **kwargs)
    return exc.value


def test_expired_collateral_at_the_current_time_suggests_at() -> None:
    now = _expired()  # at = now: the 2025 CRLs and TCB Info are long stale
    assert now.reason in (Reason.CRL_EXPIRED, Reason.COLLATERAL_EXPIRED)
    assert "--at 20" in str(now)
    later = _expired(at="2030-01-01T00:00:00Z")  # an explicit time: no hint
    assert later.reason is now.reason and "--at" not in str(later)


def test_the_suggested_time_verifies() -> None:
    """The hint names a time inside every supplied document's window (was the Root CA CRL's
    issue date, at which the TCB Info was not yet valid)."""

    quote, files = _files()
    hint = re.search(r"--at (\S+Z) \(every piece", str(_expired()))
    assert hint is not None, str(_expired())
    r = verify(quote, collateral=load_collateral(list(files.values())), at=hint.group(1))
    assert r.tcb_status is not None


def test_cli_prints_the_missing_list(capsys: pytest.CaptureFixture[str]) -> None:
    quote_bytes, files = _files()
    del quote_bytes
    quote = str(files["tcb_info"].parent / "tdx_quote")
    argv = ["verify", quote, "--collateral", str(files["tcb_info"]), "--at", _AT]
    assert main(argv) == 4
    out = capsys.readouterr().out
    assert "missing collateral (4):" in out
    for url in (
        f"{_PCS}/tdx/certification/v4/qe/identity",
        f"{_PCS}/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
        "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
    ):
        assert f"      {url}\n" in out
    assert f"fetch it all: cocoverify fetch {quote} -o DIR" in out
    assert main([*argv, "--format", "json"]) == 4
    doc = json.loads(capsys.readouterr().out)
    assert doc["reason"] == "crl_missing"
    assert [m["item"] for m in doc["missing"]] == [
        "QE Identity",
        "PCK CRL",
        "Root CA CRL",
        "TCB Signing issuer chain",
    ]
    assert doc["missing"][1]["ids"] == {"ca": "platform"}
