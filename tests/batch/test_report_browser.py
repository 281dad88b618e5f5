"""The fleet report in a real browser: headless Chromium (Debian's ``chromium``, installed by
scripts/install-browser.sh) renders the page that ``cocoverify batch --manifest ... --report``
writes for a mixed fleet (every real Intel and AMD vector plus generated negatives). The
test reads the rendered DOM (counts, chart bars, table rows, hostile text shown as text) and
a screenshot (a PNG of the window's size with the charts' colours in it)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cocoverify.batch import batch_exit_code
from cocoverify.batch.report import NO_STATUS, NOT_SUPPORTED, FleetReport
from cocoverify.batch.report_html import CLASS_COLOURS, render, status_colour
from cocoverify.cli import main

from _shared.cli import json_lines

WINDOW = (1280, 1600)
EVIL = "<script>document.title='pwned'</script><img src=x onerror=document.title='img'>"


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        why = "chromium is not installed (scripts/install-browser.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}: CI must run the browser test")
        pytest.skip(why)
    return found


def _browse(chromium: str, page: Path, tmp: Path, *args: str) -> str:
    argv = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=True)
    return done.stdout


class _Dom(HTMLParser):
    """Elements (tag, attributes, text inside) of the rendered DOM, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "anc": list(self._open)}
        el["ids"] = [e["attrs"].get("id") for e in self._open]
        self.elements.append(el)
        if tag not in ("br", "hr", "meta", "img", "input", "link", "wbr"):  # HTML void elements
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        if any(e["tag"] == tag for e in self._open):
            while self._open.pop()["tag"] != tag:
                pass

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el["text"] += data

    def find(
        self, tag: str, inside: str | None = None, within: Any = None, **attrs: str
    ) -> list[dict[str, Any]]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag
            and (inside is None or inside in e["ids"])
            and (within is None or any(a is within for a in e["anc"]))
            and all(e["attrs"].get(k) == v for k, v in attrs.items())
        ]

    def cells(self, row: Any) -> list[str]:
        return [td["text"] for td in self.find("td", within=row)]


