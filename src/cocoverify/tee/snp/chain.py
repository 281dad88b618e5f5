"""SEV-SNP certificate roles, the AMD signature profile and the VEK -> ASK/ASVK -> ARK chain.

Step 4 of docs/snp.md ("Order of checks"), with the names and profile of the VCEK spec
(AMD 57230): the ARK pinned for the product, ARK -> ASK/ASVK -> VCEK/VLEK signed with
RSASSA-PSS SHA-384 (MGF1-SHA-384, salt 48), names and key types checked, every certificate
valid at ``at``.

Certificates are recognised by content (subject CN), never by file name or order: a set
that contains the genuine ASK and ARK of the product verifies whatever files they came in.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, SignatureAlgorithmOID

import cocoverify._core.der as der
from cocoverify._core.x509 import check_validity, common_name, signed_by
from cocoverify.errors import ChainInvalid, CocoverifyError, CollateralUnavailable, Reason
from cocoverify.trust import TrustStore, fingerprint

__all__ = [
    "cert_role",
    "chain_after_validity",
    "chain_before_validity",
    "chain_candidates",
    "chain_names",
    "check_chain_validity",
    "first_ok",
    "is_amd_pss",
    "issuer_product",
    "missing_role",
    "profile_error",
    "strict_signature_bits",
    "verify_chain_roles",
    "verify_vek_chain",
]

_T = TypeVar("_T")
_R = TypeVar("_R")
_Pair = tuple[x509.Certificate, x509.Certificate]


# --- roles by content ----------------------------------------------------------------------


def cert_role(cert: x509.Certificate) -> tuple[str | None, str | None]:
    """(role, product) from the subject CN (VCEK spec, AMD 57230; ARK-<P>, SEV-<P>,
    SEV-VLEK-<P>, SEV-VCEK, SEV-VLEK): ark/ask/asvk carry the product; vcek/vlek return
    (role, None); anything else (None, None)."""
    cn = common_name(cert.subject)
    if cn == "SEV-VCEK":
        return "vcek", None
    if cn == "SEV-VLEK":
        return "vlek", None
    if cn.startswith("ARK-"):
        return "ark", cn[4:]
    if cn.startswith("SEV-VLEK-"):
        return "asvk", cn[9:]
    if cn.startswith("SEV-"):
        return "ask", cn[4:]
    return None, None


def issuer_product(vek: x509.Certificate) -> tuple[str | None, str | None]:
    """(intermediate role, product) named by a VCEK/VLEK's issuer CN."""
    cn = common_name(vek.issuer)
    if cn.startswith("SEV-VLEK-"):
        return "asvk", cn[9:]
    if cn.startswith("SEV-") and cn not in ("SEV-VCEK", "SEV-VLEK"):
        return "ask", cn[4:]
    return None, None


# --- the AMD signature profile ---------------------------------------------------------------


def profile_error(message: str) -> ChainInvalid:
    """certificate_profile_invalid."""
    return ChainInvalid(message, reason=Reason.CERTIFICATE_PROFILE_INVALID)


def is_amd_pss(item: x509.Certificate | x509.CertificateRevocationList) -> bool:
    """RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48: every AMD signature (VCEK spec,
    AMD 57230; ARK, ASK/ASVK, VCEK/VLEK and CRL alike)."""
    try:
        params = item.signature_algorithm_parameters
        digest = item.signature_hash_algorithm
        oid = item.signature_algorithm_oid
    except (UnsupportedAlgorithm, ValueError):
        return False
    if oid != SignatureAlgorithmOID.RSASSA_PSS or not isinstance(digest, hashes.SHA384):
        return False
    if not isinstance(params, padding.PSS) or getattr(params, "_salt_length", None) != 48:
        return False
    # the mask generation hash is a separate parameter: MGF1 over SHA-256 also verifies
    mgf_hash = getattr(params.mgf, "_algorithm", None)
    return isinstance(params.mgf, padding.MGF1) and isinstance(mgf_hash, hashes.SHA384)


def strict_signature_bits(item: x509.Certificate | x509.CertificateRevocationList) -> bool:
    """The outer signatureValue BIT STRING declares 0 unused bits (X.690 §11.2; an RSA
    signature is whole octets). ``cryptography`` ignores the count, which lets the unsigned
    outer encoding change without the signature check noticing."""
    try:
        outer, _ = der.parse_tlv(item.public_bytes(Encoding.DER))
        parts = der.parse_tlvs(outer.value)
    except ValueError:
        return False
    return len(parts) == 3 and parts[2].tag == 0x03 and parts[2].value[:1] == b"\x00"


def _check_pss(cert: x509.Certificate, what: str) -> None:
    if not is_amd_pss(cert):
        raise profile_error(f"{what} is not signed with RSASSA-PSS SHA-384 MGF1-SHA-384 salt 48")
    if not strict_signature_bits(cert):
        raise profile_error(f"{what}: the signature BIT STRING declares unused bits")


