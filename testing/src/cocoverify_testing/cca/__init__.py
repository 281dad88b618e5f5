"""TEST ONLY. A fake Arm CCA platform, a token builder and the project's CCA vectors.

* :mod:`.platform`: :class:`FakeCcaPlatform` (CPAK on P-256/P-384/P-521, P-384 RAK, ids; the
  CPAK as PEM, JWK or trust-anchor store).
* :mod:`.token`: :class:`CcaTokenBuilder` (fluent: every ``with_*`` returns a new builder,
  ``sign()`` produces the token), :func:`collection`, :func:`cbor_map`, :data:`REMOVE`.
* :mod:`.catalogue`: :func:`generate_vectors` writes the negative and positive cases.
"""

from __future__ import annotations

from cocoverify_testing.cca.catalogue import generate_vectors
from cocoverify_testing.cca.platform import FakeCcaPlatform
from cocoverify_testing.cca.token import REMOVE, CcaTokenBuilder, cbor_map, collection

__all__ = [
    "REMOVE",
    "CcaTokenBuilder",
    "FakeCcaPlatform",
    "cbor_map",
    "collection",
    "generate_vectors",
]
