"""The vote and the hand-off on screen against a real hub, with three or four people."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from server.clock import ManualClock
from tests.conftest import Minter
from tests.integration.conftest import LiveHub, stop_hub
from tests.integration.test_votes import start_clocked_hub
from tests.tui.helpers import notifications, region_text, screen_text, timeline_texts, until
from tests.tui.test_train import joined, ok, open_train, synced, tick_stage
from tests.unit.train_helpers import runbook_data
from warroom.hubproc import HubProcess
from warroom.tui.app import WarroomApp
from warroom.tui.screens.form import FormScreen
from warroom.tui.screens.gate import GateScreen
from warroom.tui.screens.offer import OfferScreen


def count_bells(app: WarroomApp) -> list[int]:
    """Counts the terminal bells `app` rings (a headless app has no terminal to ring)."""
    rung = [0]

    def bell() -> None:
        rung[0] += 1

    app.bell = bell  # type: ignore[method-assign]
    return rung


def said(app: WarroomApp, text: str) -> bool:
    return any(text in line for line in timeline_texts(app))


def toasted(app: WarroomApp, text: str) -> bool:
    return any(
        text in n.title or text in n.message
        for severity in ("information", "warning", "error")
        for n in notifications(app, severity)
    )


async def ballot(app: WarroomApp, pilot: Pilot[None], key: str, comment: str) -> None:
    """Cast a ballot the way a person does: the key, the confirmation, a comment, enter."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, FormScreen), f"the {key} confirmation")
    assert "Proposal: roll back the last stage." in screen_text(app)
    await pilot.press(*comment, "enter")
    await until(pilot, lambda: not isinstance(app.screen, FormScreen), "the modal to close")


async def test_a_vote_called_cast_and_passed_then_executed_in_every_terminal(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("raj"), "Asia/Kolkata") as (raj, raj_pilot),
        joined(hub_process, mint_token("bob"), "Europe/Berlin") as (bob, bob_pilot),
        joined(hub_process, mint_token("vic", "visitor")) as (vic, vic_pilot),
    ):
        bells = {app.client.name: count_bells(app) for app in (ana, raj, bob, vic)}
        await open_train(ana, pilot)
        await tick_stage(ana)
        await ok(ana, "promote")
        await ok(ana, "raise_blocker", reason="fatals on Special:Search", link="T1")
        await until(pilot, lambda: synced(ana, raj, bob, vic), "everyone to catch up")

        # raj calls it: the form asks for the proposal (partial first), a reason, a deadline.
        await raj_pilot.press("v")
        await until(raj_pilot, lambda: isinstance(raj.screen, FormScreen), "the vote form")
        assert "Call a rollback vote" in screen_text(raj)
        # It starts from the open blocker: its reason and its task.
        form = raj.screen
        assert form.values()["reason"] == "fatals on Special:Search"  # type: ignore[attr-defined]
        assert form.values()["ref"] == "T1"  # type: ignore[attr-defined]
        await raj_pilot.press("ctrl+u", *"fatals since testwikis went out", "enter")
        for app, app_pilot in ((ana, pilot), (raj, raj_pilot), (bob, bob_pilot), (vic, vic_pilot)):
            await until(app_pilot, lambda app=app: toasted(app, "v1 opened"), "the toast")
            await until(app_pilot, lambda app=app: "Vote v1" in screen_text(app), "the panel")
            assert bells[app.client.name] == [1], app.client.name
        panel = "\n".join(region_text(vic, "#vote"))
        assert "roll back the last stage" in panel and "0 yes · 0 no · 2 needed of 3" in panel
        assert "closes in" in panel

        # The conductor alone cannot pass it; the visitor's keys only say why.
        await ballot(ana, pilot, "y", "agreed")
        await vic_pilot.press("y")
        await until(vic_pilot, lambda: toasted(vic, "Visitors are read-only"), "the refusal")
        assert not isinstance(vic.screen, FormScreen)
        await until(vic_pilot, lambda: "✔ ana — agreed" in screen_text(vic), "ana's ballot")
        assert ana.client.state.vote is not None and ana.client.state.vote.open

        await ballot(bob, bob_pilot, "x", "wait for the fix")
        await ballot(bob, bob_pilot, "y", "fix is not ready")  # changed, not counted twice
        for app, app_pilot in ((ana, pilot), (raj, raj_pilot), (vic, vic_pilot)):
            await until(app_pilot, lambda app=app: toasted(app, "v1 closed"), "the close toast")
            assert bells[app.client.name] == [2], app.client.name
        vote_panel = "\n".join(region_text(ana, "#vote"))
        assert "PASSED" in vote_panel and "2 yes · 0 no" in vote_panel
        assert "ROLLBACK APPROVED" in vote_panel and "E executes it" in vote_panel
        assert "the conductor executes it" in "\n".join(region_text(raj, "#vote"))
        assert "E" in screen_text(ana).splitlines()[-1]  # the footer offers the key

        # The conductor carries it out; every map moves back, with the time to recovery.
        await pilot.press("E")
        await until(pilot, lambda: isinstance(ana.screen, FormScreen), "the execute form")
        assert "testwikis goes back to the" in screen_text(ana)
        await pilot.press("enter")
        for app, app_pilot in ((ana, pilot), (raj, raj_pilot), (bob, bob_pilot), (vic, vic_pilot)):
            await until(
                app_pilot, lambda app=app: said(app, "rolled back testwikis"), "the rollback"
            )
        line = next(t for t in timeline_texts(vic) if "rolled back testwikis" in t)
        assert "approved by vote v1" in line or "v1" in line, line
        assert "time to recovery" in line
        train = vic.client.state.train
        assert train is not None and train.stage == "prep" and not train.approved
        assert "ROLLBACK APPROVED" not in screen_text(vic)


