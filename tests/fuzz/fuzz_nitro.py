"""Fuzz the AWS Nitro document parser and pipeline (docs/nitro.md).

    python tests/fuzz/fuzz_nitro.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_nitro.py --mutations 5000   # the mutation loop only

Seeds: a fake document (tagged and untagged) and, when ../shared is checked out, the real
documents of ../shared/vectors/nitro.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _harness

import cocoverify
from cocoverify.tee.nitro import describe, detect
from cocoverify_testing.nitro import NitroDocumentBuilder

BUILDER = NitroDocumentBuilder()
TRUST = BUILDER.pki.trust()
SHARED = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "nitro"


def seeds() -> list[bytes]:
    out = [BUILDER.build(), NitroDocumentBuilder(tagged=True).build()]
    out += [p.read_bytes() for p in sorted(SHARED.glob("*/attestation.cose"))[:3]]
    return out


def target(data: bytes) -> None:
    detect(data)
    try:
        describe(data)
    finally:
        cocoverify.verify(data, at="2026-01-01T00:00:00Z", trust=TRUST)


if __name__ == "__main__":
    _harness.main(target, seeds(), sys.argv)
