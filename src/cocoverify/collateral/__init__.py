"""Collateral: what the verifier needs besides the evidence, recognised by content.

:class:`Collateral` is an immutable bag of parsed items (certificate chains, CRLs, Intel
TCB Info / QE Identity bodies, public keys, JSON documents). Each vendor pipeline picks
what it needs. Files are recognised by their content, never their names:

* PEM certificates (one file = one chain, in file order), DER certificate(s)
* CRLs in DER, PEM, or hex text of the DER (as a PCCS serves ``rootcacrl``)
* Intel PCS bodies: ``{"tcbInfo": ...}``, ``{"enclaveIdentity": ...}``,
  ``{"tcbEvaluationDataNumbers": ...}``, and dcap-qvl's ``QuoteCollateralV3`` JSON
* PEM public keys, JWK / JWK sets, and other JSON documents (e.g. CCA trust-anchor stores)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509 import ocsp

from cocoverify._core.io import COLLATERAL_LIMIT, read_capped
from cocoverify._core.pem import PemError, read_pem
from cocoverify._core.x509 import (
    PARSE_ERRORS,
    force_parse,
    load_certificates,
    load_pem_certificate,
)
from cocoverify.errors import CollateralInvalid, MalformedEvidence, Reason

if TYPE_CHECKING:
    from cocoverify.collateral.online import default_source

__all__ = ["Collateral", "default_source", "load_collateral"]


@dataclass(frozen=True, slots=True)
class Collateral:
    """Parsed collateral items. Combine with ``+``; build with :func:`load_collateral`."""

    chains: tuple[tuple[x509.Certificate, ...], ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    tcb_infos: tuple[bytes, ...] = ()
    qe_identities: tuple[bytes, ...] = ()
    tcb_evaluation_numbers: tuple[bytes, ...] = ()
    public_keys: tuple[PublicKeyTypes, ...] = ()
    documents: tuple[Any, ...] = field(default=())
    sources: tuple[str, ...] = ()
    labels: tuple[tuple[str, x509.Certificate], ...] = ()
    _certificates: tuple[x509.Certificate, ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    _fingerprints: tuple[tuple[bytes, ...], ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    _digest: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: set[bytes] = set()
        unique = []
        fingerprints = []
        for chain in self.chains:
            fps = tuple(c.fingerprint(_SHA256) for c in chain)
            fingerprints.append(fps)
            for c, fp in zip(chain, fps, strict=True):
                if fp not in seen:
                    seen.add(fp)
                    unique.append(c)
        object.__setattr__(self, "_certificates", tuple(unique))
        object.__setattr__(self, "_fingerprints", tuple(fingerprints))

    def __add__(self, other: Collateral) -> Collateral:
        # both are immutable: adding an empty bag is the bag itself (no re-fingerprinting)
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        return Collateral(
            chains=self.chains + other.chains,
            crls=self.crls + other.crls,
            tcb_infos=self.tcb_infos + other.tcb_infos,
            qe_identities=self.qe_identities + other.qe_identities,
            tcb_evaluation_numbers=self.tcb_evaluation_numbers + other.tcb_evaluation_numbers,
            public_keys=self.public_keys + other.public_keys,
            documents=self.documents + other.documents,
            sources=self.sources + other.sources,
            labels=self.labels + other.labels,
        )

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """Every certificate of every chain, in order, without duplicates."""
        return self._certificates

    def is_empty(self) -> bool:
        """No item at all (nor a source name)."""
        return not (
            self.chains
            or self.crls
            or self.tcb_infos
            or self.qe_identities
            or self.tcb_evaluation_numbers
            or self.public_keys
            or self.documents
            or self.sources
            or self.labels
        )

    @property
    def digest(self) -> bytes:
        """SHA-256 over every item's content, in order: two bags with equal digests hold the
        same items (certificates and CRLs by the SHA-256 of their DER, documents as given),
        so results computed from one hold for the other. Computed once, on first use."""
        d = self._digest
        if d is None:
            d = _digest(self)
            object.__setattr__(self, "_digest", d)
        return d

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bytes>") -> Collateral:
        """Recognise one file's content. Raises CollateralInvalid if it is none of the forms."""
        item = _classify(data, source)
        if item is None:
            raise CollateralInvalid(
                f"{source}: not a recognised collateral file", reason=Reason.COLLATERAL_MALFORMED
            )
        return replace(item, sources=(source,), labels=_labels(item, source))


