"""Evidence JSON around TEE evidence is read strictly: a name twice in one object is refused,
never resolved (last-wins would let two readers see different evidence)."""

from __future__ import annotations

import json

import pytest

import cocoverify
from cocoverify import CocoverifyError, EvidenceError
from cocoverify.wrappers.composite import kbs_parts

from _shared import require_shared


def _with_duplicate_first_key(text: str) -> bytes:
    obj = json.loads(text)
    key = next(iter(obj))
    body = text.strip()[1:]
    return ("{" + json.dumps(key) + ": " + json.dumps(obj[key]) + ", " + body).encode()


def test_azure_evidence_with_a_duplicate_name_is_not_recognised() -> None:
    path = require_shared("azure") / "trustee-az-snp-vtpm-v1" / "evidence-v1.json"
    data = _with_duplicate_first_key(path.read_text())
    with pytest.raises(CocoverifyError) as ei:
        cocoverify.verify(data, at="2026-01-01T00:00:00Z")
    assert isinstance(ei.value, EvidenceError)


def test_kbs_composite_with_a_duplicate_name_is_malformed() -> None:
    text = '{"primary_evidence": "00", "primary_evidence": "01", "additional_evidence": "{}"}'
    with pytest.raises(EvidenceError) as ei:
        kbs_parts(text)
    assert ei.value.reason.value == "malformed"
