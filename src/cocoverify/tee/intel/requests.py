"""What an Intel SGX/TDX quote needs fetched: one :class:`IntelRequest` (FMSPC, PCK CA type,
TEE), read from the PCK leaf's Intel SGX extension (Intel SGX PCK Certificate and CRL
Profile: FMSPC; the issuing CA from the leaf's issuer CN, "Platform" or "Processor").

Nothing is verified here: the request only says what to fetch, and whatever is fetched is
verified by the pipeline like any supplied file.
"""

from __future__ import annotations

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import IntelRequest, intel_request
from cocoverify.errors import ChainInvalid, Reason
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.intel.pck import pck_chain_for
from cocoverify.tee.intel.sgxext import parse_pck_extension

__all__ = ["collateral_requests"]


def collateral_requests(
    data: bytes, *, collateral: Collateral | None = None, product: str | None = None
) -> tuple[IntelRequest, ...]:
    """The Intel collateral ``data`` (a DCAP quote) needs.

    The PCK chain comes from certification data type 5, else from ``collateral`` (types
    1-4 carry none: CollateralUnavailable when it is not supplied). ``product`` is unused
    (the AMD option; kept so every TEE answers the same call).
    """
    del product
    quote = parse_quote(data)
    chain = pck_chain_for(quote, collateral if collateral is not None else Collateral())
    info = parse_pck_extension(chain[0])
    if not info.ca:
        raise ChainInvalid(
            "the PCK certificate's issuer is neither the Platform nor the Processor CA",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    return (intel_request(fmspc=info.fmspc, ca=info.ca, tee=quote.tee),)
