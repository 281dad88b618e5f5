"""TEST ONLY. :class:`FakeCcaPlatform`: a CPAK (P-256, P-384 or P-521) and a P-384 RAK.

The keys derive from fixed labels (:func:`cocoverify_testing.pki.ec_key`: published test
keys, never trust them). The CPAK is offered as PEM, as a JWK and in a rust-ccatoken /
trustee style trust-anchor store (Trustee ``deps/verifier/src/cca``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.jose import ec_jwk
from cocoverify_testing.pki import ec_key, fill

__all__ = ["FakeCcaPlatform"]


@dataclass(frozen=True, slots=True)
class FakeCcaPlatform:
    """A fake CCA platform: CPAK on ``curve``, P-384 RAK, fixed ids (TEST ONLY)."""

    curve: str = "P-384"
    label: str = "cca-platform"

    @property
    def cpak(self) -> ec.EllipticCurvePrivateKey:
        """The platform attestation key (private; TEST ONLY)."""
        return ec_key(f"{self.label}-cpak", self.curve)

    def rak(self, curve: str = "P-384") -> ec.EllipticCurvePrivateKey:
        """The realm attestation key (private; TEST ONLY)."""
        return ec_key(f"{self.label}-rak", curve)

    @property
    def instance_id(self) -> bytes:
        """UEID (type RAND) of this platform: 0x01 || 32 bytes."""
        return b"\x01" + fill(f"{self.label}-instance")

    @property
    def implementation_id(self) -> bytes:
        """32-byte implementation id."""
        return fill(f"{self.label}-implementation")

    def cpak_pem(self) -> bytes:
        """CPAK public key as PEM SubjectPublicKeyInfo."""
        return self.cpak.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def cpak_jwk(self) -> dict[str, str]:
        """CPAK public key as a JWK."""
        return ec_jwk(self.cpak.public_key())

    def ta_store(self, instance_id: bytes | None = None) -> list[dict[str, Any]]:
        """A rust-ccatoken/trustee style trust-anchor store holding this CPAK."""
        return [
            {
                "instance-id": (instance_id or self.instance_id).hex(),
                "implementation-id": self.implementation_id.hex(),
                "pkey": self.cpak_jwk(),
            }
        ]
