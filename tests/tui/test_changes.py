"""The changes going out on screen against a real hub, with manifests from two real git
repositories: the list and its filter, the people, a trace in the log leading to its commit,
the call-in reaching its author, the marks, and a visitor kept read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tests.conftest import Minter
from tests.tui.helpers import notifications, region_text, screen_text, until
from tests.tui.test_logs import feed
from tests.tui.test_seat import count_bells, said, toasted
from tests.tui.test_train import joined, ok, synced
from tests.unit.git_fixture import (
    History,
    Repo,
    checkout_extension,
    standard_history,
)
from warroom.hubproc import HubProcess
from warroom.manifest import publish_commands, read_manifest
from warroom.tui.app import WarroomApp
from warroom.tui.screens.changes import ChangesScreen
from warroom.tui.screens.form import FormScreen
from warroom.tui.screens.trace import TraceScreen
from warroom.tui.widgets.log_view import LogView

WMF = "/srv/mediawiki/php-1.44.0-wmf.5"
TRACE = [
    ("PHP Fatal error:  Uncaught TypeError: total() must be of type int in "
     f"{WMF}/includes/Foo.php:3", 1),
    ("Stack trace:", 1),
    (f"#0 {WMF}/includes/Cart.php(40): total()", 1),
    ("#1 {main}", 1),
]  # fmt: skip


@pytest.fixture
def core(tmp_path: Path) -> History:
    return standard_history(tmp_path / "mediawiki")


@pytest.fixture
def extension(tmp_path: Path) -> Repo:
    return checkout_extension(tmp_path / "checkout-ext")


async def publish(app: WarroomApp, path: Path, from_rev: str, to_rev: str, name: str) -> None:
    manifest = read_manifest(path, from_rev, to_rev, name)
    for op, args in publish_commands(manifest, f"b-{name[-8:]}"):
        await ok(app, op, **args)


def changes(app: WarroomApp) -> ChangesScreen:
    screen = app.screen
    assert isinstance(screen, ChangesScreen), screen
    return screen


def page_text(app: WarroomApp) -> str:
    """The page beside the list, unwrapped (a long revert command wraps on screen)."""
    return str(app.screen.query_one("#changes-page", Static).content)


def listed(app: WarroomApp) -> list[str]:
    listing = app.screen.query_one("#changes-list", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


async def test_a_trace_in_the_log_leads_to_its_commit_and_its_author_is_called_in(
    hub_process: HubProcess, mint_token: Minter, core: History, extension: Repo
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("raj"), "Asia/Kolkata") as (raj, raj_pilot),
        joined(hub_process, mint_token("vic", "visitor")) as (vic, vic_pilot),
    ):
        raj_bells = count_bells(raj)
        await ana_pilot_g_before_publishing(ana, pilot)
        await publish(ana, core.repo.path, "v1", "v2", "mediawiki")
        await publish(ana, extension.path, "wmf.4", "wmf.5", "mediawiki/extensions/Checkout")
        await until(pilot, lambda: synced(ana, raj, vic), "everyone to have the manifests")
        await until(vic_pilot, lambda: "8 commits going out · g" in screen_text(vic), "the bar")

        # g opens the list: both repositories, every commit, filterable.
        await press(pilot, "g")
        rows = listed(ana)
        assert rows[0].startswith("mediawiki  v1..v2  7 commits")
        assert any("Checkout: count again" in r for r in rows)
        assert any("Fix cart totals" in r and "Raj Patel" in r for r in rows)
        await press(pilot, "slash", *"author:cat")
        await pilot.pause(0.3)  # the filter applies once typing pauses
        rows = listed(ana)
        assert [r for r in rows if "Cat Ng" in r] and not [r for r in rows if "Raj Patel" in r]
        await press(pilot, "ctrl+u", *"path:cart.js", "enter")
        assert [r for r in listed(ana) if "Return the real total" in r]
        assert not [r for r in listed(ana) if "Rename Old to New" in r]
        page = "\n".join(region_text(ana, "#changes-side"))
        assert "Return the real total" in page and "src/cart.js" in page and "+1" in page
        assert "revert --no-edit" in page

        # The people whose changes go out, and the stages reached (none: no train yet).
        await press(pilot, "2")
        people = listed(ana)
        assert any("Raj Patel" in r and "2 commits" in r for r in people)
        assert any("raj" in r and "in the room as raj" in r for r in people)
        await press(pilot, "escape")
        assert ana.screen is ana.room_screen

        # The trace arrives in the log; enter in the logs opens its suspects.
        await feed(hub_process.room_url("room1"), mint_token("feeder"), "group1", TRACE)
        await until(pilot, lambda: "Stack trace:" in screen_text(ana), "the trace in the log")
        ana.room_screen.query_one(LogView).focus()
        await press(pilot, "enter")
        await until(pilot, lambda: isinstance(ana.screen, ChangesScreen), "the changes screen")
        await until(pilot, lambda: bool(changes(ana).suspects), "the suspects")
        top = changes(ana).suspects[0]
        assert top.commit.sha == core.shas["fix"], top
        assert "line 3" in top.evidence
        rows = listed(ana)
        assert rows[0].startswith("Authors: Raj Patel")
        assert "Fix cart totals" in rows[1]
        page = page_text(ana)
        assert "Suspect, score" in page and "changed includes/Foo.php line 3 (blame)" in page
        assert f"revert --no-edit {core.shas['fix']}" in page

        # i calls raj in: everyone sees it, raj is told at once, with the bell.
        await press(pilot, "i")
        assert isinstance(ana.screen, FormScreen)
        await press(pilot, "enter")
        await until(raj_pilot, lambda: toasted(raj, "You are called in"), "raj's call")
        assert raj_bells == [1]
        await until(vic_pilot, lambda: said(vic, "ana called in Raj Patel for"), "vic's timeline")
        await until(pilot, lambda: "☎ ana called in Raj Patel" in screen_text(ana), "the page")

        # u marks it not safe, which needs a reason; the mark shows in every list.
        await press(pilot, "u")
        await press(pilot, "enter")
        assert isinstance(ana.screen, FormScreen) and "Fill in" in screen_text(ana)
        await press(pilot, *"needs the schema change", "enter")
        await until(pilot, lambda: any("⚠ Raj Patel" in r for r in listed(ana)), "the mark")
        assert "⚠ not safe to revert — ana: needs the schema change" in page_text(ana)
        await press(pilot, "1")
        assert any("⚠ Raj Patel" in r and "Fix cart totals" in r for r in listed(ana))

        # A visitor can look, not call in or mark.
        await press(vic_pilot, "g", "i")
        assert isinstance(vic.screen, ChangesScreen)
        await until(vic_pilot, lambda: toasted(vic, "Visitors are read-only"), "the refusal")
        await press(vic_pilot, "s")
        assert not isinstance(vic.screen, FormScreen)


async def ana_pilot_g_before_publishing(ana: WarroomApp, pilot: Pilot[None]) -> None:
    """Before anything is published, g says how to publish instead of opening an empty list."""
    await press(pilot, "g")
    assert ana.screen is ana.room_screen
    assert any("warroom manifest" in n.message for n in notifications(ana, "warning"))


async def test_a_pasted_trace_with_no_suspects_says_so_and_lists_its_frames(
    hub_process: HubProcess, mint_token: Minter, core: History
) -> None:
    async with joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot):
        await publish(ana, core.repo.path, "v1", "v2", "mediawiki")
        await until(pilot, lambda: ana.room_screen.state.changes is not None, "the manifest")
        await press(pilot, "g", "t")
        assert isinstance(ana.screen, TraceScreen)
        await press(pilot, "ctrl+s")  # empty: it asks for a trace
        assert isinstance(ana.screen, TraceScreen) and "Paste a trace first" in screen_text(ana)
        trace = 'Traceback (most recent call last):\n  File "/app/billing/tax.py", line 9, in f'
        ana.screen.query_one("#trace-text").insert(trace)  # type: ignore[attr-defined]
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: changes(ana).mode == "suspects", "the suspects list")
        await until(pilot, lambda: "No commit in the manifest" in screen_text(ana), "nothing")
        assert "/app/billing/tax.py:9" in "\n".join(region_text(ana, "#changes-side"))
