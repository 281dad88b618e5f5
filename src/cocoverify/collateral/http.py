"""A tiny HTTP transport for the online collateral sources (opt-in; docs/collateral-sources.md).

* :class:`Transport`: ``get(url, headers, timeout) -> Response``. An HTTP status is a
  :class:`Response` (any status); a transport failure (refused, reset, DNS, TLS, timeout,
  oversized body) is :class:`~cocoverify.errors.CollateralUnavailable` (``collateral_missing``).
* :class:`UrllibTransport`: stdlib ``urllib``; TLS verified, a timeout on every request,
  redirects only within the same scheme, host and port, a bounded body size.
* :class:`RetryingTransport`: retries 429 / 5xx and transport failures with exponential
  back-off, honours ``Retry-After`` up to a bound, optional spacing between requests
  (AMD KDS throttles each client: KDS specification). Clock and sleep are injectable for tests.

Nothing fetched here is trusted: the pipelines verify every item exactly like a file.
"""

from __future__ import annotations

import email.utils
import http.client
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from cocoverify.errors import CollateralUnavailable, ConfigurationError, Reason

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BODY",
    "Response",
    "RetryPolicy",
    "RetryingTransport",
    "Transport",
    "UrllibTransport",
    "check_url",
    "unavailable",
]

#: Seconds per request unless the source is configured otherwise.
DEFAULT_TIMEOUT = 10.0
#: Largest response body accepted (a PCK CRL is a few kB; the biggest TCB Info ~20 kB).
MAX_BODY = 8 * 1024 * 1024
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response. ``headers`` keys are made lower-case (HTTP names are
    case-insensitive)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None."""
        return self.headers.get(name.lower())


class Transport(Protocol):
    """Performs one GET. Returns any HTTP status; raises CollateralUnavailable otherwise."""

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response: ...


def unavailable(message: str, **details: Any) -> CollateralUnavailable:
    """The one error for anything that could not be fetched."""
    return CollateralUnavailable(message, reason=Reason.COLLATERAL_MISSING, **details)


def check_url(url: str, *, what: str = "URL") -> urllib.parse.SplitResult:
    """``url`` split; only absolute http(s) URLs with a host are accepted."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{what}: not an http(s) URL: {url!r}", reason=Reason.INVALID_ARGUMENT
        )
    return parts


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to the same scheme, host and port (no downgrade, no new host)."""

    max_redirections = 5

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old = urllib.parse.urlsplit(req.full_url)
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if _origin(old) != _origin(new):
            raise unavailable(
                f"{req.full_url}: redirect to another origin refused ({newurl})",
                url=req.full_url,
                permanent=True,
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class UrllibTransport:
    """The default transport: stdlib urllib, certificate and host-name verification on.

    ``ssl_context``: e.g. one trusting a PCCS's own CA (never an unverified context).
    ``proxies``: None uses the environment (``https_proxy``...); ``{}`` disables proxies.
    """

    ssl_context: ssl.SSLContext | None = None
    proxies: Mapping[str, str] | None = None
    max_body: int = MAX_BODY
    user_agent: str = "cocoverify-collateral/1"
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        context = self.ssl_context or ssl.create_default_context()
        if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
            raise ConfigurationError(
                "UrllibTransport: TLS verification must stay on", reason=Reason.INVALID_ARGUMENT
            )
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPSHandler(context=context),
            _SameOriginRedirects(),
        ]
        if self.proxies is not None:
            handlers.append(urllib.request.ProxyHandler(dict(self.proxies)))
        self._opener = urllib.request.build_opener(*handlers)

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
        check_url(url)
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, **headers}, method="GET"
        )
        try:
            return self._fetch(request, url, timeout)
        except CollateralUnavailable:
            raise
        except TimeoutError as exc:
            raise unavailable(f"{url}: timed out after {timeout} s", url=url) from exc
        except urllib.error.URLError as exc:
            raise unavailable(f"{url}: {exc.reason}", url=url) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise unavailable(f"{url}: {type(exc).__name__}: {exc}", url=url) from exc

    def _fetch(self, request: urllib.request.Request, url: str, timeout: float) -> Response:
        try:
            with self._opener.open(request, timeout=timeout) as resp:
                return Response(
                    resp.status, _lower(resp.headers), self._read(resp, url), resp.geturl()
                )
        except urllib.error.HTTPError as exc:  # a status: the caller decides
            error = exc
        body = b""  # read outside the handler, so failures reach get()'s handlers
        if error.fp is not None:
            try:
                body = self._read(error, url)
            finally:
                error.fp.close()
        return Response(error.code, _lower(error.headers), body, url)

    def _read(self, resp: Any, url: str) -> bytes:
        body: bytes = resp.read(self.max_body + 1)
        if len(body) > self.max_body:
            raise unavailable(
                f"{url}: response larger than {self.max_body} bytes", url=url, permanent=True
            )
        declared = resp.headers.get("Content-Length") if resp.headers is not None else None
        if declared is not None and declared.strip().isdigit() and int(declared) != len(body):
            raise unavailable(f"{url}: body cut short ({len(body)} of {declared} bytes)", url=url)
        return body


def _lower(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry. Delays grow ``backoff * 2**n`` up to ``max_backoff``; a ``Retry-After``
    longer than ``max_retry_after`` ends the retries at once (the last response is
    returned); ``max_total_wait`` bounds the sleeping of one request."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    max_total_wait: float = 60.0
    retry_statuses: frozenset[int] = _RETRY_STATUSES
    retry_transport_errors: bool = True

    def __post_init__(self) -> None:
        if self.attempts < 1 or min(self.backoff, self.max_backoff, self.max_retry_after) < 0:
            raise ConfigurationError(
                "RetryPolicy: attempts >= 1 and non-negative delays",
                reason=Reason.INVALID_ARGUMENT,
            )


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (epoch): delta-seconds or an HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass
class RetryingTransport:
    """Wraps a transport with retries and optional request spacing (thread-safe).

    ``min_interval``: seconds between the starts of two requests through this transport
    (e.g. 10 for AMD KDS); 0 disables. A request that would queue longer than
    ``policy.max_total_wait`` fails at once. A refused redirect or an oversized body is
    not retried. ``clock`` returns epoch seconds (used
    for spacing and HTTP-date ``Retry-After``); ``sleep`` waits.
    """

    inner: Transport
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    min_interval: float = 0.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _next_slot: float = field(default=0.0, init=False, repr=False)

    def _pace(self, url: str) -> None:
        if self.min_interval <= 0:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next_slot)
            if start - now > self.policy.max_total_wait:  # queue too long: fail fast
                raise unavailable(f"{url}: client-side rate limit, queue too long", url=url)
            self._next_slot = start + self.min_interval
        if start > now:
            self.sleep(start - now)

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._pace(url)
            try:
                resp = self.inner.get(url, headers, timeout)
            except CollateralUnavailable as exc:
                if (
                    not self.policy.retry_transport_errors
                    or exc.details.get("permanent")
                    or attempt >= self.policy.attempts
                ):
                    raise
                resp = None
            if resp is not None and (
                resp.status not in self.policy.retry_statuses or attempt >= self.policy.attempts
            ):
                return resp
            delay = min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1))
            if resp is not None:
                asked = retry_after_seconds(resp.header("Retry-After"), self.clock())
                if asked is not None:
                    if asked > self.policy.max_retry_after:
                        return resp  # the server asks for longer than we may wait
                    delay = max(delay, asked)
            if waited + delay > self.policy.max_total_wait:
                if resp is not None:
                    return resp
                raise unavailable(f"{url}: retries exhausted", url=url)
            waited += delay
            self.sleep(delay)