async def test_an_offer_shows_the_summary_and_accepting_moves_the_seat(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor"), "Europe/Berlin") as (ana, pilot),
        joined(hub_process, mint_token("nia"), "America/New_York") as (nia, nia_pilot),
        joined(hub_process, mint_token("vic", "visitor")) as (vic, vic_pilot),
    ):
        await open_train(ana, pilot)
        await ok(ana, "raise_blocker", reason="db lag on s4", link="T9")

        # nia queues through the form; everyone sees the queue with her times.
        await nia_pilot.press("h")
        await until(nia_pilot, lambda: isinstance(nia.screen, FormScreen), "the queue form")
        await nia_pilot.press("tab", *"08:00", "tab", *"16:00", "tab", *"evening EU", "enter")
        await until(vic_pilot, lambda: "1. nia" in screen_text(vic), "the queue on vic's screen")
        handoff = "\n".join(region_text(vic, "#handoff"))
        assert "America/New_York" in handoff and "shift 08:00–16:00 there" in handoff
        assert "UTC" in handoff and (
            "hand-off to nia in" in handoff or "shift is on now" in handoff
        )

        # A visitor cannot queue; the key says why.
        await vic_pilot.press("h")
        await until(vic_pilot, lambda: toasted(vic, "Visitors are read-only"), "the refusal")

        # ana offers it to the next in the queue, with a note.
        await pilot.press("O")
        await until(pilot, lambda: isinstance(ana.screen, FormScreen), "the offer form")
        assert "next in the queue (nia)" in screen_text(ana)
        await pilot.press(*"watch s4 lag", "enter")  # the note has the focus; "to" stays
        await until(nia_pilot, lambda: isinstance(nia.screen, OfferScreen), "nia's offer screen")
        offer = screen_text(nia)
        assert "ana offers you the conductor seat" in offer
        assert "Stage: prep" in offer or "prep" in offer
        assert "db lag on s4" in offer and "watch s4 lag" in offer
        assert "lapses in" in offer

        await nia_pilot.press("ctrl+a")
        for app, app_pilot in ((ana, pilot), (nia, nia_pilot), (vic, vic_pilot)):
            await until(
                app_pilot, lambda app=app: said(app, "nia accepted the conductor seat"), "accept"
            )
            seat = "seat: you" if app is nia else "seat: nia"
            await until(app_pilot, lambda app=app, s=seat: s in screen_text(app), "the header")
        assert nia.client.state.conductor == "nia" and nia.client.state.queue == ()
        assert "conductor" in screen_text(nia).splitlines()[0]
        # The old conductor is an engineer now, and is told why p does nothing for her.
        await pilot.press("p")
        await until(pilot, lambda: toasted(ana, "Only the conductor may promote"), "refusal")
        # The new one drives the next promotion, seen in the visitor's train map.
        blocker = nia.client.state.train.blockers[0].id  # type: ignore[union-attr]
        await ok(nia, "resolve_blocker", blocker=blocker, note="lag is back to normal")
        await tick_stage(nia)
        await until(nia_pilot, lambda: synced(ana, nia), "nia to see her ticks")
        await nia_pilot.press("p")
        await until(nia_pilot, lambda: isinstance(nia.screen, GateScreen), "the promote dialog")
        await nia_pilot.press("enter")
        await until(vic_pilot, lambda: said(vic, "nia promoted testwikis"), "the promotion")


