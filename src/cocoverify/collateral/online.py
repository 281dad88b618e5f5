"""The default online source: Intel PCS (or a PCCS) and AMD KDS behind one persistent cache,
configured by arguments and environment; shared by ``cocoverify fetch``, ``cocoverify verify
--online`` and library callers (``cocoverify.collateral.default_source()``).

Environment (an argument given explicitly wins):

* ``COCOVERIFY_PCCS_URL``: a PCCS (or Azure THIM) instead of the Intel PCS;
* ``COCOVERIFY_KDS_URL``: a KDS mirror instead of ``https://kdsintf.amd.com``;
* ``COCOVERIFY_CACHE_DIR``: the cache (default ``$XDG_CACHE_HOME/cocoverify``, else
  ``~/.cache/cocoverify``);
* ``COCOVERIFY_OFFLINE=1``: never touch the network; cached copies only;
* ``COCOVERIFY_PCS_API_KEY``: sent to the Intel PCS (never to a PCCS) as
  ``Ocp-Apim-Subscription-Key``;
* ``COCOVERIFY_UPDATE``: ``standard`` (default) or ``early`` TCB recovery collateral;
* ``COCOVERIFY_HTTP_TIMEOUT`` (seconds per request, default 10), ``COCOVERIFY_HTTP_RETRIES``
  (retries after the first attempt, default 3).

Every answer, fresh or cached, is verified by the pipeline like a file (docs/collateral-sources.md).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cocoverify.collateral import Collateral
from cocoverify.collateral.amd_kds import AMD_KDS, AmdKds
from cocoverify.collateral.cache import CachingSource
from cocoverify.collateral.http import (
    DEFAULT_TIMEOUT,
    RetryingTransport,
    RetryPolicy,
    UrllibTransport,
    check_url,
    unavailable,
)
from cocoverify.collateral.intel_pcs import INTEL_PCS, IntelPcs
from cocoverify.collateral.requests import CollateralRequest, IntelRequest, check_at
from cocoverify.collateral.source import CollateralSource, SourceBase
from cocoverify.errors import CollateralUnavailable, ConfigurationError, Reason

__all__ = ["DefaultSource", "OnlineConfig", "cache_home", "default_source"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


def cache_home(env: Mapping[str, str] | None = None) -> Path:
    """``COCOVERIFY_CACHE_DIR``, else ``$XDG_CACHE_HOME/cocoverify`` (an absolute
    XDG_CACHE_HOME only: XDG Base Directory specification), else ``~/.cache/cocoverify``."""
    env = os.environ if env is None else env
    explicit = env.get("COCOVERIFY_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "cocoverify"
    return Path.home() / ".cache" / "cocoverify"


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(f"{name}={value!r}: 1 or 0 expected")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise _bad(f"{name}={text!r}: a number expected") from None


@dataclass(frozen=True, slots=True)
class OnlineConfig:
    """Where and how collateral is fetched (:meth:`from_env` reads the environment)."""

    pccs_url: str | None = None
    kds_url: str = AMD_KDS
    cache_dir: Path | None = None
    offline: bool = False
    update: str = "standard"
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 3

    def __post_init__(self) -> None:
        if self.pccs_url is not None:
            check_url(self.pccs_url, what="PCCS URL")
        check_url(self.kds_url, what="KDS URL")
        if self.update not in ("standard", "early"):
            raise _bad(f"update: 'standard' or 'early', not {self.update!r}")
        if not self.timeout > 0 or self.retries < 0:
            raise _bad("timeout > 0 and retries >= 0 expected")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        pccs_url: str | None = None,
        kds_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool | None = None,
        update: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> OnlineConfig:
        """The environment's configuration, each given argument overriding it."""
        env = os.environ if env is None else env
        retry_env = _number(env, "COCOVERIFY_HTTP_RETRIES", 3)
        return cls(
            pccs_url=pccs_url or env.get("COCOVERIFY_PCCS_URL") or None,
            kds_url=kds_url or env.get("COCOVERIFY_KDS_URL") or AMD_KDS,
            cache_dir=Path(cache_dir) if cache_dir is not None else cache_home(env),
            offline=offline if offline is not None else _flag(env, "COCOVERIFY_OFFLINE"),
            update=update or env.get("COCOVERIFY_UPDATE") or "standard",
            api_key=api_key or env.get("COCOVERIFY_PCS_API_KEY") or None,
            timeout=timeout
            if timeout is not None
            else _number(env, "COCOVERIFY_HTTP_TIMEOUT", DEFAULT_TIMEOUT),
            retries=retries if retries is not None else int(retry_env),
        )

    def cache_folder(self, vendor: str) -> Path | None:
        """The cache folder of one vendor's source: one per configuration (a PCCS and the
        PCS, or standard and early collateral, never share one)."""
        if self.cache_dir is None:
            return None
        if vendor == "intel":
            url = self.pccs_url or INTEL_PCS
            ident = f"{url}|{'pccs' if self.pccs_url else 'pcs'}|{self.update}"
        else:
            url, ident = self.kds_url, self.kds_url
        parts = urllib.parse.urlsplit(url)
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc) or "local"
        digest = hashlib.sha256(ident.encode()).hexdigest()[:12]
        return self.cache_dir / "collateral" / f"{vendor}-{host}-{digest}"


