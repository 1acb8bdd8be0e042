"""The train's acts behind the keys: who may do what, what to ask first, what to send.

The hub decides; this only spares people a form the hub would refuse (a visitor, an engineer
at a conductor's key, no train) and tells them why, in the hub's own words. Refusals the
replica cannot foresee come back from the hub and are shown by `WarroomApp.send`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from warroom.client import Answer
from warroom.core import Role, RoomState
from warroom.core.stages import gates
from warroom.core.train import Item, Train
from warroom.tui.actions import BY_NAME
from warroom.tui.screens.form import Ask, FormScreen
from warroom.tui.screens.gate import GateScreen
from warroom.tui.screens.rollback import RollbackScreen
from warroom.tui.trainview import blocker_name, finish_effect, next_stage, promotion_effect

if TYPE_CHECKING:
    from warroom.tui.widgets.checklist import Checklist

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]
READ_ONLY = "Visitors are read-only: you can watch, but not {verb}."


class TrainDesk:
    """Runs the acts of `ACTIONS` for one participant; `screen` is the room screen."""

    def __init__(self, screen: Any, checklist: Callable[[], Checklist], send: Sender) -> None:
        # `screen` is the RoomScreen (typed loosely to keep the import one-way): it has
        # `state`, `me`, `token_role`, `app` and `notify`.
        self.screen = screen
        self._checklist = checklist
        self._send = send
        self._inflight: set[tuple[str, str]] = set()

    # --- who may -----------------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        state: RoomState = self.screen.state
        return state

    def may_conduct(self) -> bool:
        """Whether my acts count as the conductor's: I hold the seat, or may take a free one."""
        seat = self.state.conductor
        return seat == self.screen.me or (seat is None and self.screen.token_role == Role.CONDUCTOR)

    def refusal(self, name: str) -> str | None:
        """Why I may not do `name` now, in words; None when I may (the hub has the last word)."""
        why = self._why_not(name)
        return None if why is None else why[1]

    def _why_not(self, name: str) -> tuple[str, str] | None:
        # (the notification's title, the reason)
        action = BY_NAME[name]
        role = self.screen.token_role
        if not role:
            return "Not yet", "Not in the room yet."
        if role == Role.VISITOR:
            return "Read-only", READ_ONLY.format(verb=action.verb)
        train = self.state.train
        if train is None:
            return "No train", "No train is running; the conductor starts one with `warroom open`."
        if train.finished:
            return "Train over", f"Train {train.version} is {train.label().lower()}."
        if action.conductor and not self.may_conduct():
            holder = self.state.conductor or "nobody"
            why = f"Only the conductor may {action.verb} ({holder} holds the seat)."
            return "Conductor only", why
        return None

    def explain(self, name: str) -> None:
        """Tell the user why `name` does nothing for them."""
        why = self._why_not(name)
        if why is not None:
            self.screen.notify(why[1], title=why[0], severity="warning")

    async def run(self, name: str) -> None:
        """Do `name`, or explain why not."""
        if self.refusal(name) is not None:
            self.explain(name)
            return
        await getattr(self, f"_{name}")()

    # --- helpers -----------------------------------------------------------------------------

    @property
    def train(self) -> Train:
        train = self.state.train
        assert train is not None  # `refusal` let us through
        return train

    def _item(self) -> Item | None:
        item = self._checklist().selected_item
        if item is None:
            self.screen.notify("Select an item in the checklist first (↑ ↓).", severity="warning")
        return item

    async def _ask(self, form: FormScreen) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self.screen.app.push_screen_wait(form)
        return result

    async def _once(self, key: tuple[str, str], op: str, args: Mapping[str, Any]) -> None:
        # A second press while the first is on its way would only earn a "already ticked".
        if key in self._inflight:
            return
        self._inflight.add(key)
        try:
            await self._send(op, args)
        finally:
            self._inflight.discard(key)

    # --- everyone who acts -----------------------------------------------------------------

    async def _tick(self) -> None:
        checklist = self._checklist()
        stage = checklist.selected_stage
        item = checklist.selected_item
        if item is None and stage is not None:
            checklist.toggle_stage(stage)
            return
        if item is None:
            self._item()
            return
        op = "untick" if item.done else "tick"
        await self._once(("tick", item.id), op, {"item": item.id})

    async def tick_item(self, item_id: str) -> None:
        """Tick or untick `item_id` (a click on its box), or explain why not."""
        if self.refusal("tick") is not None:
            self.explain("tick")
            return
        item = self.train.item(item_id)
        if item is not None:
            op = "untick" if item.done else "tick"
            await self._once(("tick", item.id), op, {"item": item.id})

    async def _take(self) -> None:
        if (item := self._item()) is None:
            return
        to = "" if item.assignee == self.screen.me else self.screen.me
        await self._once(("assign", item.id), "assign", {"item": item.id, "to": to})

    async def _comment(self) -> None:
        if (item := self._item()) is None:
            return
        form = FormScreen(
            "Comment on the item",
            [Ask("text", "Note", value=item.note, placeholder="what you saw, a link…")],
            intro=item.text,
            confirm="Save",
        )
        values = await self._ask(form)
        if values is not None and values["text"] != item.note:
            await self._send("annotate", {"item": item.id, "text": values["text"]})

    async def _block(self) -> None:
        form = FormScreen(
            "Raise a blocker",
            [
                Ask("reason", "Reason", required=True, placeholder="what is wrong"),
                Ask("link", "Task id or link", max_len=300, placeholder="T12345 or https://…"),
            ],
            intro="While any blocker is open the train is HELD and cannot be promoted.",
            confirm="Raise blocker",
            danger=True,
        )
        values = await self._ask(form)
        if values is not None:
            await self._send("raise_blocker", values)

    async def _unblock(self) -> None:
        blockers = self.train.open_blockers()
        if not blockers:
            self.screen.notify("No blocker is open.", severity="information")
            return
        fields = [Ask("note", "How was it resolved?", required=True, placeholder="a note")]
        intro = ""
        if len(blockers) == 1:
            intro = f"{blocker_name(blockers[0])}: {blockers[0].reason}"
        else:
            choices = tuple((f"{blocker_name(b)}: {b.reason}", b.id) for b in blockers)
            fields.insert(
                0, Ask("blocker", "Blocker", "choice", value=blockers[0].id, choices=choices)
            )
        form = FormScreen("Resolve a blocker", fields, intro=intro, confirm="Resolve")
        values = await self._ask(form)
        if values is not None:
            blocker = values.get("blocker", blockers[0].id)
            await self._send("resolve_blocker", {"blocker": blocker, "note": values["note"]})

    # --- the conductor ---------------------------------------------------------------------

    async def _promote(self) -> None:
        train = self.train
        if train.rollback == "full":
            self.screen.notify("Every stage was rolled back; open a new run.", severity="warning")
            return
        target = next_stage(train)
        if not target:
            self.screen.notify(
                f"{train.stage} is the last stage: mark the train done (F).", severity="warning"
            )
            return
        modal = GateScreen(
            f"Promote {target}", f"Promote {target}", promotion_effect(train), gates(self.state)
        )
        reason = await self.screen.app.push_screen_wait(modal)
        if reason is None:
            return
        if self.state.train is None or next_stage(self.state.train) != target:
            # The room moved while the dialog was open: what was confirmed is not what would go.
            self.screen.notify(
                "The train moved on meanwhile; nothing was sent.", severity="warning"
            )
            return
        await self._send("promote", {"override": reason} if reason else {})

    async def _finish(self) -> None:
        train = self.train
        left = train.stages[train.current + 1 :]
        if left or train.rollback == "full":
            why = f"stages not promoted yet: {', '.join(left)}" if left else "it was rolled back"
            self.screen.notify(f"Cannot mark the train done: {why}.", severity="warning")
            return
        modal = GateScreen(
            "Mark the train done", "Mark done", finish_effect(train), gates(self.state)
        )
        reason = await self.screen.app.push_screen_wait(modal)
        if reason is not None:
            await self._send("finish_train", {"override": reason} if reason else {})

    async def _rollback(self) -> None:
        if self.train.rollback == "full":
            self.screen.notify("Every stage is already rolled back.", severity="warning")
            return
        choice = await self.screen.app.push_screen_wait(RollbackScreen(self.train))
        if choice is not None:
            scope, reason = choice
            await self._send("rollback", {"scope": scope, "reason": reason})

    async def _abandon(self) -> None:
        form = FormScreen(
            f"Abandon train {self.train.version}",
            [Ask("reason", "Why", required=True, placeholder="a reason for the timeline")],
            intro="The run ends here; a new one must be opened to try again.",
            confirm="Abandon",
            danger=True,
        )
        values = await self._ask(form)
        if values is not None:
            await self._send("abandon_train", {"reason": values["reason"]})

    async def _assign(self) -> None:
        if (item := self._item()) is None:
            return
        people = [m.name for m in self.state.present() if m.role is not Role.VISITOR]
        if item.assignee and item.assignee not in people:
            people.append(item.assignee)
        choices = (("nobody", ""), *((name, name) for name in people))
        form = FormScreen(
            "Assign the item",
            [Ask("to", "To", "choice", value=item.assignee, choices=choices)],
            intro=item.text,
            confirm="Assign",
        )
        values = await self._ask(form)
        if values is not None and values["to"] != item.assignee:
            await self._send("assign", {"item": item.id, "to": values["to"]})

    async def _add(self) -> None:
        train = self.train
        stage = self._checklist().selected_stage or train.stage
        form = FormScreen(
            "Add a checklist item",
            [
                Ask(
                    "stage",
                    "Stage",
                    "choice",
                    value=stage,
                    choices=tuple((s, s) for s in train.stages),
                ),
                Ask("text", "Item", required=True, placeholder="what must be done"),
                Ask("hint", "Hint", placeholder="a command, a dashboard, a link"),
                Ask("optional", "Optional: does not hold the promotion", "check"),
                Ask("conductor", "Only the conductor may tick it", "check"),
            ],
            confirm="Add",
        )
        values = await self._ask(form)
        if values is None:
            return
        args = {
            "stage": values["stage"],
            "text": values["text"],
            "hint": values["hint"],
            "required": not values["optional"],
            "who": "conductor" if values["conductor"] else "engineer",
        }
        await self._send("add_item", args)

    async def _remove(self) -> None:
        if (item := self._item()) is None:
            return
        form = FormScreen(
            "Remove the item",
            [],
            intro=f"{item.text}  ({item.stage})",
            confirm="Remove",
            danger=True,
        )
        if await self._ask(form) is not None:
            await self._send("remove_item", {"item": item.id})

    async def _move_up(self) -> None:
        await self._move(-1)

    async def _move_down(self) -> None:
        await self._move(+1)

    async def _move(self, step: int) -> None:
        if (item := self._item()) is None:
            return
        siblings = [i.id for i in self.train.stage_items(item.stage)]
        position = siblings.index(item.id) + step
        if 0 <= position < len(siblings):
            await self._once(
                ("move", item.id), "move_item", {"item": item.id, "position": position}
            )
