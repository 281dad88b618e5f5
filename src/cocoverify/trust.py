"""Trust anchors, pinned by the SHA-256 of their DER encoding.

Vendor certificates travel with the evidence or the collateral; a chain is trusted only
when its self-signed root's fingerprint is pinned here. The defaults are the real vendor
roots (the Intel SGX Root CA; the AMD ARK of each product as served by KDS; the AWS Nitro
Enclaves root; DigiCert Trusted Root G4 for IBM's host-key signing chain). Tests
build a :class:`TrustStore` around the fake roots of :mod:`cocoverify_testing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography import x509
from cryptography.x509.oid import NameOID

from cocoverify._core.x509 import fingerprint
from cocoverify.errors import ConfigurationError, Reason

__all__ = [
    "AMD_ARK_SHA256",
    "AMD_CA_SHA256",
    "AWS_NITRO_ROOT_SHA256",
    "IBM_SE_ROOT_SHA256",
    "INTEL_SGX_ROOT_CA_SHA256",
    "NVIDIA_DEVICE_ROOT_SHA256",
    "TrustStore",
    "fingerprint",
]

#: Intel SGX Root CA (Intel SGX PCK Certificate and CRL Profile).
INTEL_SGX_ROOT_CA_SHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

#: AMD Root Keys per product (KDS specification, cert_chain). VCEK and VLEK chains share the ARK.
AMD_ARK_SHA256: Mapping[str, str] = MappingProxyType(
    {
        "Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
        "Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
        "Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    }
)

#: AMD's certificates per product and role (ARK, ASK, ASVK), as KDS serves them in
#: ``/vcek/v1/<P>/cert_chain`` and ``/vlek/v1/<P>/cert_chain``: the copies shipped in
#: ``cocoverify/tee/snp/_data`` must have exactly these SHA-256(DER) values.
AMD_CA_SHA256: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "Milan": MappingProxyType(
            {
                "ark": AMD_ARK_SHA256["Milan"],
                "ask": "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
                "asvk": "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
            }
        ),
        "Genoa": MappingProxyType(
            {
                "ark": AMD_ARK_SHA256["Genoa"],
                "ask": "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
                "asvk": "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
            }
        ),
        "Turin": MappingProxyType(
            {
                "ark": AMD_ARK_SHA256["Turin"],
                "ask": "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
                "asvk": "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
            }
        ),
    }
)

#: AWS Nitro Enclaves Root-G1 (AWS Nitro Enclaves User Guide, "Verifying the root of trust":
#: the SHA-256 of the certificate, not of the ZIP that carries it).
AWS_NITRO_ROOT_SHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

#: DigiCert Trusted Root G4, the root of IBM's host-key signing chain (trustee
#: deps/verifier/src/se/README.md: DigiCertCA.crt, DigiCertTrustedRootG4.crl; s390-tools pv
#: CertVerifier); used when making IBM Secure Execution requests.
IBM_SE_ROOT_SHA256 = "552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988"

#: NVIDIA Device Identity CA, the root of GPU device certificate chains (trustee
#: deps/verifier/src/nvidia/nvidia_device_root.pem; NVIDIA nvtrust verifier_device_root.pem).
NVIDIA_DEVICE_ROOT_SHA256 = "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"


def _norm_fp(value: str) -> str:
    fp = value.lower().replace(":", "").strip()
    if len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        raise ConfigurationError(
            f"not a SHA-256 fingerprint: {value!r}", reason=Reason.INVALID_TRUST_STORE
        )
    return fp


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Pinned roots per vendor. Immutable; safe to share between threads."""

    intel_roots: frozenset[str] = frozenset({INTEL_SGX_ROOT_CA_SHA256})
    amd_arks: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType(
            {p: frozenset({fp}) for p, fp in AMD_ARK_SHA256.items()}
        )
    )
    nitro_roots: frozenset[str] = frozenset({AWS_NITRO_ROOT_SHA256})
    ibmse_roots: frozenset[str] = frozenset({IBM_SE_ROOT_SHA256})
    nvidia_roots: frozenset[str] = frozenset({NVIDIA_DEVICE_ROOT_SHA256})

    def __post_init__(self) -> None:
        object.__setattr__(self, "intel_roots", frozenset(_norm_fp(f) for f in self.intel_roots))
        object.__setattr__(self, "nitro_roots", frozenset(_norm_fp(f) for f in self.nitro_roots))
        object.__setattr__(self, "ibmse_roots", frozenset(_norm_fp(f) for f in self.ibmse_roots))
        object.__setattr__(self, "nvidia_roots", frozenset(_norm_fp(f) for f in self.nvidia_roots))
        object.__setattr__(
            self,
            "amd_arks",
            MappingProxyType(
                {p: frozenset(_norm_fp(f) for f in fps) for p, fps in self.amd_arks.items()}
            ),
        )

    @classmethod
    def default(cls) -> TrustStore:
        """The real vendor roots."""
        return _DEFAULT

    @classmethod
    def from_certificates(
        cls,
        *,
        intel: Iterable[x509.Certificate] = (),
        amd: Mapping[str, Iterable[x509.Certificate]] | None = None,
        nitro: Iterable[x509.Certificate] = (),
        ibmse: Iterable[x509.Certificate] = (),
        nvidia: Iterable[x509.Certificate] = (),
    ) -> TrustStore:
        """A store pinning exactly the given root certificates (used with test PKIs)."""
        return cls(
            intel_roots=frozenset(fingerprint(c) for c in intel),
            amd_arks=MappingProxyType(
                {p: frozenset(fingerprint(c) for c in certs) for p, certs in (amd or {}).items()}
            ),
            nitro_roots=frozenset(fingerprint(c) for c in nitro),
            ibmse_roots=frozenset(fingerprint(c) for c in ibmse),
            nvidia_roots=frozenset(fingerprint(c) for c in nvidia),
        )

    @classmethod
    def from_root_certificates(cls, certs: Iterable[x509.Certificate]) -> TrustStore:
        """Pin exactly these roots: ``ARK-<Product>`` certificates for AMD,
        ``CN=<partition>.nitro-enclaves`` for AWS Nitro, ``CN=NVIDIA Device Identity CA`` for
        NVIDIA GPUs, others for Intel.

        For test PKIs and pre-production roots; the CLI's ``--trust-root``.
        """
        intel: list[x509.Certificate] = []
        amd: dict[str, list[x509.Certificate]] = {}
        nitro: list[x509.Certificate] = []
        nvidia: list[x509.Certificate] = []
        for cert in certs:
            cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            cn = str(cns[0].value) if cns else ""
            if cn.startswith("ARK-"):
                amd.setdefault(cn.removeprefix("ARK-"), []).append(cert)
            elif cn.endswith(".nitro-enclaves"):  # NSM attestation_process §2.1 subject
                nitro.append(cert)
            elif cn == "NVIDIA Device Identity CA":  # the NVIDIA device root's subject
                nvidia.append(cert)
            else:
                intel.append(cert)
        return cls.from_certificates(intel=intel, amd=amd, nitro=nitro, nvidia=nvidia)

    def is_intel_root(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` is a pinned Intel root."""
        return fingerprint(cert) in self.intel_roots

    def amd_product_for_ark(self, cert: x509.Certificate) -> str | None:
        """The product whose pinned ARK ``cert`` is, else None."""
        fp = fingerprint(cert)
        for product, fps in self.amd_arks.items():
            if fp in fps:
                return product
        return None

    def is_nitro_root(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` is a pinned AWS Nitro Enclaves root."""
        return fingerprint(cert) in self.nitro_roots

    def is_nvidia_root(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` is a pinned NVIDIA device root."""
        return fingerprint(cert) in self.nvidia_roots

    def is_ibmse_root(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` is a pinned root of IBM's host-key signing chain."""
        return fingerprint(cert) in self.ibmse_roots


_DEFAULT = TrustStore()