async def test_a_declined_offer_leaves_the_seat_and_the_queue(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("nia"), "America/New_York") as (nia, nia_pilot),
    ):
        await ok(nia, "queue_join", tz="America/New_York", start="08:00", end="16:00")
        await ok(ana, "offer_seat", note="")
        await until(nia_pilot, lambda: isinstance(nia.screen, OfferScreen), "the offer screen")
        await nia_pilot.press("escape")  # later: the panel says how to come back
        await until(nia_pilot, lambda: "o answers the offer" in screen_text(nia), "the hint")
        await nia_pilot.press("o")
        await until(nia_pilot, lambda: isinstance(nia.screen, OfferScreen), "the screen again")
        await nia_pilot.press("tab", *"in a meeting", "enter")  # from Accept, round to the note
        await until(pilot, lambda: said(ana, "nia declined the conductor seat"), "the decline")
        assert ana.client.state.conductor == "ana"
        assert [e.name for e in ana.client.state.queue] == ["nia"]


class ClockedHub:
    """An in-process hub on a manual clock, with what `joined` reads of a hub child."""

    def __init__(self, live: LiveHub) -> None:
        self.live = live

    def room_url(self, room: str) -> str:
        return self.live.url(room)

    def token(self, name: str, role: str = "engineer") -> str:
        return self.live.token(name, role, room="room1")


async def test_a_dropped_conductor_leaves_no_conductor_and_t_takes_the_seat(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    live, server = await start_clocked_hub(tmp_path, clock)
    hub = ClockedHub(live)
    book = runbook_data()
    book["rules"]["handoff_grace"] = 5  # the least a runbook may set
    try:
        async with joined(hub, hub.token("raj"), "Asia/Kolkata") as (raj, raj_pilot):
            async with joined(hub, hub.token("ana", "conductor")) as (ana, pilot):
                await ok(ana, "open_train", runbook=book, version="1.44.0-wmf.5")
                await until(raj_pilot, lambda: synced(ana, raj), "raj to see the train")
                assert "T" not in screen_text(raj).splitlines()[-1].split()  # the seat is held
                await raj_pilot.press("T")
                await until(raj_pilot, lambda: toasted(raj, "ana holds the seat"), "the refusal")
                await ana.client.close()  # ana's laptop dies: she is gone, not handing off
            await until(
                raj_pilot, lambda: not raj.client.state.members["ana"].present, "ana to be gone"
            )
            clock.advance(5)  # the grace period passes
            await until(raj_pilot, lambda: "NO CONDUCTOR" in screen_text(raj), "no conductor")
            panel = "\n".join(region_text(raj, "#handoff"))
            assert "T takes the seat" in panel
            await raj_pilot.press("T")
            await until(raj_pilot, lambda: raj.client.state.conductor == "raj", "raj in the seat")
            await until(raj_pilot, lambda: "seat: you" in screen_text(raj), "the header")
            assert "NO CONDUCTOR" not in screen_text(raj)
    finally:
        await stop_hub(live, server)


async def test_an_enter_as_the_offer_arrives_does_not_take_the_seat(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    async with (
        joined(hub_process, mint_token("ana", "conductor")) as (ana, pilot),
        joined(hub_process, mint_token("nia"), "America/New_York") as (nia, nia_pilot),
    ):
        await ok(nia, "queue_join", tz="America/New_York", start="08:00", end="16:00")
        await ok(ana, "offer_seat")
        await until(nia_pilot, lambda: isinstance(nia.screen, OfferScreen), "the offer screen")
        await nia_pilot.press("enter")  # meant for the note she was typing
        await nia_pilot.pause(0.3)
        assert isinstance(nia.screen, OfferScreen) and nia.client.state.conductor == "ana"
