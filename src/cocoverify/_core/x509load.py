"""Loading certificates without ``cryptography``'s serial-number deprecation warning.

Real AMD VCEKs carry serial number 0 (VCEK spec, AMD 57230). ``cryptography`` warns
(``CryptographyDeprecationWarning``) when it loads such a certificate and again whenever
``serial_number`` is read, so every SNP verification would print it in a library user's
logs. The helpers here silence exactly that warning, only around cocoverify's own loads;
nothing is filtered at import time or for the caller's code.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

__all__ = ["load_der_certificate", "load_pem_certificate", "serial_zero_allowed"]

#: The start of the deprecation warning ``cryptography`` gives for a serial number <= 0.
_SERIAL_WARNING = "Parsed a serial number which wasn't positive"
_SERIAL_LOCK = threading.RLock()


@contextlib.contextmanager
def serial_zero_allowed() -> Iterator[None]:
    """Within the block, ``cryptography``'s deprecation warning for a non-positive serial
    number is not shown: real AMD VCEKs carry serial number 0 (VCEK spec, AMD 57230), so
    every SNP verification would print it in the caller's logs. Only that warning, only
    here: the caller's other warnings and filters are untouched. ``warnings.catch_warnings``
    swaps process-wide state, so the blocks are serialised by a lock."""
    with _SERIAL_LOCK, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=_SERIAL_WARNING, category=CryptographyDeprecationWarning
        )
        yield


def load_pem_certificate(data: bytes) -> x509.Certificate:
    """``x509.load_pem_x509_certificate`` without the serial-0 warning
    (:func:`serial_zero_allowed`)."""
    with serial_zero_allowed():
        return x509.load_pem_x509_certificate(data)


def load_der_certificate(data: bytes) -> x509.Certificate:
    """``x509.load_der_x509_certificate`` without the serial-0 warning
    (:func:`serial_zero_allowed`)."""
    with serial_zero_allowed():
        return x509.load_der_x509_certificate(data)
