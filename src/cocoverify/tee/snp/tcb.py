"""SEV-SNP products and their TCB_VERSION layouts.

The product decides the TCB byte layout, so it is known before any TCB is decoded: from
CPUID_FAM_ID / CPUID_MOD_ID in v3+ reports (SEV-SNP ABI §7.3), otherwise from the
authenticated certificate chain (:mod:`cocoverify.tee.snp.verify`). AMD publishes no TCB
status; TCB levels are compared component by component (policy minimums, VCEK binding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cocoverify.errors import Reason, UnsupportedEvidence
from cocoverify.tee.snp.parse import SnpReport

__all__ = [
    "PRODUCTS",
    "SPL_NAMES",
    "TcbVersion",
    "encode_tcb",
    "first_above",
    "product_from_cpuid",
    "report_product",
]

#: Products whose TCB layout is known.
PRODUCTS = ("Milan", "Genoa", "Turin")

#: TCB component -> its SPL's name in the VCEK extensions and in KDS requests
#: (VCEK spec, AMD 57230: blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL).
SPL_NAMES = {
    "fmc": "fmc_spl",
    "bootloader": "bl_spl",
    "tee": "tee_spl",
    "snp": "snp_spl",
    "microcode": "ucode_spl",
}


def product_from_cpuid(family: int, model: int) -> str | None:
    """Product line from the report's CPUID bytes, or None if unknown.

    Family 0x19 models 0x00-0x0F are Milan, 0x10-0x1F and 0xA0-0xAF (Siena/Bergamo,
    Genoa certificates) are Genoa; family 0x1A models 0x00-0x11 are Turin (the table of
    virtee/sev ``Generation::identify_cpu``). Venice (family 0x1A, higher models) has no
    certificate chain yet and is reported as unknown.
    """
    if family == 0x19:
        if model <= 0x0F:
            return "Milan"
        if 0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF:
            return "Genoa"
    if family == 0x1A and model <= 0x11:
        return "Turin"
    return None


def report_product(report: SnpReport) -> str | None:
    """The product from CPUID (v3+); None for v2. Unknown CPUID is unsupported_product."""
    if report.cpuid_fam_id is None or report.cpuid_mod_id is None:
        return None
    product = product_from_cpuid(report.cpuid_fam_id, report.cpuid_mod_id)
    if product is None:
        raise UnsupportedEvidence(
            f"CPUID family {report.cpuid_fam_id:#x} model {report.cpuid_mod_id:#x} is not a "
            f"supported product ({', '.join(PRODUCTS)})",
            reason=Reason.UNSUPPORTED_PRODUCT,
        )
    return product


@dataclass(frozen=True, slots=True)
class TcbVersion:
    """One TCB_VERSION decoded for a product (SEV-SNP ABI, TCB_VERSION); ``fmc`` is None
    before Turin."""

    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @classmethod
    def decode(cls, raw: bytes, product: str) -> TcbVersion:
        """Decode the 8 little-endian bytes with the byte layout of ``product``."""
        if len(raw) != 8:
            raise ValueError("TCB_VERSION is 8 bytes")
        if product == "Turin":
            # byte 0 FMC, 1 BL, 2 TEE, 3 SNP, 7 microcode (the Turin layout)
            return cls(bootloader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7], fmc=raw[0])
        if product in ("Milan", "Genoa"):
            # byte 0 BL, 1 TEE, 6 SNP, 7 microcode (the Milan/Genoa layout)
            return cls(bootloader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])
        raise ValueError(f"no TCB layout for product {product!r}")

    def components(self) -> dict[str, int]:
        """Component name -> SPL (``fmc`` only where the product has it)."""
        out = {
            "bootloader": self.bootloader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
        }
        if self.fmc is not None:
            out = {"fmc": self.fmc, **out}
        return out


def first_above(tcb: Mapping[str, int], ceiling: Mapping[str, int]) -> str | None:
    """The first component of ``tcb`` above ``ceiling``, compared component by component
    (never as integers), or None."""
    return next((name for name, value in tcb.items() if value > ceiling[name]), None)


def encode_tcb(
    product: str, *, bootloader: int, tee: int, snp: int, microcode: int, fmc: int | None = None
) -> bytes:
    """The 8-byte TCB_VERSION of ``product`` (inverse of :meth:`TcbVersion.decode`)."""
    raw = bytearray(8)
    if product == "Turin":
        raw[0], raw[1], raw[2], raw[3], raw[7] = fmc or 0, bootloader, tee, snp, microcode
    elif product in ("Milan", "Genoa"):
        if fmc is not None:
            raise ValueError(f"{product} has no FMC SPL")
        raw[0], raw[1], raw[6], raw[7] = bootloader, tee, snp, microcode
    else:
        raise ValueError(f"no TCB layout for product {product!r}")
    return bytes(raw)
