"""``cocoverify fetch``: the collateral this evidence needs, into an offline folder that
``cocoverify verify EVIDENCE --collateral DIR`` accepts as it is (docs/collateral-sources.md).

Also the options of the online source, shared with ``verify --online``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import cocoverify.api as _api
from cocoverify._core.io import EVIDENCE_LIMIT, read_capped
from cocoverify._core.text import decode_text
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.collateral.folder import write_folder
from cocoverify.collateral.online import DefaultSource, default_source
from cocoverify.errors import CocoverifyError
from cocoverify.registry import collateral_requests, detect

__all__ = ["add_source_arguments", "register", "source_from_args"]


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """Where collateral comes from (each overrides its environment variable)."""
    g = p.add_argument_group(
        "online collateral",
        "Intel PCS/PCCS and AMD KDS behind one cache ($COCOVERIFY_CACHE_DIR, else "
        "$XDG_CACHE_HOME/cocoverify); COCOVERIFY_OFFLINE=1 uses cached copies only",
    )
    g.add_argument(
        "--pccs-url",
        metavar="URL",
        help="a PCCS (or Azure THIM) instead of the Intel PCS [COCOVERIFY_PCCS_URL]",
    )
    g.add_argument("--kds-url", metavar="URL", help="an AMD KDS mirror [COCOVERIFY_KDS_URL]")
    g.add_argument(
        "--update",
        choices=("standard", "early"),
        help="Intel TCB recovery collateral: standard (default) or early [COCOVERIFY_UPDATE]",
    )
    g.add_argument("--cache-dir", metavar="DIR", help="the cache [COCOVERIFY_CACHE_DIR]")
    g.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="never touch the network: cached copies only [COCOVERIFY_OFFLINE=1]",
    )
    g.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="per HTTP request (default 10) [COCOVERIFY_HTTP_TIMEOUT]",
    )
    g.add_argument(
        "--retries",
        type=int,
        metavar="N",
        help="retries of 429/5xx/timeouts after the first attempt (default 3) "
        "[COCOVERIFY_HTTP_RETRIES]",
    )


def source_from_args(args: argparse.Namespace) -> DefaultSource:
    """The cached online source from the options and the environment."""
    return default_source(
        pccs_url=args.pccs_url,
        kds_url=args.kds_url,
        cache_dir=args.cache_dir,
        offline=args.offline,
        update=args.update,
        timeout=args.timeout,
        retries=args.retries,
    )


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "fetch",
        help="fetch the collateral evidence needs into an offline folder",
        description="Fetch exactly the collateral this evidence needs (Intel: TCB Info, QE "
        "Identity, PCK and Root CA CRLs, issuer chains; AMD: VCEK, ASK/ASVK + ARK, CRL) into "
        "DIR, for `cocoverify verify EVIDENCE --collateral DIR`.",
    )
    p.add_argument("evidence", nargs="+", metavar="EVIDENCE", help="evidence files")
    p.add_argument(
        "-o", "--output", default="collateral", metavar="DIR", help="default: ./collateral"
    )
    p.add_argument(
        "--at",
        metavar="ISO8601",
        help="the time the collateral must be current at (cache freshness; default: now)",
    )
    p.add_argument(
        "--product",
        choices=("Milan", "Genoa", "Turin"),
        help="AMD product of a v2 SNP report (v3+ reports name it in CPUID)",
    )
    p.add_argument(
        "--collateral",
        action="append",
        default=[],
        metavar="PATH",
        help="collateral at hand (a VCEK naming a v2 report's product; a PCK chain for "
        "quotes that carry none)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_source_arguments(p)
    p.set_defaults(func=run)


def _one(
    path: str,
    source: DefaultSource,
    args: argparse.Namespace,
    at: Any,
    have: Collateral,
) -> dict[str, Any]:
    data = decode_text(read_capped(path, EVIDENCE_LIMIT, kind="evidence"))  # docs/security.md
    spec = detect(data)
    record: dict[str, Any] = {"evidence": path, "tee": spec.name, "requests": []}
    requests = collateral_requests(data, collateral=have, product=args.product)
    if not requests:
        record["note"] = "no collateral service: " + "; ".join(spec.collateral)
    for req in requests:
        got, origin = source.fetch_traced(req, at=at)
        files = write_folder(args.output, req, got)
        record["requests"].append(
            {
                "what": req.describe(),
                "from": origin,
                "files": [os.fspath(f) for f in files],
            }
        )
    return record


def run(args: argparse.Namespace) -> int:
    """Fetch for each evidence file; exit 0 when all were fetched, else the first error's."""
    source = source_from_args(args)
    at = _api.as_time(args.at)
    have = load_collateral(args.collateral)
    rc = 0
    for path in args.evidence:
        try:
            record = _one(path, source, args, at, have)
        except OSError as exc:
            print(f"cocoverify fetch: {path}: {exc.strerror}", file=sys.stderr)
            rc = rc or 1
            continue
        except CocoverifyError as exc:
            print(f"cocoverify fetch: {path}: {exc}", file=sys.stderr)
            if args.format == "json":
                failed = {"evidence": path, "error": exc.reason.value, "message": str(exc)}
                print(json.dumps(failed))
            rc = rc or exc.exit_code
            continue
        if args.format == "json":
            print(json.dumps(record))
            continue
        if "note" in record:
            print(f"{path}: {record['tee']}: nothing to fetch ({record['note']})")
        for item in record["requests"]:
            print(f"{path}: {item['what']}, from {item['from']}:")
            for f in item["files"]:
                print(f"  {f}")
    if rc == 0 and args.format == "text":
        print(f"verify with: cocoverify verify EVIDENCE --collateral {args.output}")
    return rc