#: The only extensions an AMD certificate may mark critical (VCEK spec; RFC 5280 §4.2:
#: a certificate with an unrecognised critical extension must be rejected).
_CRITICAL_OK = frozenset({ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE})


def _check_extensions(cert: x509.Certificate, what: str, *, issuer: bool) -> None:
    """No unknown critical extension; a KeyUsage, when present, allows the role's use
    (keyCertSign for the ARK and ASK/ASVK, digitalSignature for a VCEK/VLEK; RFC 5280
    §4.2.1.3). Real VCEKs/VLEKs carry no KeyUsage."""
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _CRITICAL_OK:
            raise profile_error(
                f"{what} has an unrecognised critical extension {ext.oid.dotted_string}"
            )
        if isinstance(ext.value, x509.KeyUsage):
            ok = ext.value.key_cert_sign if issuer else ext.value.digital_signature
            if not ok:
                use = "keyCertSign" if issuer else "digitalSignature"
                raise profile_error(f"{what} KeyUsage does not allow {use}")


# --- the chain -----------------------------------------------------------------------------


def missing_role(
    near_miss: bool, mismatch: str, mismatch_reason: Reason, missing: str
) -> CocoverifyError:
    """The error for a role no supplied certificate fills: ``near_miss`` (one of another
    product or key kind was supplied) is ChainInvalid(``mismatch_reason``), else the
    collateral is missing."""
    if near_miss:
        return ChainInvalid(mismatch, reason=mismatch_reason)
    return CollateralUnavailable(missing, reason=Reason.COLLATERAL_MISSING)


def _untrusted_ark(ark: x509.Certificate, product: str) -> ChainInvalid:
    return ChainInvalid(
        f"ARK (sha256 {fingerprint(ark)}) is not the pinned ARK of {product}",
        reason=Reason.UNTRUSTED_ROOT,
    )


def verify_chain_roles(
    vek: x509.Certificate,
    intermediate: x509.Certificate,
    ark: x509.Certificate,
    *,
    product: str,
    trust: TrustStore,
    at: _dt.datetime,
) -> None:
    """Verify VEK -> ASK/ASVK -> ARK with each certificate in its stated role.

    The ARK is pinned for ``product`` by fingerprint (an ARK pinned for another product is
    product_mismatch, any other untrusted_root), signatures and issuer names chain, the
    profile (PSS, P-384 leaf, CNs) holds, and all are valid at ``at``.
    """
    chain_before_validity(vek, intermediate, ark, product=product, trust=trust)
    check_chain_validity(vek, intermediate, ark, at)
    chain_after_validity(vek, intermediate, ark)


def chain_names(vek: x509.Certificate) -> tuple[str, str, str]:
    """Labels of (VEK, intermediate, ARK) in messages: VCEK, ASK, ARK or VLEK, ASVK, ARK."""
    if cert_role(vek)[0] == "vlek":
        return "VLEK", "ASVK", "ARK"
    return "VCEK", "ASK", "ARK"


def chain_before_validity(
    vek: x509.Certificate,
    intermediate: x509.Certificate,
    ark: x509.Certificate,
    *,
    product: str,
    trust: TrustStore,
) -> None:
    """The checks of :func:`verify_chain_roles` before validity, none depending on time:
    leaf role, pinned ARK, intermediate CN, self-signed ARK, each link's issuer name and
    signature and the issuer's CA flag (``_core.x509.verify_chain``, in its order)."""
    role, _ = cert_role(vek)
    kind = {"vcek": "VCEK", "vlek": "VLEK"}.get(role or "")
    if kind is None:
        raise profile_error(
            f"leaf CN {common_name(vek.subject)!r} is neither SEV-VCEK nor SEV-VLEK"
        )
    pinned = trust.amd_arks.get(product, frozenset())
    if fingerprint(ark) not in pinned:
        other = trust.amd_product_for_ark(ark)
        if other is not None:
            raise ChainInvalid(
                f"the supplied ARK is pinned for {other}, not {product}",
                reason=Reason.PRODUCT_MISMATCH,
            )
        raise _untrusted_ark(ark, product)
    want_inter = f"SEV-{product}" if kind == "VCEK" else f"SEV-VLEK-{product}"
    if common_name(intermediate.subject) != want_inter:
        inter_role, inter_product = cert_role(intermediate)
        wrong_kind = inter_product == product and inter_role in ("ask", "asvk")
        raise ChainInvalid(
            f"{kind} intermediate CN is {common_name(intermediate.subject)!r}, want {want_inter!r}",
            reason=Reason.KEY_TYPE_MISMATCH if wrong_kind else Reason.PRODUCT_MISMATCH,
        )
    names = chain_names(vek)
    if not signed_by(ark, ark):
        raise ChainInvalid(f"{names[2]} is not self-signed", reason=Reason.CHAIN_INVALID)
    for child, parent, label, plabel in (
        (vek, intermediate, names[0], names[1]),
        (intermediate, ark, names[1], names[2]),
    ):
        if not signed_by(child, parent):
            raise ChainInvalid(f"{label} is not signed by {plabel}", reason=Reason.CHAIN_INVALID)
        if not _is_ca(parent):
            raise profile_error(f"{plabel} is not a CA certificate")


