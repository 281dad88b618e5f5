"""TEST ONLY. A fake NVIDIA device PKI shaped like a Hopper chain (docs/nvidia.md):
Device Identity CA (root) -> GH100 Identity -> Provisioner ICA -> GSP BROM -> GSP FMC LF
(leaf, with the TCG DICE TcbInfo extension whose last 48 bytes are the FWID). P-384 keys,
ecdsa-with-SHA384. The root's subject is NVIDIA's, so the pin, not the name, decides.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify.tee.nvidia.verify import FWID_OID
from cocoverify.trust import TrustStore
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    CertSpec,
    ec_key,
    fill,
    issue,
    make_crl,
    name,
    pem,
    serial_from_label,
    utc,
)

__all__ = ["NOW", "FakeNvidiaPki"]

#: every fake certificate is valid then
NOW = utc("2026-01-01T00:00:00Z")
_NOT_BEFORE = utc("2022-03-01T00:00:00Z")
_NOT_AFTER = utc("9999-12-31T23:59:59Z")

_SUBJECTS = {
    "root": name(CN="NVIDIA Device Identity CA", O="NVIDIA"),
    "identity": name(CN="NVIDIA GH100 Identity", O="NVIDIA"),
    "ica": name(CN="NVIDIA GH100 Provisioner ICA 1", O="NVIDIA"),
    "brom": name(CN="GH100 A01 GSP BROM", O="NVIDIA"),
    "leaf": name(CN="GH100 A01 GSP FMC LF", O="NVIDIA"),
}
_ORDER = ("leaf", "brom", "ica", "identity", "root")


def tcb_info(fwid: bytes) -> x509.UnrecognizedExtension:
    """A TcbInfo-shaped extension ending in the 48-byte FWID (what trustee reads)."""
    body = bytes.fromhex("3061a05f305d0609608648016503040202") + b"\x04\x30" + fwid
    return x509.UnrecognizedExtension(FWID_OID, b"\x30" + bytes([len(body)]) + body)


@dataclass(frozen=True)
class FakeNvidiaPki:
    """One device chain; ``label`` varies the keys, ``arch_cn`` the chip name."""

    label: str = "gpu0"
    fwid: bytes = fill("nvidia-fwid", 48)
    chip: str = "GH100"
    leaf_not_after: _dt.datetime = _NOT_AFTER

    def key(self, role: str) -> ec.EllipticCurvePrivateKey:
        """The role's P-384 key (the root's is shared by every label)."""
        label = "nvidia-root" if role == "root" else f"nvidia-{self.label}-{role}"
        return ec_key(label, "P-384")

    def subject(self, role: str) -> x509.Name:
        """NVIDIA's subject names, the chip name substituted."""
        return x509.Name(
            [
                x509.NameAttribute(a.oid, str(a.value).replace("GH100", self.chip))
                for a in _SUBJECTS[role]
            ]
        )

    @functools.cached_property
    def certificates(self) -> dict[str, x509.Certificate]:
        """Every certificate by role."""
        out: dict[str, x509.Certificate] = {}
        parent = "root"
        for role in reversed(_ORDER):
            spec = CertSpec(
                subject=self.subject(role),
                public_key=self.key(role).public_key(),
                serial=serial_from_label(
                    "nvidia-root" if role == "root" else f"nvidia-{self.label}-{role}"
                ),
                not_before=_NOT_BEFORE,
                not_after=self.leaf_not_after if role == "leaf" else _NOT_AFTER,
                ca=role != "leaf",
                key_usage=LEAF_KEY_USAGE if role == "leaf" else CA_KEY_USAGE,
                unrecognized=(tcb_info(self.fwid),) if role == "leaf" else (),
            )
            out[role] = issue(spec, issuer=self.subject(parent), issuer_key=self.key(parent))
            parent = role
        return out

    def chain(self, roles: tuple[str, ...] = _ORDER) -> tuple[x509.Certificate, ...]:
        """The chain leaf first (or the roles given, in that order)."""
        return tuple(self.certificates[r] for r in roles)

    def chain_pem(self, roles: tuple[str, ...] = _ORDER) -> bytes:
        """The chain as PEM text, leaf first."""
        return pem(*self.chain(roles))

    @property
    def root(self) -> x509.Certificate:
        """The fake root."""
        return self.certificates["root"]

    def trust(self) -> TrustStore:
        """A store pinning this fake root only."""
        return TrustStore.from_certificates(nvidia=[self.root])

    def crl(
        self, issuer: str = "brom", revoked: tuple[str, ...] = ()
    ) -> x509.CertificateRevocationList:
        """A CRL by ``issuer`` listing the given roles' serials."""
        return make_crl(
            issuer=self.subject(issuer),
            issuer_key=self.key(issuer),
            this_update=NOW - _dt.timedelta(days=1),
            next_update=NOW + _dt.timedelta(days=30),
            revoked_serials=[self.certificates[r].serial_number for r in revoked],
        )
