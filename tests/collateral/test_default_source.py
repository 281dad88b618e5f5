"""The default online source (collateral/online.py): configuration from arguments and the
environment, the cache location, the Intel PCS API key, ``stale_if_error`` in the cache, and
the offline folder (collateral/folder.py) read back by ``OfflineStore`` and ``load_collateral``."""

from __future__ import annotations

import datetime as _dt
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from cocoverify.collateral import Collateral, load_collateral
from cocoverify.collateral.cache import CachingSource
from cocoverify.collateral.folder import write_folder
from cocoverify.collateral.intel_pcs import IntelPcs
from cocoverify.collateral.online import OnlineConfig, cache_home, default_source
from cocoverify.collateral.requests import IntelRequest, intel_request
from cocoverify.collateral.source import OfflineStore
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError

from _shared import require_shared
from _shared.collateral import Counting, unavailable
from _shared.loopback import FakeClock, Loopback
from _shared.vendors import Reply, VendorServer, intel_case

AT = _dt.datetime(2025, 7, 4, 10, 16, 31, tzinfo=_dt.UTC)
_SHA = hashes.SHA256()


@pytest.fixture
def server() -> Iterator[VendorServer]:
    s = VendorServer()
    yield s
    s.close()


# --- configuration -------------------------------------------------------------------------


def test_cache_home_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_home({}) == tmp_path / "home" / ".cache" / "cocoverify"
    assert cache_home({"XDG_CACHE_HOME": "/var/xdg"}) == Path("/var/xdg/cocoverify")
    # a relative XDG_CACHE_HOME is invalid (XDG Base Directory specification): ignored
    assert cache_home({"XDG_CACHE_HOME": "rel"}) == tmp_path / "home" / ".cache" / "cocoverify"
    env = {"XDG_CACHE_HOME": "/var/xdg", "COCOVERIFY_CACHE_DIR": "/srv/cc"}
    assert cache_home(env) == Path("/srv/cc")


def test_environment_and_arguments() -> None:
    env = {
        "COCOVERIFY_PCCS_URL": "https://pccs.example:8081/sgx/certification/v4/",
        "COCOVERIFY_KDS_URL": "http://kds.example",
        "COCOVERIFY_CACHE_DIR": "/tmp/c",
        "COCOVERIFY_OFFLINE": "1",
        "COCOVERIFY_PCS_API_KEY": "k",
        "COCOVERIFY_UPDATE": "early",
        "COCOVERIFY_HTTP_TIMEOUT": "2.5",
        "COCOVERIFY_HTTP_RETRIES": "0",
    }
    c = OnlineConfig.from_env(env)
    assert (c.pccs_url, c.kds_url, c.cache_dir, c.offline) == (
        env["COCOVERIFY_PCCS_URL"],
        "http://kds.example",
        Path("/tmp/c"),
        True,
    )
    assert (c.api_key, c.update, c.timeout, c.retries) == ("k", "early", 2.5, 0)
    # an argument wins over the environment
    c = OnlineConfig.from_env(env, offline=False, update="standard", pccs_url="http://p")
    assert (c.offline, c.update, c.pccs_url) == (False, "standard", "http://p")
    assert OnlineConfig.from_env({}) == OnlineConfig(cache_dir=cache_home({}))


@pytest.mark.parametrize(
    "env",
    [
        {"COCOVERIFY_OFFLINE": "maybe"},
        {"COCOVERIFY_PCCS_URL": "ftp://x"},
        {"COCOVERIFY_KDS_URL": "kdsintf.amd.com"},
        {"COCOVERIFY_UPDATE": "late"},
        {"COCOVERIFY_HTTP_TIMEOUT": "soon"},
        {"COCOVERIFY_HTTP_TIMEOUT": "0"},
        {"COCOVERIFY_HTTP_RETRIES": "-1"},
    ],
)
def test_bad_configuration_is_a_configuration_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        default_source(env=env)


def test_one_cache_folder_per_configuration(tmp_path: Path) -> None:
    folders = {
        OnlineConfig(cache_dir=tmp_path).cache_folder("intel"),
        OnlineConfig(cache_dir=tmp_path, update="early").cache_folder("intel"),
        OnlineConfig(cache_dir=tmp_path, pccs_url="http://p:8081").cache_folder("intel"),
        OnlineConfig(cache_dir=tmp_path).cache_folder("amd"),
        OnlineConfig(cache_dir=tmp_path, kds_url="http://mirror").cache_folder("amd"),
    }
    assert len(folders) == 5
    assert all(f is not None and f.parent == tmp_path / "collateral" for f in folders)


# --- the PCS with an API key, the PCCS without --------------------------------------------


def _pcs_via(server: VendorServer, source: object) -> None:
    """Send the source's Intel requests to the loopback server (URL host replaced)."""
    inner = source.intel_source.inner  # type: ignore[attr-defined]
    assert isinstance(inner, IntelPcs)
    inner.transport = Loopback(server)  # type: ignore[arg-type]