def _digest(c: Collateral) -> bytes:
    h = hashlib.sha256(b"cocoverify collateral v1")

    def part(tag: bytes, items: Iterable[bytes]) -> None:
        values = list(items)
        h.update(tag + len(values).to_bytes(4, "big"))
        for v in values:
            h.update(len(v).to_bytes(8, "big") + v)

    part(b"chains", (b"".join(fps) for fps in c._fingerprints))
    part(b"crls", (crl.fingerprint(_SHA256) for crl in c.crls))
    part(b"tcb_infos", c.tcb_infos)
    part(b"qe_identities", c.qe_identities)
    part(b"tcb_evaluation_numbers", c.tcb_evaluation_numbers)
    part(
        b"public_keys",
        (
            k.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for k in c.public_keys
        ),
    )
    # documents are JSON values: repr tells lists from tuples and 1 from 1.0 and True
    part(b"documents", (repr(d).encode() for d in c.documents))
    part(b"sources", (s.encode("utf-8", "surrogatepass") for s in c.sources))
    part(
        b"labels",
        (role.encode() + b"\0" + cert.fingerprint(_SHA256) for role, cert in c.labels),
    )
    return h.digest()


#: File stems that state a certificate's role (AMD file conventions: ark.pem, vcek.der, ...).
ROLE_STEMS = frozenset({"ark", "ask", "asvk", "vcek", "vlek"})


def _labels(item: Collateral, source: str) -> tuple[tuple[str, x509.Certificate], ...]:
    """A role stated by the file name, for single-certificate files named exactly after one.

    Names never make collateral acceptable: a pipeline only uses a label to reject a file
    whose content contradicts its name (e.g. an ASK in ``ark.pem``: swapped roots).
    """
    stem = os.path.basename(source).split(".", 1)[0].lower()
    if stem in ROLE_STEMS and len(item.chains) == 1 and len(item.chains[0]) == 1:
        return ((stem, item.chains[0][0]),)
    return ()


def read_collateral_file(path: str) -> bytes:
    """A collateral file's bytes, at most ``COLLATERAL_LIMIT`` (docs/security.md "Input
    limits"); larger, a special file or unreadable: CollateralInvalid (exit 4)."""
    try:
        return read_capped(path, COLLATERAL_LIMIT, kind="collateral")
    except OSError as exc:
        raise CollateralInvalid(
            f"{path}: cannot read ({exc.strerror or exc})", reason=Reason.COLLATERAL_MISSING
        ) from None


def classify_file(data: bytes, source: str) -> Collateral | None:
    """One file of a collateral folder: its items, None when it is no collateral at all
    (skipped), CollateralInvalid naming the file and line when it is recognisably collateral
    but damaged (a truncated PEM block or JSON document, bad base64, a broken DER item)."""
    item = _classify(data, source)
    if item is None:
        return None
    return replace(item, sources=(source,), labels=_labels(item, source))


def load_collateral(paths: Iterable[str | os.PathLike[str]]) -> Collateral:
    """Load files and directories (recursively; files in directories that are no collateral
    at all are skipped, damaged collateral is an error, docs/trust-and-collateral.md)."""
    total = Collateral()
    for p in paths:
        path = os.fspath(p)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    item = classify_file(read_collateral_file(full), full)
                    if item is not None:
                        total = total + item
        else:
            total = total + Collateral.from_bytes(read_collateral_file(path), source=path)
    return total


# --- recognition ---------------------------------------------------------------------------

_SHA256 = hashes.SHA256()


