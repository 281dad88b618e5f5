"""TEST ONLY. A fake Intel SGX PKI: root, PCK Platform/Processor CA, TCB Signing, CRLs.

Subject names, CRL distribution points and validity shapes follow the real Intel
certificates (QVL ``PckCertVerifier.cpp``, ``PckCrlVerifier.cpp``); P-256 keys derive from
labels (:func:`cocoverify_testing.pki.ec_key`), ECDSA is RFC 6979, so every certificate,
CRL and signed body is the same every run.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify_testing.intel.collateral import QeIdentity, TcbInfo, compact_json
from cocoverify_testing.intel.pck import SGX_EXTENSION_OID, PckSpec
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    UTC,
    CertSpec,
    ec_key,
    issue,
    make_crl,
    name,
    pem,
    serial_from_label,
    sign_ecdsa_raw,
    utc,
)

__all__ = [
    "NOW",
    "PCK_NAME",
    "PLATFORM_CA_NAME",
    "PROCESSOR_CA_NAME",
    "ROOT_NAME",
    "TCB_SIGNING_NAME",
    "CertKnobs",
    "CrlKnobs",
    "FakeIntelPKI",
]

#: The fixed "current time" of the fake PKI; every default is valid at this instant.
NOW = _dt.datetime(2025, 6, 1, 0, 0, 0, tzinfo=UTC)

_INTEL = {"O": "Intel Corporation", "L": "Santa Clara", "ST": "CA", "C": "US"}
ROOT_NAME = name(CN="Intel SGX Root CA", **_INTEL)
PLATFORM_CA_NAME = name(CN="Intel SGX PCK Platform CA", **_INTEL)
PROCESSOR_CA_NAME = name(CN="Intel SGX PCK Processor CA", **_INTEL)
PCK_NAME = name(CN="Intel SGX PCK Certificate", **_INTEL)
TCB_SIGNING_NAME = name(CN="Intel SGX TCB Signing", **_INTEL)

_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
_PCK_CRL_URL = (
    "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca={}&encoding=der"
)


# --- certificate and CRL knobs -------------------------------------------------------------


@dataclass(frozen=True)
class CertKnobs:
    """One certificate's overridable facts. ``signer``: key label that signs it instead of
    the proper issuer (the issuer *name* stays right, so only the signature is wrong)."""

    serial: int
    not_before: _dt.datetime
    not_after: _dt.datetime
    key: str
    signer: str | None = None


@dataclass(frozen=True)
class CrlKnobs:
    """One CRL's overridable facts; ``signer`` as in :class:`CertKnobs`."""

    this_update: _dt.datetime
    next_update: _dt.datetime
    revoked: tuple[int, ...] = ()
    number: int = 1
    signer: str | None = None


# --- the fake PKI --------------------------------------------------------------------------


def _ca_knobs(label: str) -> CertKnobs:
    return CertKnobs(
        serial=serial_from_label(label),
        not_before=utc("2018-05-21T10:50:10Z"),
        not_after=utc("2033-05-21T10:50:10Z"),
        key=label,
    )


_PLATFORM_CA_KNOBS = _ca_knobs("intel-pck-platform-ca")
_PROCESSOR_CA_KNOBS = _ca_knobs("intel-pck-processor-ca")