def _png_pixels(data: bytes) -> tuple[int, int, Counter[tuple[int, int, int]]]:
    """Width, height and colour counts of an 8-bit RGB/RGBA, non-interlaced PNG (RFC 2083)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        ihdr = body if kind == b"IHDR" else ihdr
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev = bytearray(stride)
    colours: Counter[tuple[int, int, int]] = Counter()
    for y in range(height):
        ftype, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        if y % 4 == 0:  # every 4th row is plenty to see which colours are there
            for x in range(0, stride, bpp * 2):
                colours[(line[x], line[x + 1], line[x + 2])] += 1
        prev = line
    return width, height, colours


def _bucket(rec: dict[str, Any]) -> str:
    if rec["tcb_status"]:
        return str(rec["tcb_status"])
    return NOT_SUPPORTED if rec["reason"] == "tcb_not_supported" else NO_STATUS


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def _near(colours: Counter[tuple[int, int, int]], want: tuple[int, int, int]) -> int:
    return sum(
        n for c, n in colours.items() if max(abs(a - b) for a, b in zip(c, want, strict=True)) <= 3
    )


def test_fleet_report_in_chromium(
    chromium: str, fleet: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, page = tmp_path / "out.jsonl", tmp_path / "fleet.html"
    argv = [
        "batch",
        "--manifest",
        str(fleet.manifest),
        *fleet.trust_args(),
        "-j",
        "2",
        "-q",
        "-o",
        str(out),
        "--report",
        str(page),
    ]
    rc = main(argv)
    capsys.readouterr()
    recs = json_lines(out.read_text())
    assert rc == batch_exit_code(recs) == 2  # a mixed fleet; the worst: malformed evidence
    dom = _Dom(_browse(chromium, page, tmp_path, "--dump-dom"))

    # the summary cards equal the JSON lines
    card = {
        e["attrs"]["data-key"]: int(dom.find("span", within=e, **{"class": "num"})[0]["text"])
        for e in dom.find("div")
        if "data-key" in e["attrs"]
    }
    accepted = sum(1 for r in recs if r["accepted"])
    assert card["verified"] == len(recs) == len(fleet.lines)
    assert (card["accepted"], card["rejected"]) == (accepted, len(recs) - accepted)

    # the charts: one bar per TCB status and per exit class, with the counts of the lines
    bars = {
        e["attrs"]["data-status"]: int(e["attrs"]["data-count"])
        for e in dom.find("rect", inside="status-svg")
    }
    assert bars == Counter(_bucket(r) for r in recs)
    assert bars[NOT_SUPPORTED] >= 5  # real TDX quotes that no TCB level matches (dcap-qvl agrees)
    verdicts = {
        int(e["attrs"]["data-class"]): int(e["attrs"]["data-count"])
        for e in dom.find("rect", inside="verdict-svg")
        if "data-class" in e["attrs"]
    }
    assert verdicts == Counter(r["exit_code"] for r in recs)

    # the platform table: one row per (TEE, identifier) of the lines
    keys = {(r["tee"], r["platform"]["kind"], r["platform"]["id"]) for r in recs if r["platform"]}
    rows = dom.find("tr", inside="platform-table", **{"class": "platform"})
    assert len(rows) == len(keys) >= 20
    # real vectors: three TDX quotes on FMSPC 00806F050000 are OutOfDate (dcap-qvl agrees,
    # ../shared MANIFEST.json), with INTEL-SA-00960 among the advisories
    intel = next(r for r in rows if "00806f050000" in r["text"] and "tdx" in r["text"])
    assert intel["attrs"]["data-status"] == "OutOfDate" and "INTEL-SA-00960" in intel["text"]
    assert "raise to the best TCB level" in intel["text"]
    # the worst status comes first (the generated Revoked platform)
    assert rows[0]["attrs"]["data-status"] == "Revoked"

    # advisories, most platforms first, with the counts of the lines
    reach: dict[str, set[tuple[str, str, str]]] = {}
    for r in recs:
        for adv in r["advisory_ids"]:
            reach.setdefault(adv, set()).add((r["tee"], r["platform"]["kind"], r["platform"]["id"]))
    adv_rows = dom.find("tr", inside="advisory-table")[1:]  # without the header row
    assert len(adv_rows) == len(reach)
    shown = [(e["attrs"]["data-advisory"], int(dom.cells(e)[1])) for e in adv_rows]
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)
    assert all(len(reach[a]) == n for a, n in shown)

    # rejections grouped by reason
    groups = {
        e["attrs"]["data-reason"]: int(e["attrs"]["data-count"])
        for e in dom.find("tr", inside="rejection-table")
        if "data-reason" in e["attrs"]
    }
    assert groups == Counter(r["reason"] or r.get("error") for r in recs if not r["accepted"])

    # a file name that is markup is shown as text and runs nothing
    assert not dom.find("script") and not dom.find("img")
    assert any(
        "<script>document.title='pwned'.bin" in e["text"]
        for e in dom.find("li", inside="rejection-table")
    )
    assert dom.find("title")[0]["text"] == "Fleet posture"

    # the screenshot: a PNG of the window's size, the header, the bars and pills in colour
    shot = tmp_path / "fleet.png"
    _browse(
        chromium,
        page,
        tmp_path,
        "--hide-scrollbars",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    )
    width, height, colours = _png_pixels(shot.read_bytes())
    assert (width, height) == WINDOW
    assert len(colours) > 50  # text, charts, tables: far from blank
    assert _near(colours, _rgb("#14213d")) > 1000  # the header band
    for status in ("UpToDate", "OutOfDate", "Revoked", NOT_SUPPORTED, NO_STATUS):
        assert _near(colours, _rgb(status_colour(status))) > 20, status
    assert _near(colours, _rgb(CLASS_COLOURS[5])) > 20  # the policy part of the verdict bar


def test_claims_with_markup_render_as_text(chromium: str, tmp_path: Path) -> None:
    rec = {
        "path": EVIL,
        "accepted": False,
        "exit_code": 5,
        "tee": EVIL,
        "reason": EVIL,
        "tcb_status": EVIL,
        "advisory_ids": [EVIL],
        "message": EVIL,
        "claims": {"product": EVIL},
        "platform": {
            "kind": EVIL,
            "id": EVIL,
            "label": EVIL,
            "tcb_date": EVIL,
            "next_update": EVIL,
            "update": {"tcb_date": EVIL, "below": [EVIL]},
        },
    }
    page = tmp_path / "evil.html"
    page.write_text(render(FleetReport().add_all([rec]), title=EVIL), encoding="utf-8")
    dom = _Dom(_browse(chromium, page, tmp_path, "--dump-dom"))
    assert not dom.find("script") and not dom.find("img")
    assert dom.find("title")[0]["text"] == EVIL  # not 'pwned' nor 'img': nothing ran
    row = dom.find("tr", inside="platform-table", **{"class": "platform"})[0]
    assert row["text"].count(EVIL) >= 4  # id, kind, label, dates, hints: all as text
    assert EVIL in dom.find("tr", inside="advisory-table")[1]["text"]
    assert EVIL in dom.find("tr", inside="rejection-table")[1]["text"]
