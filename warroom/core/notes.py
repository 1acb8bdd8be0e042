"""Notes: free text any engineer or the conductor posts to the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from warroom.core.model import Actor, Command, Event, Reject, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import ACTORS
from warroom.core.schema import Field


@op("note", ACTORS, {"text": Field(str, min_len=1, max_len=2000)}, summary="post a note")
def _decide_note(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    return [Event("note", cmd.ts, actor.name, {"text": cmd.args["text"].strip()})]


@applies("note", lambda e: f"{e.actor}: {e.data['text']}")
def _apply_note(state: RoomState, e: Event) -> RoomState:
    return replace(state, notes=state.notes + 1)
