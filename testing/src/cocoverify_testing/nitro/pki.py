"""TEST ONLY. A fake AWS Nitro Enclaves PKI: root -> regional -> zonal -> instance CA -> leaf.

Shaped like the real chain (NSM attestation_process §3.2.3 and the certificates of real
documents): P-384 keys, ecdsa-with-SHA384, critical basicConstraints with pathLen 2/1/0
under the root, a leaf that lives three hours. The root's subject is AWS's
(``CN=aws.nitro-enclaves``) so the pin, not the name, is what a verifier must trust.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify.trust import TrustStore
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    CertSpec,
    ec_key,
    issue,
    name,
    serial_from_label,
    utc,
)

__all__ = ["NOW", "FakeNitroPki", "NitroChain"]

#: The fake documents' time: every certificate is valid then.
NOW = utc("2026-01-01T00:00:00Z")

_ROLES = ("root", "regional", "zonal", "instance", "leaf")


def _subject(role: str, label: str) -> x509.Name:
    return {
        "root": name(C="US", O="Amazon", OU="AWS", CN="aws.nitro-enclaves"),
        "regional": name(
            CN=f"{label}0123456789ab.eu-west-1.aws.nitro-enclaves", C="US", O="Amazon", OU="AWS"
        ),
        "zonal": name(CN=f"{label}.zonal.eu-west-1.aws.nitro-enclaves", O="Amazon", C="US"),
        "instance": name(CN="i-0123456789abcdef0.eu-west-1.aws.nitro-enclaves", O="Amazon"),
        "leaf": name(CN="i-0123456789abcdef0-enc0123456789abcdef.eu-west-1.aws", O="Amazon"),
    }[role]


@dataclass(frozen=True)
class NitroChain:
    """The certificates of one document: ``cabundle`` root first, then the leaf."""

    cabundle: tuple[x509.Certificate, ...]
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class FakeNitroPki:
    """TEST ONLY. ``label`` picks the keys (another label: a look-alike PKI with AWS's names).

    ``overrides`` maps a role (``root``, ``regional``, ``zonal``, ``instance``, ``leaf``) to
    :class:`CertSpec` fields to change for that certificate (one defect per negative case);
    ``signer`` maps a role to the role whose key signs it instead of its issuer's.
    """

    label: str = "nitro"
    now: _dt.datetime = NOW
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    signer: dict[str, str] = field(default_factory=dict)

    def with_(self, role: str, **changes: Any) -> FakeNitroPki:
        """A PKI whose ``role`` certificate differs in the given CertSpec fields."""
        merged = {**self.overrides, role: {**self.overrides.get(role, {}), **changes}}
        return replace(self, overrides=merged)

    def key(self, role: str) -> ec.EllipticCurvePrivateKey:
        """The role's fixed P-384 key."""
        return ec_key(f"{self.label}-{role}", "P-384")

    def _spec(self, role: str) -> CertSpec:
        lifetimes = {
            "root": (_dt.timedelta(days=365), _dt.timedelta(days=365 * 30)),
            "regional": (_dt.timedelta(days=5), _dt.timedelta(days=15)),
            "zonal": (_dt.timedelta(days=2), _dt.timedelta(days=3)),
            "instance": (_dt.timedelta(hours=12), _dt.timedelta(hours=12)),
            "leaf": (_dt.timedelta(minutes=1), _dt.timedelta(hours=3)),
        }
        before, after = lifetimes[role]
        path = {"root": None, "regional": 2, "zonal": 1, "instance": 0, "leaf": None}[role]
        spec = CertSpec(
            subject=_subject(role, self.label),
            public_key=self.key(role).public_key(),
            serial=serial_from_label(f"{self.label}-{role}"),
            not_before=self.now - before,
            not_after=self.now + after,
            ca=role != "leaf",
            path_length=path,
            key_usage=LEAF_KEY_USAGE if role == "leaf" else CA_KEY_USAGE,
            hash_alg=hashes.SHA384(),
        )
        return replace(spec, **self.overrides.get(role, {}))

    def chain(self) -> NitroChain:
        """Every certificate, issued in order from the root down."""
        certs: dict[str, x509.Certificate] = {}
        for i, role in enumerate(_ROLES):
            spec = self._spec(role)
            parent = _ROLES[max(i - 1, 0)]
            signer = self.signer.get(role, role if role == "root" else parent)
            issuer = spec.subject if role == "root" else certs[parent].subject
            certs[role] = issue(spec, issuer=issuer, issuer_key=self.key(signer))
        return NitroChain(
            cabundle=tuple(certs[r] for r in _ROLES[:-1]),
            leaf=certs["leaf"],
            leaf_key=self.key("leaf"),
        )

    def root(self) -> x509.Certificate:
        """The fake root certificate."""
        return self.chain().cabundle[0]

    def trust(self) -> TrustStore:
        """A trust store pinning this fake root for Nitro (and nothing else)."""
        return TrustStore.from_certificates(nitro=[self.root()])
