"""The project's own generated vectors (vectors/manifest.json) through ``verify_many``."""

from __future__ import annotations

from cocoverify.batch import verify_many

from _shared.batch import project_items


def test_project_vectors_through_verify_many() -> None:
    cases, items = project_items()
    records = list(verify_many(items, max_workers=2))
    for case, rec in zip(cases, records, strict=True):
        if case["expected"] == "accept":
            assert rec["accepted"], case["id"]
        else:
            assert rec["reason"] == case["expected"], case["id"]
        assert rec["exit_code"] == case["exit_code"], case["id"]
