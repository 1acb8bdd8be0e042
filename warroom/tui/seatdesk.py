"""The vote and hand-off acts behind their keys: one table, who may, what to ask, what to send.

Like `TrainDesk` for the train, but these acts also work without a train (the seat) and some
only make sense at a moment (a ballot while a vote is open, the answer to an offer made to
me); a key that does not apply now is hidden and, pressed anyway, says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from textual.binding import Binding

from warroom.client import Answer
from warroom.core import Actor, Role, RoomState, permitted
from warroom.core.handoff import summary
from warroom.core.votes import WORDS
from warroom.tui.actions import TrainAction
from warroom.tui.screens.form import Ask, FormScreen
from warroom.tui.screens.offer import OfferScreen

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]

SEAT_ACTIONS: tuple[TrainAction, ...] = (
    TrainAction("call_vote", "v", "Vote", "Call a vote", "Call a rollback vote", "call votes"),
    TrainAction("yes", "y", "Yes", "Vote yes", "Vote yes on the open vote (confirmed)", "vote"),
    TrainAction("no", "x", "No", "Vote no", "Vote no on the open vote (confirmed)", "vote"),
    TrainAction(
        "execute",
        "E",
        "Execute",
        "Execute the approved rollback",
        "Carry out the rollback the room voted for (confirmed)",
        "roll back",
        conductor=True,
    ),
    TrainAction(
        "cancel_vote",
        "V",
        "Cancel vote",
        "Cancel the vote",
        "Cancel the open vote, with a reason",
        "cancel votes",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "take",
        "T",
        "Take seat",
        "Take the empty conductor seat",
        "The room has no conductor: take the seat",
        "take the seat",
    ),
    TrainAction(
        "answer",
        "o",
        "Answer offer",
        "Answer the offer of the seat",
        "The seat is offered to you: see the summary, accept or decline",
        "take the seat",
    ),
    TrainAction(
        "queue",
        "h",
        "Queue",
        "Join or leave the hand-off queue",
        "Queue yourself for the conductor seat (zone and shift), or leave the queue",
        "queue for the seat",
        footer=False,
    ),
    TrainAction(
        "offer",
        "O",
        "Offer seat",
        "Offer the conductor seat",
        "Offer the seat to the next in the queue or a named engineer, with a note",
        "offer the seat",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "reorder",
        "Q",
        "Reorder queue",
        "Reorder or trim the hand-off queue",
        "Move someone in the hand-off queue, or take them out",
        "reorder the queue",
        conductor=True,
        footer=False,
    ),
)
SEAT_BY_NAME = {action.name: action for action in SEAT_ACTIONS}
# Which hub op decides whether my role allows each act.
_OPS = {
    "call_vote": "call_vote",
    "yes": "ballot",
    "no": "ballot",
    "execute": "rollback",
    "cancel_vote": "cancel_vote",
    "take": "take_seat",
    "answer": "accept_seat",
    "queue": "queue_join",
    "offer": "offer_seat",
    "reorder": "queue_move",
}


def seat_bindings() -> Iterator[Binding]:
    """The act and, on the same key, a hidden explanation (see `train_bindings`)."""
    for action in SEAT_ACTIONS:
        yield Binding(
            action.keys, f"seat('{action.name}')", action.label, show=action.footer,
            tooltip=action.help,
        )  # fmt: skip
        yield Binding(action.keys, f"seat_explain('{action.name}')", "", show=False)


class SeatDesk:
    """Runs `SEAT_ACTIONS` for one participant; `screen` is the room screen."""

    def __init__(self, screen: Any, send: Sender) -> None:
        self.screen = screen  # has state, me, token_role, tz, app, notify
        self._send = send

    @property
    def state(self) -> RoomState:
        state: RoomState = self.screen.state
        return state

    def refusal(self, name: str) -> str | None:
        """Why I may not do `name` now, in words; None when I may (the hub has the last word)."""
        role, me, state = self.screen.token_role, self.screen.me, self.state
        action = SEAT_BY_NAME[name]
        if not role:
            return "Not in the room yet."
        if role == Role.VISITOR:
            return f"Visitors are read-only: you can watch, but not {action.verb}."
        vote, train = state.vote, state.train
        situation = {
            "call_vote": self._call_refusal(),
            "yes": self._ballot_refusal(),
            "no": self._ballot_refusal(),
            "cancel_vote": None if vote is not None and vote.open else "No vote is open.",
            "execute": None if train is not None and train.approved else "No rollback approved.",
            "take": self._take_refusal(),
            "answer": None
            if state.offer is not None and state.offer.to == me
            else "No offer of the seat is open for you.",
            "offer": "The seat is already offered." if state.offer is not None else None,
            "reorder": None if state.queue else "The hand-off queue is empty.",
        }.get(name)
        if situation is not None:
            return situation
        refused = permitted(state, Actor(me, Role(role)), _OPS[name])
        if refused is not None:
            holder = state.conductor or "nobody"
            return f"Only the conductor may {action.verb} ({holder} holds the seat)."
        return None

    def _call_refusal(self) -> str | None:
        train, vote = self.state.train, self.state.vote
        if train is None or train.finished:
            return "No train is running."
        if vote is not None and vote.open:
            return f"Vote {vote.id} is open: one vote at a time (y / x to vote on it)."
        return None

    def _ballot_refusal(self) -> str | None:
        vote = self.state.vote
        if vote is None or not vote.open:
            return "No vote is open; v calls one."
        if self.screen.me not in vote.electorate:
            return f"You are not in the electorate of vote {vote.id}."
        return None

    def _take_refusal(self) -> str | None:
        state = self.state
        if state.conductor is not None:
            return f"{state.conductor} holds the seat."
        first = next(
            (e.name for e in state.queue if (m := state.members.get(e.name)) and m.present), None
        )
        if first is not None and first != self.screen.me:
            return f"{first} is first in the hand-off queue and present: they take the seat."
        return None

    def explain(self, name: str) -> None:
        """Tell the user why `name` does nothing for them now."""
        why = self.refusal(name)
        if why is not None:
            self.screen.notify(why, title=SEAT_BY_NAME[name].title, severity="warning")

    async def run(self, name: str) -> None:
        """Do `name`, or explain why not."""
        if self.refusal(name) is not None:
            self.explain(name)
            return
        await getattr(self, f"_{name}")()

    async def _ask(self, form: FormScreen) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self.screen.app.push_screen_wait(form)
        return result

    # --- the vote ----------------------------------------------------------------------------

    async def _call_vote(self) -> None:
        train = self.state.train
        assert train is not None
        proposals = [p for p in WORDS if p != "partial" or train.current > 0]
        # The reason usually is the open blocker or the latest alert: start from it.
        blocker = next(iter(train.open_blockers()), None)
        alert = self.state.alerts[-1] if self.state.alerts else None
        reason = blocker.reason if blocker else (alert.text if alert else "")
        ref = (blocker.link or blocker.id) if blocker else ""
        form = FormScreen(
            "Call a rollback vote",
            [
                Ask("proposal", "Proposal", "choice", value=proposals[0],
                    choices=tuple((f"{p} — {WORDS[p]}", p) for p in proposals)),
                Ask("reason", "Reason", value=reason[:500], required=True,
                    placeholder="what is wrong"),
                Ask("ref", "Task id or link", value=ref, max_len=300,
                    placeholder="T12345 or https://…"),
                Ask("deadline", "Deadline, seconds", value=str(train.rules.vote_window)),
            ],
            intro="Everyone present (not visitors) may vote; a majority, and at least two, "
            "passes it.",
            confirm="Call the vote",
        )  # fmt: skip
        values = await self._ask(form)
        if values is None:
            return
        args: dict[str, Any] = {"proposal": values["proposal"], "reason": values["reason"]}
        if values["ref"]:
            args["ref"] = values["ref"]
        if not values["deadline"].isdigit():
            self.screen.notify("The deadline is a number of seconds.", severity="error")
            return
        args["deadline"] = int(values["deadline"])
        await self._send("call_vote", args)

    async def _yes(self) -> None:
        await self._ballot(True)

    async def _no(self) -> None:
        await self._ballot(False)

    async def _ballot(self, yes: bool) -> None:
        vote = self.state.vote
        assert vote is not None
        word = "YES" if yes else "NO"
        tally_yes, tally_no = vote.tally()
        form = FormScreen(
            f"Vote {word} on {vote.id}",
            [Ask("comment", "Comment (optional)", max_len=300, placeholder="why, in a few words")],
            intro=f"Proposal: {WORDS[vote.proposal]}.\nReason: {vote.reason}\n"
            f"Now {tally_yes} yes, {tally_no} no; {vote.needed} needed.",
            confirm=f"Vote {word.lower()}",
            danger=yes,
        )
        values = await self._ask(form)
        if values is None:
            return
        now = self.state.vote
        if now is None or now.id != vote.id or not now.open:
            self.screen.notify(f"Vote {vote.id} closed meanwhile; nothing was sent.")
            return
        args = {"choice": "yes" if yes else "no", "vote": vote.id, "comment": values["comment"]}
        await self._send("ballot", args)

    async def _cancel_vote(self) -> None:
        form = FormScreen(
            "Cancel the vote",
            [Ask("reason", "Why", required=True, placeholder="a reason for the timeline")],
            confirm="Cancel the vote",
            danger=True,
        )
        values = await self._ask(form)
        if values is not None:
            await self._send("cancel_vote", {"reason": values["reason"]})

    async def _execute(self) -> None:
        train = self.state.train
        assert train is not None
        scope, vote = train.approved, self.state.vote
        effect = (
            f"{train.stage} goes back to the previous version; "
            f"{train.stages[train.current - 1]} is in progress again."
            if scope == "partial"
            else "Every stage goes back to the previous version; this run cannot go on."
        )
        vote_id = vote.id if vote is not None else "the vote"
        form = FormScreen(
            f"Execute the approved rollback ({scope})",
            [Ask("reason", "Reason", value=f"the room voted for it ({vote_id})")],
            intro=f"The room voted to {WORDS[scope]}. {effect}",
            confirm=f"Roll back ({scope})",
            danger=True,
        )
        values = await self._ask(form)
        if values is not None:
            args = {"scope": scope, "expect": train.stage, "reason": values["reason"]}
            await self._send("rollback", args)

    # --- the seat ----------------------------------------------------------------------------

    async def _take(self) -> None:
        await self._send("take_seat", {})

    async def _answer(self) -> None:
        offer = self.state.offer
        assert offer is not None
        screen = OfferScreen(offer, summary(self.state), self.screen.clock)
        answer: tuple[str, str] | None = await self.screen.app.push_screen_wait(screen)
        if answer is None:
            return
        choice, note = answer
        if choice == "accept":
            await self._send("accept_seat", {})
        else:
            await self._send("decline_seat", {"note": note} if note else {})

    async def _queue(self) -> None:
        me = self.screen.me
        if any(e.name == me for e in self.state.queue):
            await self._send("queue_remove", {"name": me})
            return
        form = FormScreen(
            "Queue for the conductor seat",
            [
                Ask("tz", "Time zone", value=self.screen.tz, max_len=64),
                Ask("start", "Shift starts (HH:MM, in that zone)", value="09:00",
                    required=True, max_len=5),
                Ask("end", "Shift ends (HH:MM)", value="17:00", required=True, max_len=5),
                Ask("note", "Note", placeholder="anything the room should know"),
            ],
            intro="h again takes you out of the queue.",
            confirm="Queue me",
        )  # fmt: skip
        values = await self._ask(form)
        if values is not None:
            args = {k: values[k] for k in ("tz", "start", "end")}
            if values["note"]:
                args["note"] = values["note"]
            await self._send("queue_join", args)

    async def _offer(self) -> None:
        state, me = self.state, self.screen.me
        people = [m.name for m in state.present() if m.role is not Role.VISITOR and m.name != me]
        nxt = next((e.name for e in state.queue if e.name in people), "")
        first = f"next in the queue ({nxt})" if nxt else "next in the queue (nobody present)"
        form = FormScreen(
            "Offer the conductor seat",
            [
                Ask("to", "To", "choice", value="", choices=((first, ""),
                    *((name, name) for name in people))),
                Ask("note", "Note for them", max_len=1000, placeholder="what they must know"),
            ],
            intro="They see the hand-off summary and accept or decline.",
            confirm="Offer",
        )  # fmt: skip
        values = await self._ask(form)
        if values is not None:
            args = {k: v for k, v in values.items() if v}
            await self._send("offer_seat", args)

    async def _reorder(self) -> None:
        names = [e.name for e in self.state.queue]
        places = tuple((f"place {i + 1}", str(i)) for i in range(len(names)))
        form = FormScreen(
            "Reorder the hand-off queue",
            [
                Ask("name", "Who", "choice", value=names[0],
                    choices=tuple((n, n) for n in names)),
                Ask("position", "Move to", "choice", value="0",
                    choices=(*places, ("out of the queue", "remove"))),
            ],
            confirm="Apply",
        )  # fmt: skip
        values = await self._ask(form)
        if values is None:
            return
        if values["position"] == "remove":
            await self._send("queue_remove", {"name": values["name"]})
        else:
            args = {"name": values["name"], "position": int(values["position"])}
            await self._send("queue_move", args)
