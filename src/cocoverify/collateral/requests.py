"""Typed collateral requests, one per kind of collateral a TEE asks a source for.

A request is validated and normalised when built (``intel_request``, ``amd_request``) and is
also the cache key. Adding a TEE with online collateral adds a request type here and the
sources that can serve it; no other source changes (a source answers requests it does not
serve with ``CollateralUnavailable``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass

from cocoverify.errors import CollateralUnavailable, ConfigurationError, Reason

__all__ = [
    "AMD_PRODUCTS",
    "AmdRequest",
    "CollateralRequest",
    "IntelRequest",
    "amd_request",
    "check_at",
    "intel_request",
    "vcek_file_prefix",
]

AMD_PRODUCTS = ("Milan", "Genoa", "Turin")
_TCB_KEYS = ("bl_spl", "tee_spl", "snp_spl", "ucode_spl")


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


def check_at(at: _dt.datetime) -> _dt.datetime:
    """``at`` as aware UTC (a naive datetime is ambiguous)."""
    if not isinstance(at, _dt.datetime) or at.tzinfo is None:
        raise _bad("at: an aware datetime is required")
    return at.astimezone(_dt.UTC)


@dataclass(frozen=True, slots=True)
class IntelRequest:
    """Intel collateral for one platform: TCB Info (for ``tee``), QE Identity (QE / TD_QE),
    the PCK CRL of ``ca`` ("platform" | "processor"), the Root CA CRL and issuer chains."""

    fmspc: bytes
    ca: str
    tee: str

    @property
    def key(self) -> tuple[str, ...]:
        """The cache key."""
        return ("intel", self.tee, self.ca, self.fmspc.hex())

    def describe(self) -> str:
        """For people: what is asked for, with the identifiers that name it."""
        return (
            f"Intel {self.tee.upper()} collateral for FMSPC {self.fmspc.hex().upper()} "
            f"(PCK {self.ca.capitalize()} CA)"
        )


def intel_request(*, fmspc: bytes, ca: str, tee: str) -> IntelRequest:
    """Check the arguments of an Intel request (Intel SGX PCK Certificate and CRL Profile:
    FMSPC is 6 bytes)."""
    if not isinstance(fmspc, bytes | bytearray) or len(fmspc) != 6:
        raise _bad("fmspc: 6 bytes expected")
    if ca not in ("platform", "processor"):
        raise _bad(f"ca: 'platform' or 'processor', not {ca!r}")
    if tee not in ("sgx", "tdx"):
        raise _bad(f"tee: 'sgx' or 'tdx', not {tee!r}")
    return IntelRequest(bytes(fmspc), ca, tee)


@dataclass(frozen=True, slots=True)
class AmdRequest:
    """SEV-SNP collateral: the VCEK (for ``vcek``), ASK/ASVK + ARK and the CRL. ``hwid`` is
    what KDS is asked for: 64 bytes (Milan/Genoa) or the first 8 bytes of CHIP_ID (Turin);
    empty for VLEK."""

    product: str
    key_type: str
    hwid: bytes
    tcb: tuple[tuple[str, int], ...]

    @property
    def key(self) -> tuple[str, ...]:
        """The cache key (for a VLEK only product and key type matter)."""
        tcb = ",".join(f"{k}={v}" for k, v in self.tcb)
        return ("amd", self.product, self.key_type, self.hwid.hex(), tcb)

    def describe(self) -> str:
        """For people: what is asked for, with the identifiers that name it."""
        if self.key_type == "vlek":
            return f"AMD {self.product} VLEK chain (ASVK + ARK) and CRL"
        return (
            f"AMD {self.product} VCEK for hardware ID {self.hwid.hex()[:16]}... at "
            f"{vcek_file_prefix(self)}, with its chain (ASK + ARK) and CRL"
        )

    @property
    def spl(self) -> dict[str, int]:
        """The TCB as a dict (``bl_spl``...)."""
        return dict(self.tcb)


def amd_request(
    *, product: str, hwid: bytes, reported_tcb: Mapping[str, int], key_type: str
) -> AmdRequest:
    """Check the arguments of ``amd(...)`` (SEV-SNP ABI "TCB_VERSION"; KDS specification).

    An all-zero CHIP_ID (MASK_CHIP_ID, SEV-SNP ABI "SNP_INIT_EX") cannot name a VCEK:
    CollateralUnavailable. Bad arguments: ConfigurationError(invalid_argument).
    """
    if product not in AMD_PRODUCTS:
        raise _bad(f"product: one of {', '.join(AMD_PRODUCTS)}, not {product!r}")
    if key_type not in ("vcek", "vlek"):
        raise _bad(f"key_type: 'vcek' or 'vlek', not {key_type!r}")
    if key_type == "vlek":  # VLEKs are never served publicly (KDS specification)
        return AmdRequest(product, key_type, b"", ())
    if not isinstance(hwid, bytes | bytearray):
        raise _bad("hwid: bytes expected")
    hwid = bytes(hwid)
    if product == "Turin":
        if len(hwid) not in (8, 64):
            raise _bad("hwid: 8 bytes (or the 64-byte CHIP_ID) expected for Turin")
        hwid = hwid[:8]  # KDS wants the first 8 bytes only (KDS specification, Turin)
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
    each at least two decimal digits (trustee verifier crate, snp OfflineStore)."""
    s = req.spl
    name = f"bl{s['bl_spl']:02d}_tee{s['tee_spl']:02d}_snp{s['snp_spl']:02d}"
    name += f"_ucode{s['ucode_spl']:02d}"
    if "fmc_spl" in s:
        name += f"_fmc{s['fmc_spl']:02d}"
    return name


#: Every request type a source may be asked to serve.
CollateralRequest = IntelRequest | AmdRequest