def _classify(data: bytes, source: str) -> Collateral | None:
    stripped = data.strip()
    if not stripped:
        return None
    if stripped[:1] == b"<":  # XML: a SWID tag (NVIDIA RIMs; docs/nvidia.md)
        return _classify_swid(stripped, source)
    if _JSON_START.match(stripped):
        return _classify_json(stripped, source)
    if b"-----BEGIN " in stripped or b"-----END " in stripped:
        return _classify_pem(stripped, source)
    der = data if data[:1] == b"\x30" else stripped  # DER may end in a whitespace byte
    if re.fullmatch(rb"(0x)?[0-9a-fA-F\s]+", stripped):
        digits = re.sub(rb"\s", b"", stripped.removeprefix(b"0x"))
        if len(digits) % 2:
            if digits[:4] in _DER_HEX_STARTS:  # hex of a DER item, cut short
                raise CollateralInvalid(
                    f"{source}: truncated hex (odd number of digits)",
                    reason=Reason.COLLATERAL_MALFORMED,
                )
        else:
            try:
                der = binascii.unhexlify(digits)
            except binascii.Error:
                return None
    return _classify_der(der, source)


#: JSON text: an object, or an array whose first item starts like a JSON value (so an INI
#: file's ``[section]`` is no JSON)
_JSON_START = re.compile(rb'\{|\[\s*[\[\{"\]\d-]')
#: A SEQUENCE with a two- or three-byte length: how certificates and CRLs start
_DER_STARTS = (b"\x30\x82", b"\x30\x83")
_DER_HEX_STARTS = (b"3082", b"3083")


def _classify_swid(data: bytes, source: str) -> Collateral | None:
    """A SWID tag (ISO/IEC 19770-2 ``SoftwareIdentity``, e.g. an NVIDIA RIM), kept as the
    document ``{"swid_tag": text}``; the pipeline that needs it parses it."""
    if b"SoftwareIdentity" not in data[:4096]:
        return None
    try:
        return Collateral(documents=({"swid_tag": data.decode("utf-8")},))
    except UnicodeDecodeError:
        raise CollateralInvalid(
            f"{source}: XML that is not UTF-8", reason=Reason.COLLATERAL_MALFORMED
        ) from None


def _classify_ocsp(der: bytes) -> Collateral | None:
    """A DER OCSPResponse (RFC 6960), kept as ``{"ocsp_response": base64}``."""
    try:
        ocsp.load_der_ocsp_response(der)
    except PARSE_ERRORS:
        return None
    return Collateral(documents=({"ocsp_response": base64.b64encode(der).decode("ascii")},))


def _classify_der(der: bytes, source: str) -> Collateral | None:
    if not der.startswith(b"\x30"):
        return None
    try:
        crl = x509.load_der_x509_crl(der)
    except PARSE_ERRORS:
        pass
    else:
        return Collateral(crls=(_checked(crl, "CRL"),))
    try:
        return Collateral(chains=(load_certificates(der),))
    except MalformedEvidence:
        pass
    if (answer := _classify_ocsp(der)) is not None:
        return answer
    try:
        return Collateral(public_keys=(serialization.load_der_public_key(der),))
    except PARSE_ERRORS:
        pass
    if der[:2] in _DER_STARTS and len(der) >= 4:
        size = int.from_bytes(der[2 : 2 + der[1] - 0x80], "big") + 2 + der[1] - 0x80
        if size != len(der):  # a certificate or CRL cut short (or with bytes appended)
            raise CollateralInvalid(
                f"{source}: DER item of {size} bytes, the file has {len(der)} (truncated?)",
                reason=Reason.COLLATERAL_MALFORMED,
            )
    return None


X = TypeVar("X", x509.Certificate, x509.CertificateRevocationList)


