"""Writing fetched collateral into an offline folder (``cocoverify fetch -o DIR``).

The layout is :class:`~cocoverify.collateral.source.OfflineStore`'s, so the folder works
both as ``verify --collateral DIR`` (files recognised by content) and as an
``OfflineStore(DIR)`` (names say where to look)::

    intel/{sgx|tdx}/tcb/{FMSPC}.json        TCB Info body, byte for byte as served
    intel/{sgx|tdx}/qe_identity.json        QE Identity (QE; TD_QE for tdx)
    intel/pckcrl/{platform|processor}.der   PCK CRL
    intel/rootcacrl.der                     Root CA CRL
    intel/chains/{signer}.pem               each issuer chain, named after its first CN
    amd/{product}/{vcek|vlek}/cert_chain.pem   ASK or ASVK, then ARK
    amd/{product}/{vcek|vlek}/crl.der          the ARK's CRL
    vcek/{hwid}/{bl..}_{tee..}_{snp..}_{ucode..}[_fmc..]_vcek.der

Nothing is checked here beyond sorting items by kind: verification reads the folder back.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cocoverify._core.x509 import common_name
from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import (
    AmdRequest,
    CollateralRequest,
    IntelRequest,
    vcek_file_prefix,
)
from cocoverify.errors import CollateralInvalid, ConfigurationError, Reason

__all__ = ["write_folder"]

_DER = serialization.Encoding.DER
_PEM = serialization.Encoding.PEM


def _write(path: Path, data: bytes) -> Path:
    """Atomic write (a reader never sees half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot write ({exc.strerror})", reason=Reason.INVALID_ARGUMENT
        ) from None
    return path


def _pem(chain: tuple[x509.Certificate, ...]) -> bytes:
    return b"".join(c.public_bytes(_PEM) for c in chain)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chain"


def _missing(what: str, req: CollateralRequest) -> CollateralInvalid:
    return CollateralInvalid(
        f"{req.describe()}: the answer holds no {what}", reason=Reason.COLLATERAL_MALFORMED
    )


def _intel(base: Path, req: IntelRequest, c: Collateral) -> list[Path]:
    if len(c.tcb_infos) != 1 or len(c.qe_identities) != 1:
        raise _missing("single TCB Info and QE Identity", req)
    root_crls = [crl for crl in c.crls if "Root CA" in common_name(crl.issuer)]
    pck_crls = [crl for crl in c.crls if "PCK" in common_name(crl.issuer)]
    if len(root_crls) != 1 or len(pck_crls) != 1:
        raise _missing("Root CA CRL and PCK CRL", req)
    intel = base / "intel"
    out = [
        _write(intel / req.tee / "tcb" / f"{req.fmspc.hex()}.json", c.tcb_infos[0]),
        _write(intel / req.tee / "qe_identity.json", c.qe_identities[0]),
        _write(intel / "pckcrl" / f"{req.ca}.der", pck_crls[0].public_bytes(_DER)),
        _write(intel / "rootcacrl.der", root_crls[0].public_bytes(_DER)),
    ]
    for chain in c.chains:
        if chain:
            name = _slug(common_name(chain[0].subject)) + ".pem"
            out.append(_write(intel / "chains" / name, _pem(chain)))
    return out


def _amd(base: Path, req: AmdRequest, c: Collateral) -> list[Path]:
    out: list[Path] = []
    folder = base / "amd" / req.product / req.key_type
    veks = [ch for ch in c.chains if len(ch) == 1 and common_name(ch[0].subject) == "SEV-VCEK"]
    cas = [ch for ch in c.chains if ch not in veks]
    if req.key_type == "vcek":
        if len(veks) != 1:
            raise _missing("VCEK", req)
        name = f"{vcek_file_prefix(req)}_vcek.der"
        out.append(_write(base / "vcek" / req.hwid.hex() / name, veks[0][0].public_bytes(_DER)))
    if len(cas) > 1 or len(c.crls) > 1:
        raise _missing("single certificate chain and CRL", req)
    if cas:
        out.append(_write(folder / "cert_chain.pem", _pem(cas[0])))
    if c.crls:
        out.append(_write(folder / "crl.der", c.crls[0].public_bytes(_DER)))
    return out


def write_folder(
    directory: str | os.PathLike[str], request: CollateralRequest, collateral: Collateral
) -> tuple[Path, ...]:
    """Write ``collateral`` (a source's answer to ``request``) under ``directory``; the
    files written. An answer lacking an item the request implies: CollateralInvalid."""
    base = Path(directory)
    if isinstance(request, IntelRequest):
        return tuple(_intel(base, request, collateral))
    return tuple(_amd(base, request, collateral))
