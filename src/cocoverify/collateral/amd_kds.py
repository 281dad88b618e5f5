"""AMD Key Distribution Service client (opt-in; AMD VCEK Certificate and KDS Interface
Specification).

Requests, per ``amd(product=, hwid=, reported_tcb=, key_type=, at=)``:

* VCEK (DER): ``/vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=`` with decimal
  SPLs; Turin: ``fmcSPL`` first and ``hwid`` = the first 8 bytes of CHIP_ID (16 hex
  digits; KDS answers 404 to the full 64 bytes).
* ASK + ARK (PEM): ``/vcek/v1/{product}/cert_chain``; CRL (DER): ``/vcek/v1/{product}/crl``.
* ``key_type="vlek"``: only ``/vlek/v1/{product}/cert_chain`` (ASVK + ARK) and
  ``/vlek/v1/{product}/crl``; a VLEK comes with the evidence, never from KDS.

KDS throttles each client (429; roughly one VCEK per 10 s per IP): the default transport
retries honouring ``Retry-After``; put a :class:`~cocoverify.collateral.cache.CachingSource`
in front. Nothing fetched is trusted: the pipeline verifies the chain to the pinned ARK.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping

from cocoverify.collateral import Collateral
from cocoverify.collateral.http import (
    DEFAULT_TIMEOUT,
    RetryingTransport,
    Transport,
    UrllibTransport,
    check_url,
    unavailable,
)
from cocoverify.collateral.requests import AmdRequest, CollateralRequest, check_at
from cocoverify.collateral.source import SourceBase, parse_item

__all__ = ["AMD_KDS", "AmdKds"]

AMD_KDS = "https://kdsintf.amd.com"
_QUERY = (
    ("fmc_spl", "fmcSPL"),
    ("bl_spl", "blSPL"),
    ("tee_spl", "teeSPL"),
    ("snp_spl", "snpSPL"),
    ("ucode_spl", "ucodeSPL"),
)


class AmdKds(SourceBase):
    """Fetches VCEKs, certificate chains and CRLs from AMD KDS (or a KDS-shaped mirror).

    The chain and CRL of a product are the same for every chip: they are kept per product
    and key type for ``ca_max_age`` (0 disables) and while ``at`` is before the CRL's
    nextUpdate, so a new chip costs one KDS request. ``clock``: epoch seconds.
    """

    def __init__(
        self,
        base_url: str = AMD_KDS,
        *,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        ca_max_age: _dt.timedelta = _dt.timedelta(hours=24),
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = base_url.rstrip("/")
        check_url(base, what="base_url")
        self.base_url = base
        self.transport: Transport = transport or RetryingTransport(UrllibTransport())
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.ca_max_age = ca_max_age.total_seconds()
        self._clock = clock
        self._lock = threading.Lock()
        self._ca: dict[tuple[str, str], tuple[float, Collateral]] = {}

    def _get(self, path: str, what: str) -> tuple[bytes, str]:
        url = self.base_url + path
        resp = self.transport.get(url, self.headers, self.timeout)
        if resp.status != 200:
            raise unavailable(f"{what}: HTTP {resp.status} from {url}", url=url, status=resp.status)
        return resp.body, url

    def vcek_url(self, req: AmdRequest) -> str:
        """The KDS URL of the VCEK for ``req`` (KDS specification, "Get VCEK")."""
        spl = req.spl
        query = [(name, str(spl[k])) for k, name in _QUERY if k in spl]
        return f"{self.base_url}/vcek/v1/{req.product}/{req.hwid.hex()}?" + urllib.parse.urlencode(
            query
        )

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """VCEK (for ``vcek``), then the ASK/ASVK + ARK chain and the ARK's CRL."""
        check_at(at)
        if not isinstance(request, AmdRequest):
            raise unavailable("AMD KDS: no Intel collateral")
        req = request
        out = Collateral()
        if req.key_type == "vcek":
            path = self.vcek_url(req).removeprefix(self.base_url)
            body, url = self._get(path, "VCEK")
            out = out + parse_item(body, kind="certificate", source=url)
        return out + self._ca_part(req, at)

    def _ca_part(self, req: AmdRequest, at: _dt.datetime) -> Collateral:
        """Chain and CRL per product and key type, shared by every chip: kept while younger
        than ``ca_max_age`` and ``at`` is before the CRL's nextUpdate (KDS rate limits)."""
        key = (req.key_type, req.product)
        with self._lock:
            kept = self._ca.get(key)
        if kept is not None:
            fetched, ca = kept
            age = self._clock() - fetched
            next_update = ca.crls[0].next_update_utc
            if 0 <= age <= self.ca_max_age and next_update is not None and at < next_update:
                return ca
        prefix = f"/{req.key_type}/v1/{req.product}"
        body, url = self._get(prefix + "/cert_chain", "certificate chain")
        ca = parse_item(body, kind="chain", source=url)
        body, url = self._get(prefix + "/crl", "CRL")
        ca = ca + parse_item(body, kind="crl", source=url)
        with self._lock:
            self._ca[key] = (self._clock(), ca)
        return ca