def _checked(item: X, source: str) -> X:
    try:
        force_parse(item)
    except PARSE_ERRORS as exc:
        raise CollateralInvalid(
            f"{source}: malformed {type(item).__name__} ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None
    return item


def _classify_pem(data: bytes, source: str) -> Collateral | None:
    """PEM text, read block by block: a damaged block is an error naming its line."""
    try:
        blocks = [(b.label, b.text, b.line) for b in read_pem(data)]
    except PemError as exc:
        raise CollateralInvalid(
            f"{source}:{exc.line}: damaged PEM ({str(exc.args[0]).split(': ', 1)[1]})",
            reason=Reason.COLLATERAL_MALFORMED,
            line=exc.line,
        ) from None
    return _pem_items(blocks, source)


def _pem_items(blocks: list[tuple[str, bytes, int]], source: str) -> Collateral | None:
    certs: list[x509.Certificate] = []
    out = Collateral()
    for kind, block, line in blocks:
        where = f"{source}:{line}" if line else source
        try:
            if kind in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                certs.append(_checked(load_pem_certificate(block), where))
            elif kind == "X509 CRL":
                out = out + Collateral(crls=(_checked(x509.load_pem_x509_crl(block), where),))
            elif kind == "PUBLIC KEY":
                out = out + Collateral(public_keys=(serialization.load_pem_public_key(block),))
        except PARSE_ERRORS as exc:
            raise CollateralInvalid(
                f"{where}: bad PEM {kind} ({exc})", reason=Reason.COLLATERAL_MALFORMED
            ) from None
    if certs:
        out = out + Collateral(chains=(tuple(certs),))
    if out == Collateral():
        return None
    return out


def _classify_json(data: bytes, source: str) -> Collateral:
    """A JSON document; text that starts like JSON but does not parse (a truncated
    download) is an error naming the line."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise CollateralInvalid(
            f"{source}:{exc.lineno}: truncated or invalid JSON ({exc.msg})",
            reason=Reason.COLLATERAL_MALFORMED,
            line=exc.lineno,
        ) from None
    except (ValueError, RecursionError) as exc:  # not UTF-8; nested too deeply
        raise CollateralInvalid(
            f"{source}: invalid JSON ({type(exc).__name__})", reason=Reason.COLLATERAL_MALFORMED
        ) from None
    if isinstance(doc, dict):
        if "tcbInfo" in doc:
            return Collateral(tcb_infos=(data,))
        if "enclaveIdentity" in doc:
            return Collateral(qe_identities=(data,))
        if "tcbEvaluationDataNumbers" in doc:
            return Collateral(tcb_evaluation_numbers=(data,))
        if _DCAP_QVL_KEYS & doc.keys():  # recognisably dcap-qvl's: every member checked
            return _from_dcap_qvl(doc, source)
    return Collateral(documents=(doc,))


_DCAP_QVL_KEYS = frozenset(
    {"tcb_info", "qe_identity", "tcb_info_signature", "qe_identity_signature"}
)


def _signed_body(member: str, text: Any, signature: Any, source: str) -> bytes:
    if not isinstance(text, str) or not isinstance(signature, str):
        raise CollateralInvalid(
            f"{source}: {member} is not text", reason=Reason.COLLATERAL_MALFORMED
        )
    return ('{"' + member + '":' + text + ',"signature":"' + signature + '"}').encode()


def _from_dcap_qvl(doc: dict[str, Any], source: str) -> Collateral:
    """dcap-qvl QuoteCollateralV3: raw signed JSON text, hex CRLs, PEM chains."""
    out = Collateral(
        tcb_infos=(
            _signed_body("tcbInfo", doc.get("tcb_info"), doc.get("tcb_info_signature"), source),
        ),
        qe_identities=(
            _signed_body(
                "enclaveIdentity", doc.get("qe_identity"), doc.get("qe_identity_signature"), source
            ),
        ),
    )
    for key in ("root_ca_crl", "pck_crl"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            item = _classify(value.encode(), f"{source}:{key}")
            if item is None or not item.crls:
                raise CollateralInvalid(
                    f"{source}: {key} is not a CRL", reason=Reason.COLLATERAL_MALFORMED
                )
            out = out + item
    for key in (
        "pck_crl_issuer_chain",
        "tcb_info_issuer_chain",
        "qe_identity_issuer_chain",
        "pck_certificate_chain",
    ):
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            item = _classify_pem(value.encode(), f"{source}:{key}")
            if item is not None:
                out = out + item
    return out


# --- the default online source (collateral/online.py, docs/collateral-sources.md) ---------------
# imported on first use, like the package root's names: `import cocoverify.collateral` stays
# free of urllib and the sources for offline callers


def __getattr__(name: str) -> Any:
    if name != "default_source":
        raise AttributeError(f"module 'cocoverify.collateral' has no attribute {name!r}")
    value = importlib.import_module("cocoverify.collateral.online").default_source
    globals()[name] = value
    return value
