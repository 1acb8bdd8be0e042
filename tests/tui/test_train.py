"""The train on screen against a real hub: checklist, promotion, blockers, roles and edits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from tests.conftest import Minter
from tests.tui.helpers import live, notifications, region_text, screen_text, timeline_texts, until
from tests.unit.train_helpers import runbook_data
from warroom.hubproc import HubProcess
from warroom.tui.app import WarroomApp
from warroom.tui.screens.form import FormScreen
from warroom.tui.screens.gate import GateScreen
from warroom.tui.screens.rollback import RollbackScreen
from warroom.tui.trainview import clock
from warroom.tui.widgets.blocker_banner import BlockerBanner
from warroom.tui.widgets.checklist import Checklist

SIZE = (120, 40)
VERSION = "1.44.0-wmf.5"


@asynccontextmanager
async def joined(
    hub: HubProcess, token: str, tz: str = "UTC"
) -> AsyncIterator[tuple[WarroomApp, Pilot[None]]]:
    app = WarroomApp(hub.room_url("room1"), token, tz)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: live(app), "the app to be live")
        yield app, pilot


async def ok(app: WarroomApp, op: str, **args: Any) -> None:
    answer = await app.send(op, args)
    assert answer is not None and answer.ok, (op, answer)


async def open_train(app: WarroomApp, pilot: Pilot[None]) -> None:
    await ok(app, "open_train", runbook=runbook_data(), version=VERSION)
    await until(pilot, lambda: app.query_one(Checklist).option_count > 0, "the checklist")


def checklist(app: WarroomApp) -> Checklist:
    return app.query_one(Checklist)


def item_id(app: WarroomApp, text_start: str) -> str:
    train = app.client.state.train
    assert train is not None
    items = [*train.stage_items(train.stage), *train.items]
    return next(i.id for i in items if i.text.startswith(text_start))


async def select(app: WarroomApp, pilot: Pilot[None], text_start: str) -> None:
    checklist(app).select_item(item_id(app, text_start))
    await pilot.pause()


async def tick_stage(app: WarroomApp) -> None:
    train = app.client.state.train
    assert train is not None
    for item in train.stage_items(train.stage):
        if item.required and not item.done:
            await ok(app, "tick", item=item.id)


def footer(app: WarroomApp) -> str:
    return screen_text(app).splitlines()[-1]


def synced(*apps: WarroomApp) -> bool:
    return len({app.client.seq for app in apps}) == 1


async def test_two_people_tick_and_see_the_same_checklist(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("raj"), "Asia/Kolkata") as (raj, raj_pilot),
    ):
        assert "No train running" in screen_text(ana)
        await open_train(ana, pilot)
        await until(raj_pilot, lambda: checklist(raj).option_count > 0, "raj's checklist")
        # The cursor starts on the first open item of the stage in progress.
        assert checklist(ana).selected_item is not None
        assert checklist(ana).selected_item.text.startswith("Cut the wmf branch")
        await pilot.press("space")
        await until(pilot, lambda: "ana ticked" in " ".join(timeline_texts(ana)), "ana's tick")

        # raj may not tick a conductor's item: the hub says so, and the screen shows it.
        await select(raj, raj_pilot, "Cut the wmf branch")
        await raj_pilot.press("space")  # it is ticked: this would untick it
        await until(
            raj_pilot,
            lambda: any("only the conductor may" in n.message for n in notifications(raj)),
            "the hub's refusal",
        )
        await select(raj, raj_pilot, "Check the train blocker task")
        await raj_pilot.press("space")
        await raj_pilot.press("down", "m")
        await until(
            pilot, lambda: "raj took" in " ".join(timeline_texts(ana)), "raj to take an item"
        )
        await until(pilot, lambda: synced(ana, raj), "both replicas to catch up")
        await until(pilot, lambda: "@raj" in screen_text(ana), "ana's checklist to redraw")
        assert ana.client.state == raj.client.state
        # Tick times are in each viewer's zone, like the timeline: raj reads Kolkata time.
        train = ana.client.state.train
        assert train is not None
        ticked = next(i for i in train.items if i.done_by == "raj")
        assert f"raj {clock(ticked.done_at, 'Asia/Kolkata')}" in screen_text(raj)
        await raj_pilot.press("t")  # in UTC, raj's list reads exactly as ana's
        await raj_pilot.pause()
        ana_list, raj_list = region_text(ana, "#checklist"), region_text(raj, "#checklist")
        assert ana_list == raj_list
        listing = "\n".join(ana_list)
        assert "✔ Cut the wmf branch and check the build is green" in listing
        assert "★ conductor" in listing and "scap prep auto" in listing
        assert "✔ Check the train blocker task has no open subtasks" in listing
        assert f"raj {clock(ticked.done_at, 'UTC')}" in listing
        assert "@raj" in listing and "optional" in listing
        assert "@raj" in listing and "optional" in listing


async def test_conductor_promotes_through_the_dialog(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("raj")) as (raj, raj_pilot),
    ):
        await open_train(ana, pilot)
        # Gates unmet: the dialog lists them and will not promote without a written reason.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(ana.screen, GateScreen), "the promotion dialog")
        text = screen_text(ana)
        assert f"promote testwikis: testwikis moves to {VERSION}" in text
        assert "✖ 2 required items unticked in prep" in text
        assert ana.screen.query_one("#confirm", Button).disabled
        await pilot.press("escape")
        assert not isinstance(ana.screen, GateScreen)
        assert ana.client.state.train is not None and ana.client.state.train.current == 0

        # Override with a reason.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(ana.screen, GateScreen), "the dialog again")
        await pilot.press(*"prep was done by hand")
        assert not ana.screen.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        await until(
            raj_pilot,
            lambda: any("overriding" in t for t in timeline_texts(raj)),
            "the override in raj's timeline",
        )
        assert "because: prep was done by hand" in timeline_texts(raj)[-1]

        # Every gate met: one keypress on the focused button.
        await tick_stage(ana)
        await until(pilot, lambda: checklist(ana).border_subtitle == "ready for group0", "ready")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(ana.screen, GateScreen), "the clean dialog")
        assert "✔ every gate is met" in screen_text(ana)
        assert ana.screen.query_one("#confirm", Button).has_focus
        await pilot.press("enter")
        await until(raj_pilot, lambda: "ana promoted group0" in timeline_texts(raj), "group0")
        await until(raj_pilot, lambda: "group0 ◐" in screen_text(raj), "raj's train map")
        assert "testwikis ●" in screen_text(raj) and "RUNNING" in screen_text(raj)

        # A partial rollback, confirmed in its own dialog.
        await pilot.press("R")
        await until(pilot, lambda: isinstance(ana.screen, RollbackScreen), "the rollback dialog")
        await pilot.press(*"fatals")
        await pilot.press("enter")
        await until(raj_pilot, lambda: "ROLLED BACK" in screen_text(raj), "the rollback")
        assert "testwikis ◐" in screen_text(raj) and "group0 ↺" in screen_text(raj)


async def test_a_blocker_shows_in_both_holds_the_train_and_resolves(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("raj")) as (raj, raj_pilot),
    ):
        await open_train(ana, pilot)
        await tick_stage(ana)
        await raj_pilot.press("b")
        await until(raj_pilot, lambda: isinstance(raj.screen, FormScreen), "the blocker form")
        await raj_pilot.press(*"fatal on enwiki Special:Search", "tab", *"T12345", "enter")
        banner = "HELD  — blocker T12345: fatal on enwiki Special:Search (raised by raj"
        for app, p in ((ana, pilot), (raj, raj_pilot)):
            await until(p, lambda app=app: banner in screen_text(app), "the banner")
            assert app.query_one(BlockerBanner).display
            assert screen_text(app).splitlines()[1].rstrip().endswith("HELD")

        # The promotion dialog names the blocker and will not go without an override.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(ana.screen, GateScreen), "the dialog")
        assert "✖ blocker T12345 is open: fatal on enwiki Special:Search" in screen_text(ana)
        assert ana.screen.query_one("#confirm", Button).disabled
        answer = await ana.send("promote", {})
        assert answer is not None and answer.code == "gated"  # the hub holds it too

        # raj resolves it while the dialog is open: the dialog's gates clear by themselves.
        await raj_pilot.press("u")
        await until(raj_pilot, lambda: isinstance(raj.screen, FormScreen), "the resolve form")
        assert "T12345: fatal on enwiki Special:Search" in screen_text(raj)
        await raj_pilot.press("enter")  # a note is needed
        assert isinstance(raj.screen, FormScreen) and "Fill in" in screen_text(raj)
        await raj_pilot.press(*"reverted the bad change", "enter")
        for app, p in ((ana, pilot), (raj, raj_pilot)):
            await until(p, lambda app=app: not app.query_one(BlockerBanner).display, "no banner")
        await until(pilot, lambda: "✔ every gate is met" in screen_text(ana), "gates clear")
        assert not ana.screen.query_one("#confirm", Button).disabled
        await pilot.press("escape")
        assert "RUNNING" in screen_text(raj).splitlines()[1]
        assert "HELD" not in screen_text(raj)


async def test_visitor_keys_do_nothing_and_say_why(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("vic", "visitor")) as (vic, vic_pilot),
        joined(hub_process, mint_token("raj")) as (raj, raj_pilot),
    ):
        await open_train(ana, pilot)
        await until(vic_pilot, lambda: checklist(vic).option_count > 0, "vic's checklist")
        await until(vic_pilot, lambda: synced(ana, vic, raj), "everyone to catch up")
        await until(vic_pilot, lambda: "Keys" in footer(vic), "vic's footer")
        assert "Tick" not in footer(vic) and "Promote" not in footer(vic)
        seq = vic.client.seq
        for key in ("space", "m", "c", "b", "u", "p", "R", "F", "X", "plus", "delete"):
            await vic_pilot.press(key)
            await vic_pilot.pause()
            assert vic.screen is vic.room_screen, f"{key} opened a dialog for a visitor"
        warned = notifications(vic, "warning")
        assert warned and all("Visitors are read-only" in n.message for n in warned)
        assert any("not promote" in n.message for n in warned)
        # Nothing reached the room: ana hears of nothing new.
        await pilot.pause(0.3)
        assert ana.client.seq == seq
        # A click on an item's box explains too.
        await vic_pilot.click(Checklist, offset=(4, 2))
        await until(
            vic_pilot,
            lambda: any("not tick" in n.message for n in notifications(vic, "warning")[-1:]),
            "the click to be explained",
        )
        assert ana.client.seq == seq

        # An engineer at a conductor's key is told who may, and no dialog opens.
        await until(raj_pilot, lambda: "Tick" in footer(raj), "raj's footer")
        assert "Promote" not in footer(raj)
        await raj_pilot.press("p")
        await raj_pilot.pause()
        assert raj.screen is raj.room_screen
        await until(
            raj_pilot,
            lambda: any(
                "Only the conductor may promote (ana holds the seat)" in n.message
                for n in notifications(raj, "warning")
            ),
            "raj to be told",
        )


async def test_conductor_edits_the_checklist_then_abandons(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot):
        await open_train(ana, pilot)
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(ana.screen, FormScreen), "the add form")
        await pilot.press(*"Page the on-call DBA", "tab", *"dba channel", "enter")
        await until(
            pilot, lambda: 'ana added "Page the on-call DBA" (prep)' in timeline_texts(ana), "add"
        )
        train = ana.client.state.train
        assert train is not None
        assert [i.text for i in train.stage_items("prep")][-1] == "Page the on-call DBA"
        await select(ana, pilot, "Page the on-call DBA")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "moved" in timeline_texts(ana)[-1], "the move")
        train = ana.client.state.train
        assert train is not None
        assert [i.text for i in train.stage_items("prep")][2] == "Page the on-call DBA"
        assert checklist(ana).selected_item is not None
        assert checklist(ana).selected_item.text == "Page the on-call DBA", "the cursor follows"
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(ana.screen, FormScreen), "the confirmation")
        assert ana.screen.query_one("#confirm", Button).has_focus
        await pilot.press("enter")
        await until(pilot, lambda: "removed" in timeline_texts(ana)[-1], "the removal")
        train = ana.client.state.train
        assert train is not None
        assert "Page the on-call DBA" not in [i.text for i in train.items]

        # Abandoning needs a reason; afterwards the train keys are gone and explain why.
        await pilot.press("X")
        await until(pilot, lambda: isinstance(ana.screen, FormScreen), "the abandon form")
        await pilot.press(*"branch cut from the wrong commit", "enter")
        await until(pilot, lambda: "ABANDONED" in screen_text(ana).splitlines()[1], "abandoned")
        await until(pilot, lambda: "Tick" not in footer(ana), "the train keys to go")
        await pilot.press("space")
        await until(
            pilot,
            lambda: any("is abandoned" in n.message for n in notifications(ana, "warning")),
            "the explanation",
        )
