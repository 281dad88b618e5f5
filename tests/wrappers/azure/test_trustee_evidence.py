"""trustee's adapter recognises az-snp-vtpm / az-tdx-vtpm evidence JSON by content."""

from __future__ import annotations

import base64
import json

import pytest

from cocoverify.errors import MalformedEvidence, UnsupportedEvidence
from cocoverify.integrations.trustee.evidence import AZURE_TEES, parse_evidence
from cocoverify.wrappers.azure import detect
from cocoverify_testing.azure import AzureBuilder


@pytest.mark.parametrize("kind", AZURE_TEES)
def test_object_text_and_rest_forms(kind: str) -> None:
    raw = AzureBuilder(kind=kind, version=1).evidence()
    obj = json.loads(raw)
    rest = base64.urlsafe_b64encode(raw).rstrip(b"=")
    for form in (obj, raw.decode(), raw, rest):
        ev = parse_evidence(kind, form)
        assert ev.tee == kind and detect(ev.data) == kind
        assert json.loads(ev.data) == obj


def test_kind_must_match_content() -> None:
    raw = AzureBuilder(kind="az-snp-vtpm").evidence()
    with pytest.raises(UnsupportedEvidence):
        parse_evidence("az-tdx-vtpm", raw)
    with pytest.raises(UnsupportedEvidence):
        parse_evidence("az-snp-vtpm", {"quote": "AAAA"})
    with pytest.raises(MalformedEvidence):
        parse_evidence("az-snp-vtpm", b"\x00\x01")