def check_chain_validity(
    vek: x509.Certificate, intermediate: x509.Certificate, ark: x509.Certificate, at: _dt.datetime
) -> None:
    """Each certificate valid at ``at`` (RFC 5280 §4.1.2.5), leaf first; evaluated per call."""
    for cert, what in zip((vek, intermediate, ark), chain_names(vek), strict=True):
        check_validity(cert, at, what=what)


def chain_after_validity(
    vek: x509.Certificate, intermediate: x509.Certificate, ark: x509.Certificate
) -> None:
    """The profile checks of :func:`verify_chain_roles` after validity: the AMD signature
    profile and extensions of each certificate, then a P-384 leaf key."""
    names = chain_names(vek)
    for cert, what in zip((vek, intermediate, ark), names, strict=True):
        _check_pss(cert, what)
        _check_extensions(cert, what, issuer=cert is not vek)
    key = vek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise profile_error(f"{names[0]} key is not EC P-384")


def _is_ca(cert: x509.Certificate) -> bool:
    """BasicConstraints cA (as ``_core.x509.verify_chain`` requires of issuers)."""
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return bool(bc.ca)


def first_ok(attempt: Callable[[_T], _R], candidates: Sequence[_T]) -> _R:
    """The result of the first candidate that passes every check, else the first failure.

    Acceptance must not depend on the order of the collateral: an expired VCEK next to its
    re-issued twin, or two pinned ARKs, must not hide the valid path.
    """
    first: CocoverifyError | None = None
    for candidate in candidates:
        try:
            return attempt(candidate)
        except CocoverifyError as exc:
            first = first or exc
    if first is None:  # callers always pass at least one candidate
        raise ChainInvalid("no certificate path to verify", reason=Reason.CHAIN_INVALID)
    raise first


def verify_vek_chain(
    vek: x509.Certificate,
    certs: Iterable[x509.Certificate],
    *,
    product: str,
    trust: TrustStore,
    at: _dt.datetime,
) -> tuple[x509.Certificate, x509.Certificate]:
    """Find the intermediate and the pinned ARK of ``product`` among ``certs`` and verify.

    Returns (intermediate, ark). A set whose intermediates or ARK are only another
    product's is product_mismatch; an ARK-shaped root that is not pinned, untrusted_root;
    nothing suitable at all, collateral_missing.
    """

    def attempt(pair: _Pair) -> _Pair:
        verify_chain_roles(vek, pair[0], pair[1], product=product, trust=trust, at=at)
        return pair

    return first_ok(attempt, chain_candidates(vek, certs, product=product, trust=trust))


def chain_candidates(
    vek: x509.Certificate,
    certs: Iterable[x509.Certificate],
    *,
    product: str,
    trust: TrustStore,
) -> list[_Pair]:
    """(intermediate, pinned ARK) pairs of ``product`` that link ``vek``; if none links,
    the first pair (its verification names the broken link). Raises when a role is
    missing or only another product's (see :func:`verify_vek_chain`)."""
    pool = list(certs)
    role, _ = cert_role(vek)
    inter_role = "ask" if role == "vcek" else "asvk"
    issuer_role, product_of_issuer = issuer_product(vek)
    if issuer_role != inter_role:
        raise ChainInvalid(
            f"{(role or '?').upper()} is issued by {common_name(vek.issuer)!r}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    if product_of_issuer != product:
        raise ChainInvalid(
            f"{(role or '?').upper()} is issued for {product_of_issuer}, the report is {product}",
            reason=Reason.PRODUCT_MISMATCH,
        )
    inters = [c for c in pool if cert_role(c) == (inter_role, product)]
    if not inters:
        raise missing_role(
            any(cert_role(c)[0] == inter_role for c in pool),
            f"no {inter_role.upper()} of {product} supplied, only another product's",
            Reason.PRODUCT_MISMATCH,
            f"no {inter_role.upper()} (SEV-{product}) certificate supplied",
        )
    pinned = trust.amd_arks.get(product, frozenset())
    arks = [c for c in pool if fingerprint(c) in pinned]
    if not arks:
        for c in pool:
            other = trust.amd_product_for_ark(c)
            if other is not None and other != product:
                raise ChainInvalid(
                    f"the supplied ARK is {other}'s, the report is {product}",
                    reason=Reason.PRODUCT_MISMATCH,
                )
        shaped = [c for c in pool if cert_role(c)[0] == "ark"]
        if shaped:
            raise _untrusted_ark(shaped[0], product)
        raise CollateralUnavailable(
            f"the ARK of {product} was not supplied", reason=Reason.COLLATERAL_MISSING
        )
    # several intermediates (re-issued ASKs) or pinned ARKs: every pair that links
    linked = [(i, a) for a in arks for i in inters if signed_by(vek, i) and signed_by(i, a)]
    return linked or [(inters[0], arks[0])]
