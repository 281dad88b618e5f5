"""AMD's public ARK, ASK and ASVK of Milan, Genoa and Turin, shipped with cocoverify.

The files in ``_data`` are the certificates KDS serves in ``/vcek/v1/<P>/cert_chain`` and
``/vlek/v1/<P>/cert_chain`` (VCEK spec, AMD 57230; KDS specification), stored as DER. Each
is checked against its pinned SHA-256(DER) (``trust.AMD_CA_SHA256``) when first read: a
changed file is a configuration error, never a silently different root.

They fill only the roles the evidence and the caller left empty, and only for a product
whose pinned ARK (in the caller's :class:`~cocoverify.trust.TrustStore`) is AMD's real ARK:
a supplied ASK, ASVK or ARK is still the one checked (a wrong one is still rejected), and a
trust store of a test PKI gets nothing from here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from importlib import resources

from cocoverify.errors import ConfigurationError, Reason
from cocoverify.tee.snp.facts import CertInfo, cert_info_der
from cocoverify.trust import AMD_CA_SHA256, TrustStore

__all__ = ["ROLES", "bundled_certificate", "fill_roles"]

#: The roles shipped per product.
ROLES = ("ark", "ask", "asvk")


@functools.cache
def bundled_certificate(product: str, role: str) -> CertInfo:
    """The shipped certificate of ``product`` ("Milan", "Genoa", "Turin") and ``role``
    ("ark", "ask", "asvk"), checked against its pinned fingerprint."""
    pinned = AMD_CA_SHA256[product][role]
    name = f"{product.lower()}_{role}.der"
    der = resources.files("cocoverify.tee.snp").joinpath("_data", name).read_bytes()
    if hashlib.sha256(der).hexdigest() != pinned:
        raise ConfigurationError(
            f"the shipped AMD {role.upper()} of {product} ({name}) is not the pinned one",
            reason=Reason.INVALID_TRUST_STORE,
        )
    return cert_info_der(der)


def _real_ark_pinned(product: str, trust: TrustStore) -> bool:
    return AMD_CA_SHA256[product]["ark"] in trust.amd_arks.get(product, frozenset())


def fill_roles(
    certs: Iterable[CertInfo], products: Iterable[str], kind: str, trust: TrustStore
) -> list[CertInfo]:
    """The shipped certificates that complete ``certs`` for a ``kind`` ("vcek" | "vlek")
    chain of each of ``products``: the ASK (VCEK) or ASVK (VLEK) when no certificate of
    that role was supplied, the ARK when no ARK-shaped certificate was; only for products
    whose pinned ARK is AMD's."""
    have = {c.role for c in certs}
    inter = "ask" if kind == "vcek" else "asvk"
    out: list[CertInfo] = []
    for product in products:
        if product not in AMD_CA_SHA256 or not _real_ark_pinned(product, trust):
            continue
        for role in (inter, "ark"):
            if role not in have:
                out.append(bundled_certificate(product, role))
    return out
