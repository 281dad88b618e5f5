"""Collateral sources: where a pipeline gets collateral the caller did not hand over.

Offline files stay the default; nothing here fetches unless the caller builds a source
(docs/collateral-sources.md). A source only fetches and parses: everything it returns is
verified by the pipelines exactly like a file given on the command line.

* :class:`CollateralSource`: the protocol: ``fetch(request, at=...)`` with a typed request
  (:mod:`.requests`); :class:`SourceBase` adds the ``intel(...)`` / ``amd(...)`` shorthands.
* :class:`StaticSource`: one :class:`~cocoverify.collateral.Collateral` for every request.
* :class:`ChainedSource`: the first source that has it (falls through on
  ``CollateralUnavailable`` only; anything else propagates).
* :class:`OfflineStore`: a directory (layout in its docstring), including trustee's VCEK
  store ``{path}/vcek/{hwid}/{tcb}_vcek.der`` / ``vcek.der``.

Online sources: :mod:`.intel_pcs` (Intel PCS / PCCS / Azure THIM), :mod:`.amd_kds`;
caching: :mod:`.cache`.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import (
    AMD_PRODUCTS,
    AmdRequest,
    CollateralRequest,
    IntelRequest,
    amd_request,
    check_at,
    intel_request,
    vcek_file_prefix,
)
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError, Reason

__all__ = [
    "AMD_PRODUCTS",
    "AmdRequest",
    "ChainedSource",
    "CollateralRequest",
    "CollateralSource",
    "IntelRequest",
    "OfflineStore",
    "SourceBase",
    "StaticSource",
    "amd_request",
    "check_at",
    "intel_request",
    "parse_item",
    "vcek_file_prefix",
]


class CollateralSource(Protocol):
    """Fetches collateral for one typed request. Raises CollateralUnavailable
    (``collateral_missing``) when it cannot, or does not serve that kind of request; never
    verifies (the pipelines do)."""

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """The collateral ``request`` names, as of ``at``."""
        ...


class SourceBase:
    """Shorthands for the built-in sources: ``intel(...)`` and ``amd(...)`` build the typed
    request and call :meth:`fetch`."""

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """Implemented by each source."""
        raise NotImplementedError

    def intel(self, *, fmspc: bytes, ca: str, tee: str, at: _dt.datetime) -> Collateral:
        """``fetch(IntelRequest(...))``."""
        return self.fetch(intel_request(fmspc=fmspc, ca=ca, tee=tee), at=check_at(at))

    def amd(
        self,
        *,
        product: str,
        hwid: bytes,
        reported_tcb: Mapping[str, int],
        key_type: str,
        at: _dt.datetime,
    ) -> Collateral:
        """``fetch(AmdRequest(...))``."""
        req = amd_request(product=product, hwid=hwid, reported_tcb=reported_tcb, key_type=key_type)
        return self.fetch(req, at=check_at(at))


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


# --- parsing fetched or stored bytes ---------------------------------------------------------

_KINDS = ("tcb_info", "qe_identity", "crl", "chain", "certificate")


def parse_item(data: bytes, *, kind: str, source: str) -> Collateral:
    """Recognise ``data`` by content (``Collateral.from_bytes``) and require ``kind``:
    tcb_info, qe_identity, crl, chain (>= 1 certificate) or certificate (exactly one).
    Anything else: CollateralInvalid(collateral_malformed)."""
    assert kind in _KINDS
    item = Collateral.from_bytes(data, source=source)
    n_certs = sum(len(c) for c in item.chains)
    ok = {
        "tcb_info": len(item.tcb_infos) == 1,
        "qe_identity": len(item.qe_identities) == 1,
        "crl": len(item.crls) == 1 and not item.chains,
        "chain": n_certs >= 1 and not item.crls,
        "certificate": n_certs == 1 and not item.crls,
    }[kind]
    if not ok:
        raise CollateralInvalid(
            f"{source}: not a {kind.replace('_', ' ')}", reason=Reason.COLLATERAL_MALFORMED
        )
    return item


# --- simple sources ----------------------------------------------------------------------------


class StaticSource(SourceBase):
    """The same :class:`Collateral` for every request (empty: CollateralUnavailable)."""

    def __init__(self, collateral: Collateral) -> None:
        self.collateral = collateral

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """The wrapped collateral."""
        check_at(at)
        if self.collateral == Collateral():
            raise CollateralUnavailable(
                "static source: no collateral", reason=Reason.COLLATERAL_MISSING
            )
        return self.collateral


class ChainedSource(SourceBase):
    """Asks each source in turn; the first answer wins. Only CollateralUnavailable falls
    through (so a store that lacks an item defers to KDS); malformed collateral or a
    configuration error propagates. All unavailable: CollateralUnavailable."""

    def __init__(self, *sources: CollateralSource) -> None:
        if not sources:
            raise _bad("ChainedSource: at least one source is required")
        self.sources: tuple[CollateralSource, ...] = sources

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """The first source's answer."""
        at = check_at(at)
        failures: list[str] = []
        for src in self.sources:
            try:
                return src.fetch(request, at=at)
            except CollateralUnavailable as exc:
                failures.append(f"{type(src).__name__}: {exc}")
        raise CollateralUnavailable(
            "no source has it: " + "; ".join(failures), reason=Reason.COLLATERAL_MISSING
        )


# --- offline store -----------------------------------------------------------------------------


