"""Alerts the hub raises (error spikes in the logs) and feeders' exit statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from warroom.core.model import Actor, Alert, Command, Event, Reject, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import ACTORS, EVERYONE
from warroom.core.schema import Field

__all__ = ["KEEP_ALERTS", "Alert"]  # Alert lives in `warroom.core.model`

KEEP_ALERTS = 50


@op(
    "raise_alert",
    EVERYONE,
    {"source": Field(str, max_len=64), "text": Field(str, min_len=1, max_len=300)},
    public=False,
)
def _raise(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    data = {"alert": f"a{state.alert_count + 1}", **cmd.args}
    return [Event("alert_raised", cmd.ts, actor.name, data)]


@op(
    "feed_exited",
    ACTORS,
    {"source": Field(str, min_len=1, max_len=64), "status": Field(int)},
    summary="report that a feeder's command ended, with its exit status",
)
def _exited(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    return [Event("feed_exited", cmd.ts, actor.name, dict(cmd.args))]


@applies("alert_raised", lambda e: f"ALERT {e.data['text']}")
def _raised(state: RoomState, e: Event) -> RoomState:
    alert = Alert(e.data["alert"], e.ts, e.data["source"], e.data["text"])
    state = replace(
        state, alerts=(*state.alerts, alert)[-KEEP_ALERTS:], alert_count=state.alert_count + 1
    )
    if state.train is not None and not state.train.incident_at:
        state = replace(state, train=replace(state.train, incident_at=e.ts))
    return state


def _said_exit(e: Event) -> str:
    status = e.data["status"]
    how = "finished (exit status 0)" if status == 0 else f"FAILED with exit status {status}"
    return f"feeder {e.data['source']}: command {how}"


@applies("feed_exited", _said_exit)
def _feed_exited(state: RoomState, e: Event) -> RoomState:
    return replace(state, feeds={**state.feeds, e.data["source"]: e.data["status"]})