class _Offline(SourceBase):
    """Never fetches: every request is CollateralUnavailable naming the cache folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """Always unavailable (the cache in front serves what it holds)."""
        check_at(at)
        raise unavailable(
            f"offline (COCOVERIFY_OFFLINE=1): no cached copy in {self.folder}", offline=True
        )


class DefaultSource(SourceBase):
    """Intel requests to the PCS/PCCS, AMD requests to KDS, each behind its own persistent
    :class:`~cocoverify.collateral.cache.CachingSource` (``stale_if_error``: when a server
    fails, the last cached copy is used). Errors name the request and the server."""

    def __init__(self, config: OnlineConfig) -> None:
        self.config = config
        policy = RetryPolicy(attempts=config.retries + 1)
        transport = RetryingTransport(UrllibTransport(), policy)
        intel: CollateralSource
        amd: CollateralSource
        if config.offline:
            intel = _Offline(config.cache_folder("intel"))
            amd = _Offline(config.cache_folder("amd"))
        else:
            headers = {}
            if config.api_key and not config.pccs_url:  # the key is the PCS's, never a PCCS's
                headers["Ocp-Apim-Subscription-Key"] = config.api_key
            intel = IntelPcs(
                config.pccs_url or INTEL_PCS,
                pccs=config.pccs_url is not None,
                update=config.update,
                transport=transport,
                timeout=config.timeout,
                headers=headers,
            )
            amd = AmdKds(config.kds_url, transport=transport, timeout=config.timeout)
        self.intel_source = CachingSource(
            intel, directory=config.cache_folder("intel"), stale_if_error=True
        )
        self.amd_source = CachingSource(
            amd, directory=config.cache_folder("amd"), stale_if_error=True
        )

    def where(self, request: CollateralRequest) -> str:
        """Where ``request`` goes: the server, or the cache folder when offline."""
        intel = isinstance(request, IntelRequest)
        if self.config.offline:
            return str(self.config.cache_folder("intel" if intel else "amd"))
        if intel:
            return self.config.pccs_url or INTEL_PCS
        return self.config.kds_url

    def fetch_traced(
        self, request: CollateralRequest, *, at: _dt.datetime
    ) -> tuple[Collateral, str]:
        """:meth:`fetch`, and where the answer came from, for people: the server, the cache,
        or a stale cached copy because the server failed (read from the cache's counters:
        exact for one caller at a time)."""
        src = self.intel_source if isinstance(request, IntelRequest) else self.amd_source
        before = src.stats
        got = self.fetch(request, at=at)
        after = src.stats
        folder = src.directory or "memory"
        if after.stale > before.stale:
            origin = f"the cache {folder} (stale copy: {self.where(request)} failed)"
        elif after.fetches > before.fetches:
            origin = self.where(request)
        else:
            origin = f"the cache {folder}"
        return got, origin

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """The cached or fetched answer; CollateralUnavailable names what and where."""
        at = check_at(at)
        src = self.intel_source if isinstance(request, IntelRequest) else self.amd_source
        try:
            return src.fetch(request, at=at)
        except CollateralUnavailable as exc:
            if self.config.offline:
                message = (
                    f"{request.describe()}: COCOVERIFY_OFFLINE=1 and no cached copy in "
                    f"{self.where(request)}; fetch it where the network is reachable "
                    "(cocoverify fetch) or supply it (--collateral)"
                )
            else:
                message = (
                    f"{request.describe()}: not available from {self.where(request)} and "
                    f"not cached ({exc.args[0]})"
                )
            raise CollateralUnavailable(
                message,
                reason=exc.reason,
                **exc.details,
            ) from None


def default_source(
    *,
    pccs_url: str | None = None,
    kds_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
    update: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    env: Mapping[str, str] | None = None,
) -> DefaultSource:
    """The cached online source the CLI uses, configured from the environment (module
    docstring) with these arguments overriding it::

        import cocoverify
        from cocoverify.collateral import default_source
        cocoverify.verify(quote, collateral_source=default_source())
    """
    return DefaultSource(
        OnlineConfig.from_env(
            env,
            pccs_url=pccs_url,
            kds_url=kds_url,
            cache_dir=cache_dir,
            offline=offline,
            update=update,
            api_key=api_key,
            timeout=timeout,
            retries=retries,
        )
    )
