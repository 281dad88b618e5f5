"""Fixtures of the collateral source tests: the loopback server and signed SNP reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cocoverify_testing.snp import SnpReportBuilder

from _shared.collateral import M, T
from _shared.loopback import Server


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def milan_report() -> bytes:
    return SnpReportBuilder.for_product("Milan").sign(M)


@pytest.fixture(scope="module")
def turin_report() -> bytes:
    return SnpReportBuilder.for_product("Turin").sign(T)