@dataclass(frozen=True)
class FakeIntelPKI:
    """A deterministic imitation of Intel's SGX PKI (TEST ONLY).

    Override any knob with :func:`dataclasses.replace` (or :meth:`but`); certificates and
    CRLs are built lazily and cached per instance. ``root_key`` selects the root key, so
    ``FakeIntelPKI(root_key="rogue")`` is a look-alike PKI with Intel's names.
    """

    root_key: str = "intel-root"
    root: CertKnobs = CertKnobs(
        serial=serial_from_label("intel-root"),
        not_before=utc("2018-05-21T10:45:10Z"),
        not_after=utc("2049-12-31T23:59:59Z"),
        key="intel-root",
    )
    platform_ca: CertKnobs = _PLATFORM_CA_KNOBS
    processor_ca: CertKnobs = _PROCESSOR_CA_KNOBS
    tcb_signing: CertKnobs = CertKnobs(
        serial=serial_from_label("intel-tcb-signing"),
        not_before=utc("2025-05-06T10:31:04Z"),
        not_after=utc("2032-05-06T10:31:04Z"),
        key="intel-tcb-signing",
    )
    root_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=utc("2025-03-20T11:21:57Z"), next_update=utc("2026-04-03T11:21:57Z")
    )
    platform_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=utc("2025-05-20T10:00:35Z"), next_update=utc("2025-06-19T10:00:35Z")
    )
    processor_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=utc("2025-05-20T10:01:12Z"), next_update=utc("2025-06-19T10:01:12Z")
    )

    def but(self, **changes: Any) -> FakeIntelPKI:
        """A copy with some knobs changed (fresh caches)."""
        return replace(self, **changes)

    # keys
    @staticmethod
    def key(label: str) -> ec.EllipticCurvePrivateKey:
        """The P-256 test key for ``label``."""
        return ec_key(label, "P-256")

    @property
    def tcb_signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The key that signs TCB Info and QE Identity."""
        return self.key(self.tcb_signing.key)

    # certificates
    def _issue(
        self,
        knobs: CertKnobs,
        subject: x509.Name,
        *,
        issuer: x509.Name,
        issuer_key: str,
        ca: bool,
        path_length: int | None,
        crl_url: str | None,
        unrecognized: Sequence[x509.UnrecognizedExtension] = (),
    ) -> x509.Certificate:
        exts: list[x509.ExtensionType] = []
        if crl_url is not None:
            exts.append(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(crl_url)], None, None, None
                        )
                    ]
                )
            )
        spec = CertSpec(
            subject=subject,
            public_key=self.key(knobs.key).public_key(),
            serial=knobs.serial,
            not_before=knobs.not_before,
            not_after=knobs.not_after,
            ca=ca,
            path_length=path_length,
            key_usage=CA_KEY_USAGE if ca else LEAF_KEY_USAGE,
            extensions=exts,
            unrecognized=unrecognized,
        )
        return issue(spec, issuer=issuer, issuer_key=self.key(knobs.signer or issuer_key))

    def _ca_issued(
        self, knobs: CertKnobs, subject: x509.Name, *, ca: bool, path_length: int | None
    ) -> x509.Certificate:
        """A certificate the root issues (CRL distribution point: the Root CA CRL)."""
        return self._issue(
            knobs,
            subject,
            issuer=ROOT_NAME,
            issuer_key=self.root_key,
            ca=ca,
            path_length=path_length,
            crl_url=_ROOT_CRL_URL,
        )

    @cached_property
    def root_cert(self) -> x509.Certificate:
        """Self-signed root, Intel's subject name."""
        return self._ca_issued(
            replace(self.root, key=self.root_key), ROOT_NAME, ca=True, path_length=1
        )

    @cached_property
    def platform_ca_cert(self) -> x509.Certificate:
        """Intel SGX PCK Platform CA."""
        return self._ca_issued(self.platform_ca, PLATFORM_CA_NAME, ca=True, path_length=0)

    @cached_property
    def processor_ca_cert(self) -> x509.Certificate:
        """Intel SGX PCK Processor CA."""
        return self._ca_issued(self.processor_ca, PROCESSOR_CA_NAME, ca=True, path_length=0)

    @cached_property
    def tcb_signing_cert(self) -> x509.Certificate:
        """Intel SGX TCB Signing (signs TCB Info and QE Identity)."""
        return self._ca_issued(self.tcb_signing, TCB_SIGNING_NAME, ca=False, path_length=None)

    def ca_cert(self, ca: str) -> x509.Certificate:
        """The PCK CA certificate for ``platform`` or ``processor``."""
        return self.platform_ca_cert if ca == "platform" else self.processor_ca_cert

    def _ca_knobs(self, ca: str) -> CertKnobs:
        return self.platform_ca if ca == "platform" else self.processor_ca

    def pck_cert(self, spec: PckSpec) -> x509.Certificate:
        """A PCK leaf with the SGX extension, issued by ``spec.ca``."""
        knobs = CertKnobs(
            serial=spec.serial,
            not_before=spec.not_before,
            not_after=spec.not_after,
            key=spec.key,
            signer=spec.signer,
        )
        ext = x509.UnrecognizedExtension(
            x509.ObjectIdentifier(SGX_EXTENSION_OID), spec.extension.encode()
        )
        return self._issue(
            knobs,
            PCK_NAME,
            issuer=self.ca_cert(spec.ca).subject,
            issuer_key=self._ca_knobs(spec.ca).key,
            ca=False,
            path_length=None,
            crl_url=_PCK_CRL_URL.format(spec.ca),
            unrecognized=(ext,),
        )

    def pck_chain(
        self, spec: PckSpec
    ) -> tuple[x509.Certificate, x509.Certificate, x509.Certificate]:
        """Leaf, intermediate, root."""
        return (self.pck_cert(spec), self.ca_cert(spec.ca), self.root_cert)

    # CRLs
    def _crl(self, knobs: CrlKnobs, issuer: x509.Name, key: str) -> x509.CertificateRevocationList:
        return make_crl(
            issuer=issuer,
            issuer_key=self.key(knobs.signer or key),
            this_update=knobs.this_update,
            next_update=knobs.next_update,
            revoked_serials=knobs.revoked,
            crl_number=knobs.number,
        )

    @cached_property
    def root_crl(self) -> x509.CertificateRevocationList:
        """Root CA CRL (revokes intermediates and the TCB Signing cert)."""
        return self._crl(self.root_crl_knobs, ROOT_NAME, self.root_key)

    @cached_property
    def platform_crl(self) -> x509.CertificateRevocationList:
        """PCK CRL of the Platform CA."""
        return self._crl(self.platform_crl_knobs, PLATFORM_CA_NAME, self.platform_ca.key)

    @cached_property
    def processor_crl(self) -> x509.CertificateRevocationList:
        """PCK CRL of the Processor CA."""
        return self._crl(self.processor_crl_knobs, PROCESSOR_CA_NAME, self.processor_ca.key)

    def pck_crl(self, ca: str) -> x509.CertificateRevocationList:
        """The PCK CRL of ``platform`` or ``processor``."""
        return self.platform_crl if ca == "platform" else self.processor_crl

    # signed collateral
    def sign_body(
        self, member: str, value: Mapping[str, Any], *, signer: str | None = None
    ) -> bytes:
        """``{"<member>":<compact value>,"signature":"<hex r||s>"}``; the signature covers
        the exact value text (QVL `Json/TcbInfo.cpp`)."""
        text = compact_json(value)
        key = self.key(signer) if signer is not None else self.tcb_signing_key
        sig = sign_ecdsa_raw(key, text.encode(), hashes.SHA256())
        return ('{"' + member + '":' + text + ',"signature":"' + sig.hex() + '"}').encode()

    def tcb_info_body(self, info: TcbInfo, *, signer: str | None = None) -> bytes:
        """A signed TCB Info response body."""
        return self.sign_body("tcbInfo", info.to_json(), signer=signer)

    def qe_identity_body(self, ident: QeIdentity, *, signer: str | None = None) -> bytes:
        """A signed QE Identity response body."""
        return self.sign_body("enclaveIdentity", ident.to_json(), signer=signer)

    def tcb_signing_chain_pem(self) -> bytes:
        """TCB Signing cert then root (the PCS issuer-chain order)."""
        return pem(self.tcb_signing_cert, self.root_cert)

    def pck_crl_issuer_chain_pem(self, ca: str) -> bytes:
        """PCK CA then root."""
        return pem(self.ca_cert(ca), self.root_cert)

    def root_fingerprint(self) -> str:
        """SHA-256 of the root's DER (for ``TrustStore(intel_roots=...)``)."""
        return hashlib.sha256(self.root_cert.public_bytes(serialization.Encoding.DER)).hexdigest()