class OfflineStore(SourceBase):
    """Collateral stored in a directory. Files are recognised by content; the names below
    only say where to look (``{FMSPC}`` hex, lower or upper case; a CRL may be DER, PEM
    or hex text, so ``.der``, ``.pem``, ``.crl``, ``.hex`` or no extension)::

        {path}/intel/{sgx|tdx}/tcb/{FMSPC}.json        TCB Info body, exactly as served
        {path}/intel/{sgx|tdx}/qe_identity.json        QE Identity (QE; TD_QE for tdx)
        {path}/intel/pckcrl/{platform|processor}.der   PCK CRL
        {path}/intel/rootcacrl.der                     Root CA CRL
        {path}/intel/chains/*.pem                      issuer chains (all files loaded)
        {path}/amd/{Milan|Genoa|Turin}/{vcek|vlek}/cert_chain.pem   ASK|ASVK + ARK
        {path}/amd/{Milan|Genoa|Turin}/{vcek|vlek}/crl.der          ARK's CRL
        {path}/vcek/{hwid}/{bl..}_{tee..}_{snp..}_{ucode..}[_fmc..]_vcek.der   (trustee)
        {path}/vcek/{hwid}/vcek.der                    fallback (trustee's flat layout)

    ``{hwid}``: lower-case hex of what KDS is asked for (128 digits; 16 for Turin, whose
    64-byte form is also tried). Intel: TCB Info, QE Identity and both CRLs are required
    (else CollateralUnavailable). AMD: the VCEK is required for ``vcek`` (else
    CollateralUnavailable), chain and CRL are added when present; for ``vlek`` at least
    one of chain and CRL is required.
    """

    _CRL_EXTS = (".der", ".pem", ".crl", ".hex", "")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @staticmethod
    def _missing(what: str, where: Path | Sequence[Path]) -> CollateralUnavailable:
        shown = where if isinstance(where, Path) else ", ".join(str(p) for p in where)
        return CollateralUnavailable(
            f"offline store: no {what} ({shown})", reason=Reason.COLLATERAL_MISSING
        )

    @staticmethod
    def _read(path: Path, kind: str) -> Collateral:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CollateralUnavailable(
                f"{path}: cannot read ({exc.strerror})", reason=Reason.COLLATERAL_MISSING
            ) from None
        return parse_item(data, kind=kind, source=str(path))

    def _first(self, candidates: Sequence[Path]) -> Path | None:
        return next((p for p in candidates if p.is_file()), None)

    def _crl_file(self, stem: Path) -> Path | None:
        return self._first([stem.with_name(stem.name + e) for e in self._CRL_EXTS])

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """What the store holds for ``request``."""
        check_at(at)
        if isinstance(request, IntelRequest):
            return self._intel(request)
        return self._amd(request)

    def _intel(self, req: IntelRequest) -> Collateral:
        """TCB Info, QE Identity, PCK CRL, Root CA CRL and the stored issuer chains."""
        base = self.path / "intel"
        tcb_dir = base / req.tee / "tcb"
        tcb_names = [
            tcb_dir / f"{req.fmspc.hex()}.json",
            tcb_dir / f"{req.fmspc.hex().upper()}.json",
        ]
        tcb = self._first(tcb_names)
        if tcb is None:
            raise self._missing(
                f"{req.tee.upper()} TCB Info for FMSPC {req.fmspc.hex()}", tcb_names
            )
        qe = base / req.tee / "qe_identity.json"
        if not qe.is_file():
            raise self._missing("QE Identity", qe)
        pck_crl = self._crl_file(base / "pckcrl" / req.ca)
        if pck_crl is None:
            raise self._missing(f"{req.ca} PCK CRL", base / "pckcrl" / req.ca)
        root_crl = self._crl_file(base / "rootcacrl")
        if root_crl is None:
            raise self._missing("Root CA CRL", base / "rootcacrl")
        out = (
            self._read(tcb, "tcb_info")
            + self._read(qe, "qe_identity")
            + self._read(pck_crl, "crl")
            + self._read(root_crl, "crl")
        )
        chains = base / "chains"
        if chains.is_dir():
            for p in sorted(chains.iterdir()):
                if p.is_file():
                    out = out + self._read(p, "chain")
        return out

    def _vcek_file(self, req: AmdRequest) -> Path | None:
        prefix = vcek_file_prefix(req)
        hwids = [req.hwid.hex()]
        if req.product == "Turin":
            hwids.append((req.hwid + bytes(56)).hex())
        candidates = [self.path / "vcek" / h / f"{prefix}_vcek.der" for h in hwids]
        candidates += [self.path / "vcek" / h / "vcek.der" for h in hwids]
        return self._first(candidates)

    def _amd(self, req: AmdRequest) -> Collateral:
        """The VCEK (for ``vcek``), the stored chain and CRL."""
        out = Collateral()
        if req.key_type == "vcek":
            vcek = self._vcek_file(req)
            if vcek is None:
                raise self._missing(
                    f"VCEK for hwid {req.hwid.hex()[:16]}... at {vcek_file_prefix(req)}",
                    self.path / "vcek" / req.hwid.hex(),
                )
            out = out + self._read(vcek, "certificate")
        folder = self.path / "amd" / req.product / req.key_type
        chain = folder / "cert_chain.pem"
        crl = self._crl_file(folder / "crl")
        if req.key_type == "vlek" and not chain.is_file() and crl is None:
            raise self._missing(f"{req.product} VLEK chain or CRL", folder)
        if chain.is_file():
            out = out + self._read(chain, "chain")
        if crl is not None:
            out = out + self._read(crl, "crl")
        return out
