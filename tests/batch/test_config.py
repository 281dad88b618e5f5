"""Batch settings and work items (batch/config.py): picklable, hashable, the time taken once."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

import cocoverify
from cocoverify import Policy, TrustStore
from cocoverify.batch import BatchConfig, BatchItem

from _shared.batch import SAMPLE_AT


def test_config_is_picklable_and_hashable() -> None:
    trust = TrustStore.from_certificates(intel=[])
    pol = Policy.from_dict({"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"]})
    cfg = BatchConfig.create(collateral=["a", Path("b")], policy=pol, trust=trust, at=SAMPLE_AT)
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and hash(again) == hash(cfg)
    assert again.policy() == pol
    assert again.trust() == trust
    assert again.collateral == ("a", "b")
    assert BatchConfig.create(at=SAMPLE_AT).trust() == TrustStore.default()
    # every field of the store travels: none comes back as its default (the real roots)
    assert cfg.trust_pins is not None
    assert [name for name, _, _ in cfg.trust_pins] == [f.name for f in dataclasses.fields(trust)]
    item = BatchItem("x", data=b"1", collateral=("c",), config=cfg)
    assert pickle.loads(pickle.dumps(item)) == item


def test_config_takes_now_once() -> None:
    cfg = BatchConfig.create()
    assert cfg.at.endswith("Z")
    with pytest.raises(cocoverify.ConfigurationError):
        BatchConfig.create(at="yesterday")
