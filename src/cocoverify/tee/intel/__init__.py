"""Intel SGX and TDX DCAP quotes v3-v5 (docs/intel.md).

``parse`` (quote layout), ``pck`` (PCK chain and SGX extension), ``verify`` (quote and QE
report signatures, CRLs), ``documents`` (TCB Info and QE Identity models), ``collateral``
(their signatures and selection), ``tcb`` (QVL's TCB verdict), ``claims``, ``policy`` and
``pipeline`` (the steps in order). ``prepared`` keeps what is static per platform and per
collateral set, computed once (its docstring lists every table and its size; ``cache``
is the bounded table they use).
"""

from __future__ import annotations

from typing import Any

from cocoverify.tee.intel.describe import describe_quote
from cocoverify.tee.intel.parse import looks_like
from cocoverify.tee.intel.pipeline import appraise_quote
from cocoverify.tee.intel.policy import SgxPolicy, TdxPolicy
from cocoverify.tee.intel.tcb import TCB_STATUSES

__all__ = ["POLICY_SECTIONS", "TCB_STATUSES", "appraise_quote", "describe", "detect"]

#: The policy sections this TEE contributes, by the ``tee`` value they apply to.
POLICY_SECTIONS = {"sgx": SgxPolicy, "tdx": TdxPolicy}


def detect(data: bytes) -> str | None:
    """``"sgx"`` or ``"tdx"`` when the bytes start with a DCAP quote header, else None."""
    if not looks_like(data):
        return None
    return "tdx" if int.from_bytes(data[4:8], "little") == 0x81 else "sgx"


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``): ``kind``, ``verified``,
    ``claims`` and the groups of the text view (``describe.py``)."""
    return describe_quote(data)
