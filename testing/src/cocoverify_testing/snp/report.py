"""TEST ONLY. :class:`SnpReportBuilder`: 1184-byte SEV-SNP attestation reports.

Layout and TCB encoding come from the verifier's own ``cocoverify.tee.snp`` codecs (the
layout of go-sev-guest ``abi/abi.go``); the signature is ECDSA P-384 by the VCEK/VLEK, r and s
little-endian, zero-padded to 72 bytes. Each setter returns a new builder.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

from cocoverify.tee.snp.certtable import CERT_TABLE_GUIDS, CertTable, CertTableEntry
from cocoverify.tee.snp.parse import SIGNED_SIZE, SnpReport
from cocoverify.tee.snp.tcb import TcbVersion, encode_tcb
from cocoverify_testing.pki import sign_ecdsa_raw
from cocoverify_testing.snp.pki import DEFAULT_TCB, FakeAmdPKI, default_chip_id

__all__ = ["SnpReportBuilder", "cert_table", "encode_tcb_for", "tamper"]

_CPUID = {"Milan": (0x19, 0x01, 1), "Genoa": (0x19, 0x11, 1), "Turin": (0x1A, 0x02, 1)}


def tamper(data: bytes, offset: int, xor: int = 0x01) -> bytes:
    """``data`` with one byte flipped (after signing: breaks the signature)."""
    out = bytearray(data)
    out[offset] ^= xor
    return bytes(out)


@dataclass(frozen=True)
class SnpReportBuilder:
    """Fluent SNP report builder (TEST ONLY); every method returns a new builder.

    ``mutate`` patches encoded bytes before signing, so reserved or unknown values can be
    produced with a valid signature; to break the signature, :func:`tamper` the output.
    """

    product: str
    report: SnpReport
    mutations: tuple[tuple[int, bytes], ...] = ()

    @classmethod
    def for_product(cls, product: str = "Milan", *, version: int | None = None) -> SnpReportBuilder:
        """Defaults: v3 (Turin v5), VCEK-signed, policy 0x30000, the default TCB everywhere."""
        v = version if version is not None else (5 if product == "Turin" else 3)
        raw_tcb = encode_tcb_for(product, DEFAULT_TCB[product])
        fam, mod, step = _CPUID[product]
        report = SnpReport(
            version=v,
            guest_svn=1,
            policy=0x30000,
            family_id=bytes(16),
            image_id=bytes(16),
            vmpl=0,
            signature_algo=1,
            current_tcb=raw_tcb,
            platform_info=0x25,
            key_info=0,
            report_data=bytes(64),
            measurement=hashlib.sha384(b"cocoverify-test-measurement").digest(),
            host_data=bytes(32),
            id_key_digest=bytes(48),
            author_key_digest=bytes(48),
            report_id=hashlib.sha256(b"cocoverify-test-report-id").digest(),
            report_id_ma=b"\xff" * 32,
            reported_tcb=raw_tcb,
            cpuid_fam_id=fam if v >= 3 else None,
            cpuid_mod_id=mod if v >= 3 else None,
            cpuid_step=step if v >= 3 else None,
            chip_id=default_chip_id(product),
            committed_tcb=raw_tcb,
            current_build=10,
            current_minor=55,
            current_major=1,
            committed_build=10,
            committed_minor=55,
            committed_major=1,
            launch_tcb=raw_tcb,
            launch_mit_vector=0x3F if v >= 5 else None,
            current_mit_vector=0x3F if v >= 5 else None,
            signature=bytes(512),
        )
        return cls(product, report)

    def set(self, **fields: Any) -> SnpReportBuilder:
        """Change report fields (names of :class:`SnpReport`); TCBs may be TcbVersion."""
        for key in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
            if isinstance(fields.get(key), TcbVersion):
                fields[key] = encode_tcb_for(self.product, fields[key])
        return dataclasses.replace(self, report=self.report.with_fields(**fields))

    def tcb(self, tcb: TcbVersion) -> SnpReportBuilder:
        """The same TCB in CURRENT, REPORTED, COMMITTED and LAUNCH."""
        return self.set(current_tcb=tcb, reported_tcb=tcb, committed_tcb=tcb, launch_tcb=tcb)

    def vlek(self) -> SnpReportBuilder:
        """Signed by a VLEK (SIGNING_KEY 1), CHIP_ID all zero as on real VLEK reports."""
        return self.set(key_info=1 << 2, chip_id=bytes(64))

    def mutate(self, offset: int, value: bytes | int) -> SnpReportBuilder:
        """Overwrite encoded bytes at ``offset`` (an int writes one byte)."""
        data = bytes([value]) if isinstance(value, int) else bytes(value)
        return dataclasses.replace(self, mutations=(*self.mutations, (offset, data)))

    def unsigned(self) -> bytes:
        """The encoded report with the signature field as set (zero by default)."""
        buf = bytearray(self.report.to_bytes())
        for offset, data in self.mutations:
            buf[offset : offset + len(data)] = data
        return bytes(buf)

    def sign(self, pki: FakeAmdPKI, *, key: str | None = None) -> bytes:
        """Sign bytes 0..0x29F with the PKI's VCEK (or VLEK) key, r/s little-endian."""
        body = bytearray(self.unsigned())
        kind = key or ("vlek" if self.report.signing_key == 1 else "vcek")
        priv = pki.vlek_key if kind == "vlek" else pki.vcek_key
        rs = sign_ecdsa_raw(priv, bytes(body[:SIGNED_SIZE]), little_endian=True, width=72)
        body[SIGNED_SIZE : SIGNED_SIZE + 144] = rs
        return bytes(body)


def encode_tcb_for(product: str, tcb: TcbVersion) -> bytes:
    return encode_tcb(
        product,
        bootloader=tcb.bootloader,
        tee=tcb.tee,
        snp=tcb.snp,
        microcode=tcb.microcode,
        fmc=tcb.fmc,
    )


def cert_table(**entries: bytes) -> bytes:
    """An extended-report certificate blob from role=DER pairs (vcek, vlek, ask, ark, crl)."""
    by_role = {role: guid for guid, role in CERT_TABLE_GUIDS.items()}
    return CertTable(tuple(CertTableEntry(by_role[r], r, d) for r, d in entries.items())).to_bytes()
