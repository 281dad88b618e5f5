"""TEST ONLY. A fake IBM Secure Execution PKI: root -> code-signing CA -> IBM Z host-key
signing certificate -> host-key documents (HKD), with a CRL for each issuer.

Shaped like IBM's (s390-tools ``rust/pv/tests/assets/cert`` is the same idea): the signing
certificate has IBM's six-attribute subject, the HKDs carry EC P-521 host keys and are
signed with the IBM signing key (RSA, as IBM's is). ``with_`` changes one certificate and
``crl_`` one CRL, for one-defect negatives.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from cocoverify.trust import TrustStore
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    CertSpec,
    ec_key,
    issue,
    make_crl,
    name,
    rsa_key,
    serial_from_label,
    utc,
)

__all__ = ["HOSTS", "NOW", "FakeIbmPki", "ibm_signing_name"]

#: The fake PKI's time: every certificate and CRL is current then.
NOW = utc("2026-01-01T00:00:00Z")
#: The fake IBM Z machines, by host-key document name.
HOSTS = ("host-a", "host-b")
IBM = "International Business Machines Corporation"
_CA_ROLES = ("root", "inter", "signing")


def ibm_signing_name(
    locality: str = "Poughkeepsie", unit: str = "IBM Z Host Key Signing Service"
) -> x509.Name:
    """IBM's host-key signing subject (s390-tools ``is_ibm_signing_cert``)."""
    return name(C="US", ST="New York", L=locality, O=IBM, OU=unit, CN=IBM)


@dataclass(frozen=True)
class FakeIbmPki:
    """TEST ONLY. ``overrides``: role -> CertSpec fields; ``crl_overrides``: issuer role ->
    ``make_crl`` arguments; ``signer``: role -> role whose key signs it instead."""

    label: str = "ibmse"
    now: _dt.datetime = NOW
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    crl_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    signer: dict[str, str] = field(default_factory=dict)
    revoked: tuple[str, ...] = ()

    def with_(self, role: str, **changes: Any) -> FakeIbmPki:
        """A PKI whose ``role`` certificate (root, inter, signing, or a host) differs."""
        merged = {**self.overrides, role: {**self.overrides.get(role, {}), **changes}}
        return replace(self, overrides=merged)

    def crl_(self, role: str, **changes: Any) -> FakeIbmPki:
        """A PKI whose CRL by ``role`` (root, inter, signing) differs (``make_crl`` args, and
        ``signer``: the role whose key signs it)."""
        merged = {**self.crl_overrides, role: {**self.crl_overrides.get(role, {}), **changes}}
        return replace(self, crl_overrides=merged)

    def revoke(self, *roles: str) -> FakeIbmPki:
        """A PKI whose issuers' CRLs list these certificates."""
        return replace(self, revoked=(*self.revoked, *roles))

    # keys

    def key(self, role: str) -> CertificateIssuerPrivateKeyTypes:
        """root/inter: EC P-384; signing: RSA-2048; hosts: EC P-521 (the host keys)."""
        if role == "signing":
            return rsa_key(f"{self.label}-signing", 2048)
        if role in HOSTS or role.startswith("host"):
            return ec_key(f"{self.label}-{role}", "P-521")
        return ec_key(f"{self.label}-{role}", "P-384")

    def host_key(self, host: str) -> ec.EllipticCurvePrivateKey:
        """A host's private key (what only its Ultravisor holds)."""
        key = self.key(host)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    # certificates

    def _parent(self, role: str) -> str:
        return {"root": "root", "inter": "root", "signing": "inter"}.get(role, "signing")

    def _spec(self, role: str) -> CertSpec:
        subjects = {
            "root": name(C="US", O="Fake DigiCert Inc", CN="Fake Trusted Root G4"),
            "inter": name(C="US", O="Fake DigiCert Inc", CN="Fake Code Signing CA"),
            "signing": ibm_signing_name(),
        }
        subject = subjects.get(role) or name(
            C="US", ST="New York", L="Poughkeepsie", O=IBM, OU="IBM Z Host Key", CN=role
        )
        ca = role in ("root", "inter")
        spec = CertSpec(
            subject=subject,
            public_key=self.key(role).public_key(),
            serial=serial_from_label(f"{self.label}-{role}"),
            not_before=self.now - _dt.timedelta(days=30),
            not_after=self.now + _dt.timedelta(days=365),
            ca=ca,
            key_usage=CA_KEY_USAGE if ca else LEAF_KEY_USAGE,
            hash_alg=hashes.SHA384(),
        )
        return replace(spec, **self.overrides.get(role, {}))

    def certificate(self, role: str) -> x509.Certificate:
        """The certificate of ``role`` (root, inter, signing or a host name)."""
        spec = self._spec(role)
        parent = self._parent(role)
        issuer = spec.subject if role == "root" else self._spec(parent).subject
        signer = self.signer.get(role, parent)
        return issue(spec, issuer=issuer, issuer_key=self.key(signer))

    def hkd(self, host: str = HOSTS[0]) -> x509.Certificate:
        """The host-key document of ``host``."""
        return self.certificate(host)

    def certificates(self) -> list[x509.Certificate]:
        """What a verifier is given besides the HKDs: IBM's signing cert and the intermediate
        (the root is pinned, and given too, as a fake is not bundled)."""
        return [self.certificate("signing"), self.certificate("inter"), self.certificate("root")]

    def crl(self, issuer: str) -> x509.CertificateRevocationList:
        """The CRL ``issuer`` (root, inter, signing) publishes."""
        children = {"root": ["inter"], "inter": ["signing"], "signing": list(HOSTS)}[issuer]
        revoked = [
            self._spec(r).serial
            for r in self.revoked
            if r in children or (issuer == "signing" and r.startswith("host"))
        ]
        args: dict[str, Any] = {
            "issuer": self._spec(issuer).subject,
            "issuer_key": self.key(issuer),
            "this_update": self.now - _dt.timedelta(days=1),
            "next_update": self.now + _dt.timedelta(days=30),
            "revoked_serials": revoked,
        }
        args.update(self.crl_overrides.get(issuer, {}))
        signer = args.pop("signer", None)
        if signer is not None:
            args["issuer_key"] = self.key(signer)
        return make_crl(**args)

    def crls(self) -> list[x509.CertificateRevocationList]:
        """Every issuer's CRL."""
        return [self.crl(i) for i in _CA_ROLES]

    def root(self) -> x509.Certificate:
        """The fake root."""
        return self.certificate("root")

    def trust(self) -> TrustStore:
        """A trust store pinning the fake root for IBM SE (and nothing else)."""
        return TrustStore.from_certificates(ibmse=[self.root()])

    def wrap_key(self) -> rsa.RSAPrivateKey:
        """A verifier's RSA key for trustee-style wrapping (trustee's README: RSA-4096)."""
        return rsa_key(f"{self.label}-wrap", 2048)
