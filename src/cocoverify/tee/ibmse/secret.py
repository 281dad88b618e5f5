"""IBM Secure Execution: the verifier's per-request secret, kept or wrapped.

Only the party that made the attestation request knows its measurement key and nonce, and
the response is authenticated by an HMAC under that key (s390-tools ``pv``
``uvattest/attest.rs``). Two ways to have them at verification time:

* **kept** (:class:`RequestSecret`): the verifier stores the key and nonce of each
  outstanding request. A response can only match a request this verifier made.
* **wrapped** (:class:`UnwrapKey`), as trustee does (``generate_supplemental_challenge``):
  the key and nonce travel in the challenge RSA-encrypted (PKCS#1 v1.5) to the verifier's own
  RSA key and come back in the response; the verifier keeps only the RSA private key.
  Anyone who holds the RSA *public* key can wrap a key of their choosing, so this mode is
  only as strong as that public key is secret, and a response can be replayed.

Both travel to the pipeline inside :class:`cocoverify.collateral.Collateral` ``documents``:
the objects themselves, or their JSON forms (``{"ibmse_request_secret": {...}}``,
``{"ibmse_unwrap_key": "<PEM>"}``) read from a ``--collateral`` file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cocoverify.errors import CollateralInvalid, Reason

__all__ = [
    "MEASUREMENT_KEY_SIZE",
    "NONCE_SIZE",
    "RequestSecret",
    "UnwrapKey",
    "secrets_in",
    "unwrap",
    "wrap",
]

MEASUREMENT_KEY_SIZE = 64  # pv ReqConfData.meas_key (HMAC-SHA512 key)
NONCE_SIZE = 16  # pv AttNonce
SECRET_KEY = "ibmse_request_secret"
UNWRAP_KEY = "ibmse_unwrap_key"


def _bad(message: str) -> CollateralInvalid:
    return CollateralInvalid(message, reason=Reason.COLLATERAL_MALFORMED)


def _hex(obj: Mapping[str, Any], key: str, size: int | None) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str):
        raise _bad(f"{SECRET_KEY}.{key}: expected hex text")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise _bad(f"{SECRET_KEY}.{key}: not hex") from None
    if size is not None and len(raw) != size:
        raise _bad(f"{SECRET_KEY}.{key}: {len(raw)} bytes, expected {size}")
    return raw


@dataclass(frozen=True, slots=True)
class RequestSecret:
    """What one attestation request keeps: measurement key and nonce (never shown in a repr),
    plus what the response must match: the SE-header tags the challenge carried and the
    hashes of the host keys the request was encrypted to (both optional)."""

    measurement_key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    image_hdr_tags: bytes | None = None
    host_key_hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if len(self.measurement_key) != MEASUREMENT_KEY_SIZE or len(self.nonce) != NONCE_SIZE:
            raise _bad(
                f"{SECRET_KEY}: the measurement key is {MEASUREMENT_KEY_SIZE} bytes and the "
                f"nonce {NONCE_SIZE}"
            )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (a secret: store it as such)."""
        body: dict[str, Any] = {
            "measurement_key": self.measurement_key.hex(),
            "request_nonce": self.nonce.hex(),
        }
        if self.image_hdr_tags is not None:
            body["image_hdr_tags"] = self.image_hdr_tags.hex()
        if self.host_key_hashes:
            body["host_key_hashes"] = [h.hex() for h in self.host_key_hashes]
        return {SECRET_KEY: body}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RequestSecret:
        """Read :meth:`to_json`'s form."""
        body = doc.get(SECRET_KEY)
        if not isinstance(body, Mapping):
            raise _bad(f"{SECRET_KEY}: expected an object")
        unknown = sorted(
            set(body) - {"measurement_key", "request_nonce", "image_hdr_tags", "host_key_hashes"}
        )
        if unknown:
            raise _bad(f"{SECRET_KEY}: unknown key {unknown[0]!r}")
        tags = _hex(body, "image_hdr_tags", 208) if "image_hdr_tags" in body else None
        hashes = body.get("host_key_hashes", [])
        if not isinstance(hashes, list):
            raise _bad(f"{SECRET_KEY}.host_key_hashes: expected a list")
        return cls(
            measurement_key=_hex(body, "measurement_key", MEASUREMENT_KEY_SIZE),
            nonce=_hex(body, "request_nonce", NONCE_SIZE),
            image_hdr_tags=tags,
            host_key_hashes=tuple(_hex({"h": h}, "h", 32) for h in hashes),
        )


@dataclass(frozen=True, slots=True)
class UnwrapKey:
    """The verifier's RSA private key that unwraps trustee-style wrapped secrets."""

    private_key: rsa.RSAPrivateKey = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON form: the key as unencrypted PKCS#8 PEM (a secret: store it as such)."""
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {UNWRAP_KEY: pem.decode("ascii")}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> UnwrapKey:
        """Read :meth:`to_json`'s form."""
        pem = doc.get(UNWRAP_KEY)
        if not isinstance(pem, str):
            raise _bad(f"{UNWRAP_KEY}: expected PEM text")
        try:
            key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise _bad(f"{UNWRAP_KEY}: not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise _bad(f"{UNWRAP_KEY}: not an RSA key")
        return cls(key)


def secrets_in(documents: Iterable[Any]) -> tuple[list[RequestSecret], list[UnwrapKey]]:
    """The kept secrets and unwrap keys among collateral documents (others are ignored)."""
    kept: list[RequestSecret] = []
    keys: list[UnwrapKey] = []
    for doc in documents:
        if isinstance(doc, RequestSecret):
            kept.append(doc)
        elif isinstance(doc, UnwrapKey):
            keys.append(doc)
        elif isinstance(doc, Mapping):
            if SECRET_KEY in doc:
                kept.append(RequestSecret.from_json(doc))
            if UNWRAP_KEY in doc:
                keys.append(UnwrapKey.from_json(doc))
    return kept, keys


def wrap(public_key: rsa.RSAPublicKey, secret: bytes) -> bytes:
    """RSA PKCS#1 v1.5 encryption, as trustee wraps the key and the nonce."""
    return public_key.encrypt(secret, padding.PKCS1v15())


def unwrap(key: UnwrapKey, ciphertext: bytes, size: int) -> bytes | None:
    """The wrapped value when it decrypts to ``size`` bytes, else None (one outcome for every
    failure, so the caller cannot tell padding from length errors apart)."""
    if not ciphertext or len(ciphertext) != key.private_key.key_size // 8:
        return None
    try:
        plain = key.private_key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        return None
    return plain if len(plain) == size else None