def test_api_key_goes_to_the_pcs_only(server: VendorServer, tmp_path: Path) -> None:
    case = intel_case(require_shared("intel"), "tdx-v4-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    # the PCS: the root CRL from the root certificate's CRL distribution point
    server.route("/IntelSGXRootCA.der", Reply(200, (case.dir / "root_ca_crl.der").read_bytes()))
    req = intel_request(fmspc=bytes.fromhex(case.fmspc), ca=case.ca, tee=case.tee)
    pcs = default_source(env={}, cache_dir=tmp_path / "a", api_key="secret-key")
    _pcs_via(server, pcs)
    got = pcs.fetch(req, at=AT)
    assert len(got.crls) == 2 and len(got.tcb_infos) == 1
    keyed = {
        s.path for s in server.seen if s.headers.get("ocp-apim-subscription-key") == "secret-key"
    }
    assert "/tdx/certification/v4/tcb" in keyed
    server.seen.clear()
    pccs = default_source(
        env={"COCOVERIFY_PCS_API_KEY": "secret-key"}, cache_dir=tmp_path / "b", pccs_url=server.url
    )
    pccs.fetch(req, at=AT)
    assert server.seen and all("ocp-apim-subscription-key" not in s.headers for s in server.seen)


def test_errors_name_what_and_where(server: VendorServer, tmp_path: Path) -> None:
    src = default_source(env={}, cache_dir=tmp_path, pccs_url=server.url, retries=0)
    req = intel_request(fmspc=bytes.fromhex("00806f050000"), ca="platform", tee="tdx")
    with pytest.raises(CollateralUnavailable) as err:
        src.fetch(req, at=AT)
    text = str(err.value)
    assert "FMSPC 00806F050000" in text and server.url in text and "HTTP 404" in text
    assert err.value.details.get("status") == 404


# --- stale_if_error ----------------------------------------------------------------------------


def _req() -> IntelRequest:
    return intel_request(fmspc=bytes(6), ca="platform", tee="sgx")


def test_stale_copy_served_only_when_asked(tmp_path: Path) -> None:
    clock = FakeClock()
    answer = Collateral(sources=("x",))
    inner = Counting(lambda: answer)
    cache = CachingSource(inner, clock=clock, stale_if_error=True, directory=tmp_path)
    assert cache.fetch(_req(), at=AT) is answer
    clock.now += 2 * 86400  # older than max_age: asks again
    inner.fn = unavailable
    assert cache.fetch(_req(), at=AT) == answer
    assert inner.calls == 2 and cache.stats.stale == 1
    # a new process (empty memory) falls back to the disk copy
    fresh = CachingSource(inner, clock=clock, stale_if_error=True, directory=tmp_path)
    assert fresh.fetch(_req(), at=AT) == answer
    # without stale_if_error the failure is reported
    strict = CachingSource(inner, clock=clock, directory=tmp_path)
    with pytest.raises(CollateralUnavailable):
        strict.fetch(_req(), at=AT)


def test_nothing_cached_is_still_an_error() -> None:
    cache = CachingSource(Counting(unavailable), stale_if_error=True)
    with pytest.raises(CollateralUnavailable):
        cache.fetch(_req(), at=AT)


# --- the offline folder --------------------------------------------------------------------------


def test_folder_round_trip_through_offline_store(server: VendorServer, tmp_path: Path) -> None:
    case = intel_case(require_shared("intel"), "sgx-v3-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    req = intel_request(fmspc=bytes.fromhex(case.fmspc), ca=case.ca, tee=case.tee)
    got = default_source(env={}, cache_dir=tmp_path / "c", pccs_url=server.url).fetch(req, at=AT)
    write_folder(tmp_path / "out", req, got)
    back = OfflineStore(tmp_path / "out").fetch(req, at=AT)
    assert back.tcb_infos == got.tcb_infos and back.qe_identities == got.qe_identities
    assert {c.fingerprint(_SHA) for c in back.crls} == {c.fingerprint(_SHA) for c in got.crls}
    assert set(back.certificates) == set(got.certificates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_collateral([tmp_path / "out"])
    assert loaded.tcb_infos == got.tcb_infos


def test_folder_refuses_an_incomplete_answer(tmp_path: Path) -> None:
    with pytest.raises(CollateralInvalid):
        write_folder(tmp_path, _req(), Collateral())
    assert not any(tmp_path.iterdir())


def test_default_source_is_exported_and_loaded_on_first_use() -> None:
    code = (
        "import sys, cocoverify.collateral as c\n"
        "assert 'cocoverify.collateral.online' not in sys.modules\n"
        "assert 'urllib.request' not in sys.modules\n"
        "from cocoverify.collateral import default_source\n"
        "assert default_source(env={}).config.kds_url == 'https://kdsintf.amd.com'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
