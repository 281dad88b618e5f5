"""Intel PCS v4 / PCCS / Azure THIM client (opt-in; Intel SGX/TDX PCS API v4).

Requests, per ``intel(fmspc=, ca=, tee=, at=)``:

1. ``GET /{sgx|tdx}/certification/v4/tcb?fmspc=<hex>[&update=...]``: TCB Info body, kept
   byte for byte (the signature covers the exact text, PCS API v4 "Get TCB Info"); issuer chain in
   ``TCB-Info-Issuer-Chain`` (older: ``SGX-TCB-Info-Issuer-Chain``).
2. ``GET /{sgx|tdx}/certification/v4/qe/identity[?update=...]``: QE / TD_QE identity;
   ``SGX-Enclave-Identity-Issuer-Chain``.
3. ``GET /sgx/certification/v4/pckcrl?ca=<ca>&encoding=der`` (shared by SGX and TDX);
   ``SGX-PCK-CRL-Issuer-Chain``.
4. Root CA CRL: on the PCS, the CRL distribution point of the root certificate that came
   in the issuer chains (``root_crl_url`` overrides); on a PCCS (``pccs=True``),
   ``GET /sgx/certification/v4/rootcacrl`` (hex text of the DER).

Header values are percent-encoded PEM. Nothing is trusted here: the pipeline verifies the
chains to the pinned root, the signatures and the CRLs.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Mapping

from cryptography import x509

from cocoverify.collateral import Collateral
from cocoverify.collateral.http import (
    DEFAULT_TIMEOUT,
    RetryingTransport,
    Transport,
    UrllibTransport,
    check_url,
    unavailable,
)
from cocoverify.collateral.requests import CollateralRequest, IntelRequest, check_at
from cocoverify.collateral.source import SourceBase, parse_item
from cocoverify.errors import CollateralInvalid, ConfigurationError, Reason

__all__ = ["INTEL_PCS", "IntelPcs"]

INTEL_PCS = "https://api.trustedservices.intel.com"
_TCB_CHAIN = ("TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain")
_QE_CHAIN = ("SGX-Enclave-Identity-Issuer-Chain", "Enclave-Identity-Issuer-Chain")
_CRL_CHAIN = ("SGX-PCK-CRL-Issuer-Chain",)


class IntelPcs(SourceBase):
    """Fetches Intel collateral from the PCS (default), a PCCS or Azure THIM.

    ``base_url`` may include the ``/sgx/certification/v4`` suffix of a QCNL ``pccs_url``;
    it is removed. ``update``: "standard", "early" or None (parameter omitted).
    ``query``: extra query parameters sent with every request (e.g. a THIM client id);
    ``headers``: extra request headers (e.g. ``Ocp-Apim-Subscription-Key``).
    """

    def __init__(
        self,
        base_url: str = INTEL_PCS,
        *,
        pccs: bool = False,
        update: str | None = "standard",
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        root_crl_url: str | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        for suffix in ("/sgx/certification/v4", "/tdx/certification/v4"):
            base = base.removesuffix(suffix)
        check_url(base, what="base_url")
        if update not in ("standard", "early", None):
            raise ConfigurationError(
                f"update: 'standard', 'early' or None, not {update!r}",
                reason=Reason.INVALID_ARGUMENT,
            )
        if root_crl_url is not None:
            check_url(root_crl_url, what="root_crl_url")
        self.base_url = base
        self.pccs = pccs
        self.update = update
        self.transport: Transport = transport or RetryingTransport(UrllibTransport())
        self.timeout = timeout
        self.root_crl_url = root_crl_url
        self.query = dict(query or {})
        self.headers = dict(headers or {})

    def _url(self, path: str, params: Mapping[str, str]) -> str:
        q = {**params, **self.query}
        return self.base_url + path + ("?" + urllib.parse.urlencode(q) if q else "")

    def _get(self, url: str, what: str) -> tuple[bytes, Mapping[str, str]]:
        resp = self.transport.get(url, self.headers, self.timeout)
        if resp.status != 200:
            raise unavailable(f"{what}: HTTP {resp.status} from {url}", url=url, status=resp.status)
        return resp.body, resp.headers

    @staticmethod
    def _chain(headers: Mapping[str, str], names: tuple[str, ...], url: str) -> Collateral:
        value = next((headers[n.lower()] for n in names if n.lower() in headers), None)
        if value is None:
            raise unavailable(f"{url}: no {names[0]} header", url=url)
        pem = urllib.parse.unquote(value).encode()
        return parse_item(pem, kind="chain", source=f"{url} [{names[0]}]")

    def _signed(
        self, tee: str, path: str, params: dict[str, str], kind: str, chain: tuple[str, ...]
    ) -> Collateral:
        if self.update is not None:
            params["update"] = self.update
        url = self._url(f"/{tee}/certification/v4/{path}", params)
        body, headers = self._get(url, kind.replace("_", " "))
        return parse_item(body, kind=kind, source=url) + self._chain(headers, chain, url)

    def _root_crl_url(self, got: Collateral) -> str:
        if self.root_crl_url is not None:
            return self.root_crl_url
        if self.pccs:
            return self._url("/sgx/certification/v4/rootcacrl", {})
        # PCS: the root certificate's CRL distribution point
        # (Intel SGX PCK Certificate and CRL Profile)
        for cert in got.certificates:
            if cert.subject != cert.issuer:
                continue
            try:
                cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
            except x509.ExtensionNotFound:
                continue
            for point in cdp:
                for gn in point.full_name or ():
                    if isinstance(gn, x509.UniformResourceIdentifier):
                        try:
                            check_url(gn.value)
                        except ConfigurationError:
                            continue
                        return str(gn.value)
        raise CollateralInvalid(
            "no root certificate with an http(s) CRL distribution point in the issuer chains",
            reason=Reason.COLLATERAL_MALFORMED,
        )

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """TCB Info, QE Identity, PCK CRL, Root CA CRL and their issuer chains."""
        check_at(at)
        if not isinstance(request, IntelRequest):
            raise unavailable("Intel PCS: no AMD collateral")
        req = request
        got = self._signed(
            req.tee, "tcb", {"fmspc": req.fmspc.hex().upper()}, "tcb_info", _TCB_CHAIN
        )
        got = got + self._signed(req.tee, "qe/identity", {}, "qe_identity", _QE_CHAIN)
        url = self._url("/sgx/certification/v4/pckcrl", {"ca": req.ca, "encoding": "der"})
        body, headers = self._get(url, "PCK CRL")
        got = got + parse_item(body, kind="crl", source=url) + self._chain(headers, _CRL_CHAIN, url)
        root_url = self._root_crl_url(got)
        body, _ = self._get(root_url, "Root CA CRL")
        return got + parse_item(body, kind="crl", source=root_url)
