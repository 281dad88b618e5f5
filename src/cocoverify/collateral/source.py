"""Collateral sources: where a pipeline gets collateral the caller did not hand over.

Offline files stay the default; nothing here fetches unless the caller builds a source
(docs/collateral-sources.md). A source only fetches and parses: everything it returns is
verified by the pipelines exactly like a file given on the command line.

* :class:`CollateralSource`: the protocol (``intel(...)``, ``amd(...)``).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError, Reason

__all__ = [
    "AMD_PRODUCTS",
    "AmdRequest",
    "ChainedSource",
    "CollateralSource",
    "IntelRequest",
    "OfflineStore",
    "StaticSource",
    "amd_request",
    "intel_request",
    "parse_item",
    "vcek_file_prefix",
]

AMD_PRODUCTS = ("Milan", "Genoa", "Turin")
_TCB_KEYS = ("bl_spl", "tee_spl", "snp_spl", "ucode_spl")


class CollateralSource(Protocol):
    """Fetches collateral for one piece of evidence. Raises CollateralUnavailable
    (``collateral_missing``) when it cannot; never verifies (the pipelines do)."""

    def intel(self, *, fmspc: bytes, ca: str, tee: str, at: _dt.datetime) -> Collateral:
        """TCB Info (for ``tee``), QE Identity (QE / TD_QE), the PCK CRL of ``ca``
        ("platform" | "processor"), the Root CA CRL and the issuer chains."""
        ...

    def amd(
        self,
        *,
        product: str,
        hwid: bytes,
        reported_tcb: Mapping[str, int],
        key_type: str,
        at: _dt.datetime,
    ) -> Collateral:
        """VCEK (``key_type="vcek"``; not for "vlek"), ASK/ASVK + ARK and the CRL."""
        ...


# --- requests: validated, normalised arguments (also the cache keys) ----------------------


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


def check_at(at: _dt.datetime) -> _dt.datetime:
    """``at`` as aware UTC (a naive datetime is ambiguous)."""
    if not isinstance(at, _dt.datetime) or at.tzinfo is None:
        raise _bad("at: an aware datetime is required")
    return at.astimezone(_dt.UTC)


@dataclass(frozen=True, slots=True)
class IntelRequest:
    """Normalised arguments of ``intel(...)``."""

    fmspc: bytes
    ca: str
    tee: str

    @property
    def key(self) -> tuple[str, ...]:
        """The cache key."""
        return ("intel", self.tee, self.ca, self.fmspc.hex())


def intel_request(*, fmspc: bytes, ca: str, tee: str) -> IntelRequest:
    """Check the arguments of ``intel(...)`` (intel.md §4: FMSPC is 6 bytes)."""
    if not isinstance(fmspc, bytes | bytearray) or len(fmspc) != 6:
        raise _bad("fmspc: 6 bytes expected")
    if ca not in ("platform", "processor"):
        raise _bad(f"ca: 'platform' or 'processor', not {ca!r}")
    if tee not in ("sgx", "tdx"):
        raise _bad(f"tee: 'sgx' or 'tdx', not {tee!r}")
    return IntelRequest(bytes(fmspc), ca, tee)


@dataclass(frozen=True, slots=True)
class AmdRequest:
    """Normalised arguments of ``amd(...)``. ``hwid`` is what KDS is asked for: 64 bytes
    (Milan/Genoa) or the first 8 bytes of CHIP_ID (Turin; amd.md §9); empty for VLEK."""

    product: str
    key_type: str
    hwid: bytes
    tcb: tuple[tuple[str, int], ...]

    @property
    def key(self) -> tuple[str, ...]:
        """The cache key (for a VLEK only product and key type matter)."""
        tcb = ",".join(f"{k}={v}" for k, v in self.tcb)
        return ("amd", self.product, self.key_type, self.hwid.hex(), tcb)

    @property
    def spl(self) -> dict[str, int]:
        """The TCB as a dict (``bl_spl``...)."""
        return dict(self.tcb)


def amd_request(
    *, product: str, hwid: bytes, reported_tcb: Mapping[str, int], key_type: str
) -> AmdRequest:
    """Check the arguments of ``amd(...)`` (amd.md §3, §9).

    An all-zero CHIP_ID (MASK_CHIP_ID, amd.md §2.3) cannot name a VCEK:
    CollateralUnavailable. Bad arguments: ConfigurationError(invalid_argument).
    """
    if product not in AMD_PRODUCTS:
        raise _bad(f"product: one of {', '.join(AMD_PRODUCTS)}, not {product!r}")
    if key_type not in ("vcek", "vlek"):
        raise _bad(f"key_type: 'vcek' or 'vlek', not {key_type!r}")
    if key_type == "vlek":  # VLEKs are never served publicly (amd.md §9)
        return AmdRequest(product, key_type, b"", ())
    if not isinstance(hwid, bytes | bytearray):
        raise _bad("hwid: bytes expected")
    hwid = bytes(hwid)
    if product == "Turin":
        if len(hwid) not in (8, 64):
            raise _bad("hwid: 8 bytes (or the 64-byte CHIP_ID) expected for Turin")
        hwid = hwid[:8]  # KDS wants the first 8 bytes only (amd.md §9)
    elif len(hwid) != 64:
        raise _bad(f"hwid: the 64-byte CHIP_ID expected for {product}")
    if not any(hwid):
        raise CollateralUnavailable(
            "CHIP_ID is masked (all zero): the VCEK cannot be looked up",
            reason=Reason.COLLATERAL_MISSING,
        )
    keys = (*_TCB_KEYS, "fmc_spl") if product == "Turin" else _TCB_KEYS
    tcb: list[tuple[str, int]] = []
    for k in keys:
        v = reported_tcb.get(k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255:
            raise _bad(f"reported_tcb[{k!r}]: an integer 0..255 is required")
        tcb.append((k, v))
    return AmdRequest(product, key_type, hwid, tuple(tcb))


def vcek_file_prefix(req: AmdRequest) -> str:
    """trustee's OfflineStore name: ``bl{BL}_tee{TEE}_snp{SNP}_ucode{UCODE}[_fmc{FMC}]``,
    each at least two decimal digits (trustee_interface.md §1)."""
    s = req.spl
    name = f"bl{s['bl_spl']:02d}_tee{s['tee_spl']:02d}_snp{s['snp_spl']:02d}"
    name += f"_ucode{s['ucode_spl']:02d}"
    if "fmc_spl" in s:
        name += f"_fmc{s['fmc_spl']:02d}"
    return name


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


class StaticSource:
    """The same :class:`Collateral` for every request (empty: CollateralUnavailable)."""

    def __init__(self, collateral: Collateral) -> None:
        self.collateral = collateral

    def _get(self) -> Collateral:
        if self.collateral == Collateral():
            raise CollateralUnavailable(
                "static source: no collateral", reason=Reason.COLLATERAL_MISSING
            )
        return self.collateral

    def intel(self, *, fmspc: bytes, ca: str, tee: str, at: _dt.datetime) -> Collateral:
        """The wrapped collateral."""
        intel_request(fmspc=fmspc, ca=ca, tee=tee)
        check_at(at)
        return self._get()

    def amd(
        self,
        *,
        product: str,
        hwid: bytes,
        reported_tcb: Mapping[str, int],
        key_type: str,
        at: _dt.datetime,
    ) -> Collateral:
        """The wrapped collateral."""
        amd_request(product=product, hwid=hwid, reported_tcb=reported_tcb, key_type=key_type)
        check_at(at)
        return self._get()


class ChainedSource:
    """Asks each source in turn; the first answer wins. Only CollateralUnavailable falls
    through (so a store that lacks an item defers to KDS); malformed collateral or a
    configuration error propagates. All unavailable: CollateralUnavailable."""

    def __init__(self, *sources: CollateralSource) -> None:
        if not sources:
            raise _bad("ChainedSource: at least one source is required")
        self.sources: tuple[CollateralSource, ...] = sources

    def _each(self, call: str, **kwargs: object) -> Collateral:
        failures: list[str] = []
        for src in self.sources:
            try:
                result: Collateral = getattr(src, call)(**kwargs)
                return result
            except CollateralUnavailable as exc:
                failures.append(f"{type(src).__name__}: {exc}")
        raise CollateralUnavailable(
            "no source has it: " + "; ".join(failures), reason=Reason.COLLATERAL_MISSING
        )

    def intel(self, *, fmspc: bytes, ca: str, tee: str, at: _dt.datetime) -> Collateral:
        """The first source's answer."""
        return self._each("intel", fmspc=fmspc, ca=ca, tee=tee, at=at)

    def amd(
        self,
        *,
        product: str,
        hwid: bytes,
        reported_tcb: Mapping[str, int],
        key_type: str,
        at: _dt.datetime,
    ) -> Collateral:
        """The first source's answer."""
        return self._each(
            "amd", product=product, hwid=hwid, reported_tcb=reported_tcb, key_type=key_type, at=at
        )


# --- offline store -----------------------------------------------------------------------------


class OfflineStore:
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

    def intel(self, *, fmspc: bytes, ca: str, tee: str, at: _dt.datetime) -> Collateral:
        """TCB Info, QE Identity, PCK CRL, Root CA CRL and the stored issuer chains."""
        req = intel_request(fmspc=fmspc, ca=ca, tee=tee)
        check_at(at)
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

    def amd(
        self,
        *,
        product: str,
        hwid: bytes,
        reported_tcb: Mapping[str, int],
        key_type: str,
        at: _dt.datetime,
    ) -> Collateral:
        """The VCEK (for ``vcek``), the stored chain and CRL."""
        req = amd_request(product=product, hwid=hwid, reported_tcb=reported_tcb, key_type=key_type)
        check_at(at)
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
