"""The fleet report's contents (batch/report.py, batch/report_html.py) from records: counts,
advisories ranked by platforms, platform rows and their hints, rejection groups, escaping
and self-containment. The browser test (test_report_browser.py) renders the real page."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from cocoverify.batch.report import NO_STATUS, FleetReport
from cocoverify.batch.report_html import render

EVIL = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"


def _rec(path: str, *, accepted: bool = False, code: int = 5, **kw: Any) -> dict[str, Any]:
    platform = kw.pop("platform", None)
    return {
        "path": path,
        "accepted": accepted,
        "exit_code": 0 if accepted else code,
        "tee": kw.pop("tee", "sgx"),
        "reason": None if accepted else kw.pop("reason", "x"),
        "tcb_status": kw.pop("status", None),
        "advisory_ids": kw.pop("advisories", []),
        "platform": platform,
        "verified_at": "2025-06-01T00:00:00Z",
        **kw,
    }


def _plat(ident: str, **kw: Any) -> dict[str, Any]:
    return {
        "kind": "FMSPC",
        "id": ident,
        "label": "PCK CA processor",
        "tcb_date": None,
        "next_update": None,
        "update": None,
        **kw,
    }


def _fleet() -> FleetReport:
    return FleetReport().add_all(
        [
            _rec("a", accepted=True, status="UpToDate", platform=_plat("aa")),
            _rec(
                "b",
                status="OutOfDate",
                advisories=["INTEL-SA-1", "INTEL-SA-2"],
                reason="tcb_status_rejected",
                platform=_plat(
                    "bb",
                    tcb_date="2023-08-09T00:00:00Z",
                    update={
                        "tcb_date": "2024-03-13T00:00:00Z",
                        "status": "UpToDate",
                        "below": ["SGX component 0: 6 -> 7", "TDX module: OutOfDate"],
                    },
                ),
            ),
            _rec(
                "b2",
                status="OutOfDate",
                advisories=["INTEL-SA-1"],
                reason="tcb_status_rejected",
                platform=_plat(
                    "bb",
                    tcb_date="2022-01-01T00:00:00Z",
                    update={
                        "tcb_date": "2024-03-13T00:00:00Z",
                        "status": "UpToDate",
                        "below": ["SGX component 0: 5 -> 7"],
                    },
                ),
            ),
            _rec(
                "c",
                status="SWHardeningNeeded",
                advisories=["INTEL-SA-1"],
                reason="tcb_status_rejected",
                platform=_plat("cc", next_update="2025-06-19T10:00:00Z"),
            ),
            _rec("d", code=3, reason="signature_invalid", message="bad signature"),
            _rec("e", code=3, reason="signature_invalid"),
            _rec("f", code=1, reason=None, error="OSError"),
            {"path": "g", "skipped": "not evidence"},
            _rec(
                "h",
                tee="snp",
                accepted=True,
                platform={
                    "kind": "chip ID",
                    "id": "01",
                    "label": "Genoa",
                    "tcb": {"bootloader": 10, "snp": 21},
                },
            ),
            _rec(
                "i",
                tee="snp",
                accepted=True,
                platform={
                    "kind": "chip ID",
                    "id": "02",
                    "label": "Genoa",
                    "tcb": {"bootloader": 10, "snp": 23},
                },
            ),
        ]
    )


def test_counts_advisories_platforms_and_rejections() -> None:
    rep = _fleet()
    assert (rep.verified, rep.accepted, rep.skipped) == (9, 3, 1)
    assert dict(rep.classes) == {0: 3, 5: 3, 3: 2, 1: 1}
    assert rep.status_counts() == [
        ("OutOfDate", 2),
        ("SWHardeningNeeded", 1),
        ("UpToDate", 1),
        (NO_STATUS, 5),
    ]
    # INTEL-SA-1 reaches two platforms (bb twice, cc): ranked first
    assert rep.advisories() == [
        ("INTEL-SA-1", 2, 3, ["FMSPC bb", "FMSPC cc"]),
        ("INTEL-SA-2", 1, 1, ["FMSPC bb"]),
    ]
    rows = rep.platform_rows()
    assert [(r.ident, r.worst, r.files) for r in rows] == [
        ("bb", "OutOfDate", 2),
        ("cc", "SWHardeningNeeded", 1),
        ("aa", "UpToDate", 1),
        ("01", NO_STATUS, 1),
        ("02", NO_STATUS, 1),
    ]
    bb = rows[0]
    assert bb.tcb_date == "2022-01-01T00:00:00Z"  # the oldest
    hints = bb.what_to_update()
    assert hints[:3] == [
        "raise to the best TCB level (UpToDate, 2024-03-13):",
        "SGX component 0: 5..6 -> 7",
        "TDX module: OutOfDate",
    ]
    assert "advisories: INTEL-SA-1, INTEL-SA-2" in hints
    assert any("firmware" in h for h in hints)
    assert rows[2].what_to_update() == []  # UpToDate: nothing
    # SNP: compared with the newest reported TCB of the same product in the fleet
    assert rows[3].what_to_update() == [
        "below the newest reported TCB of this product in the fleet: snp 21 -> 23",
        "reported TCB: bootloader 10, snp 21",
    ]
    assert rows[4].what_to_update() == [
        "at the newest reported TCB of this product in the fleet",
        "reported TCB: bootloader 10, snp 23",
    ]
    groups = [(g.reason, g.exit_class, g.count) for g in rep.rejection_groups()]
    assert groups == [("tcb_status_rejected", 5, 3), ("signature_invalid", 3, 2), ("OSError", 1, 1)]


def test_records_of_odd_shapes_fail_closed() -> None:
    rep = FleetReport().add_all(
        [
            {"path": "x", "accepted": True, "exit_code": 7},  # out of range: an error
            {"path": "y", "accepted": False, "exit_code": 0},  # says 0 but not accepted
            {"path": "z", "accepted": True, "exit_code": 0, "platform": "not a mapping"},
        ]
    )
    assert rep.accepted == 1 and dict(rep.classes) == {1: 2, 0: 1}
    assert rep.platforms == {}


def test_page_is_self_contained_and_escapes_every_record_string() -> None:
    rep = _fleet().add_all(
        [
            _rec(
                EVIL,
                status=EVIL,
                advisories=[EVIL],
                reason=EVIL,
                message=EVIL,
                tee=EVIL,
                platform=_plat(
                    EVIL,
                    label=EVIL,
                    tcb_date=EVIL,
                    next_update=EVIL,
                    update={"tcb_date": EVIL, "status": EVIL, "below": [EVIL]},
                ),
            ),
        ]
    )
    page = render(rep, title=EVIL, generated=_dt.datetime(2026, 1, 1, tzinfo=_dt.UTC))
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "Generated 2026-01-01T00:00:00Z" in page
    # nothing loaded from anywhere: no URL, no src/href, no external CSS, no script at all
    plain = render(_fleet())
    assert not re.search(r"https?:|\bsrc=|\bhref=|url\(|@import|<script", plain)
    assert "Content-Security-Policy" in plain and "default-src 'none'" in plain


def test_empty_fleet_renders() -> None:
    page = render(FleetReport())
    assert 'id="platform-table-empty"' in page and 'id="rejection-table-empty"' in page
