"""The train itself: opening a run, promotion through its gates, rollbacks, done and abandoned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from warroom.core.guards import the_train, train_running, with_train
from warroom.core.model import Actor, Code, Command, Event, Reject, Role, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import CONDUCTOR_ONLY
from warroom.core.runbook import RunbookError, from_data, to_data
from warroom.core.schema import Field
from warroom.core.train import Item, Train, TrainStatus

# `expect` names the stage the sender saw in progress, so a confirmation made against a stale
# view (a double press, a hand-off) is refused instead of moving a stage nobody confirmed.
_EXPECT = {"expect": Field(str, required=False, max_len=32)}
_OVERRIDE = {"override": Field(str, required=False, max_len=500), **_EXPECT}


def _moved_on(state: RoomState, args: Mapping[str, Any]) -> Reject | None:
    """A confirmation of a running train's stage that is no longer the one in progress."""
    train, expect = state.train, args.get("expect")
    if train is None or train.finished or expect is None or expect == train.stage:
        return None
    return Reject(
        Code.CONFLICT,
        f"the train moved on: {train.stage} is in progress now, not {expect}; look again and retry",
    )


def _may_promote(state: RoomState, actor: Actor) -> Reject | None:
    refused = train_running(state, actor)
    if refused is not None:
        return refused
    train = the_train(state)
    if train.rollback == "full":
        return Reject(
            Code.CONFLICT, "the train was fully rolled back; abandon it, then open a new run"
        )
    if train.current + 1 >= len(train.stages):
        return Reject(Code.CONFLICT, f"{train.stage} is the last stage; mark the train done")
    return None


def _may_roll_back(state: RoomState, actor: Actor) -> Reject | None:
    refused = train_running(state, actor)
    if refused is None and the_train(state).rollback == "full":
        return Reject(Code.CONFLICT, "every stage is already rolled back")
    return refused


def _scope_refused(train: Train, scope: str) -> Reject | None:
    if scope == "partial" and train.current == 0:
        return Reject(
            Code.CONFLICT,
            f"nothing to roll back: {train.stage} is the first stage; "
            "use a full rollback to take it back too",
        )
    return None


def rollback_scopes(state: RoomState) -> tuple[str, ...]:
    """The scopes `rollback` takes now ("partial", "full"), once its precondition holds."""
    train = state.train
    if train is None:
        return ()
    return tuple(s for s in ("partial", "full") if _scope_refused(train, s) is None)


def _may_finish(state: RoomState, actor: Actor) -> Reject | None:
    refused = train_running(state, actor)
    if refused is not None:
        return refused
    train = the_train(state)
    if train.rollback == "full":
        return Reject(Code.CONFLICT, "the train was fully rolled back; abandon it instead")
    if train.current + 1 < len(train.stages):
        left = ", ".join(train.stages[train.current + 1 :])
        return Reject(Code.CONFLICT, f"stages not promoted yet: {left}")
    return None


def _no_train_running(state: RoomState, actor: Actor) -> Reject | None:
    if state.train is not None and not state.train.finished:
        return Reject(
            Code.CONFLICT,
            f"train {state.train.version} is still running; mark it done or abandon it first",
        )
    return None


def gates(state: RoomState) -> list[str]:
    """Every unmet condition for leaving the current stage, in words; empty when clear."""
    train = state.train
    assert train is not None
    unmet: list[str] = []
    open_items = [i for i in train.stage_items(train.stage) if i.required and not i.done]
    if open_items:
        names = ", ".join(f'"{i.text}"' for i in open_items)
        s = "s" if len(open_items) > 1 else ""
        unmet.append(f"{len(open_items)} required item{s} unticked in {train.stage}: {names}")
    for b in train.open_blockers():
        unmet.append(f"blocker {b.link or b.id} is open: {b.reason}")
    present = sum(1 for m in state.present() if m.role is not Role.VISITOR)
    need = train.rules.min_present
    if present < need:
        unmet.append(f"only {present} of the {need} people needed are present (never alone)")
    return unmet


def _gated(state: RoomState, cmd: Command, act: str) -> tuple[list[str], str] | Reject:
    """The unmet gates and the override reason, or the rejection when unmet and not overridden."""
    unmet = gates(state)
    reason = cmd.args.get("override", "").strip()
    if unmet and not reason:
        return Reject(
            Code.GATED,
            f"cannot {act}: "
            + "; ".join(unmet)
            + " (the conductor may override with a written reason)",
        )
    return (unmet, reason) if unmet else ([], "")


@op(
    "open_train",
    CONDUCTOR_ONLY,
    {"runbook": Field(dict), "version": Field(str, min_len=1, max_len=80)},
    summary="start a train run from a runbook",
    pre=_no_train_running,
)
def _open(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    try:
        runbook = from_data(cmd.args["runbook"])
    except RunbookError as exc:
        return Reject(Code.INVALID, str(exc))
    data = {"runbook": to_data(runbook), "version": cmd.args["version"].strip()}
    return [Event("train_opened", cmd.ts, actor.name, data)]


@op(
    "promote",
    CONDUCTOR_ONLY,
    _OVERRIDE,
    summary="promote the next stage",
    pre=_may_promote,
    stale=_moved_on,
)
def _promote(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    gated = _gated(state, cmd, f"promote {train.stages[train.current + 1]}")
    if isinstance(gated, Reject):
        return gated
    unmet, reason = gated
    data = {
        "from": train.stage,
        "to": train.stages[train.current + 1],
        "overrode": unmet,
        "reason": reason,
    }
    return [Event("promoted", cmd.ts, actor.name, data)]


@op(
    "rollback",
    CONDUCTOR_ONLY,
    {
        "scope": Field(str, choices=("partial", "full")),
        "reason": Field(str, required=False, max_len=500),
        **_EXPECT,
    },
    summary="roll back the last promoted stage (partial) or every stage (full)",
    pre=_may_roll_back,
    stale=_moved_on,
)
def _rollback(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    scope = cmd.args["scope"]
    refused = _scope_refused(train, scope)
    if refused is not None:
        return refused
    data = {
        "scope": scope,
        "from": train.stage,
        "reason": cmd.args.get("reason", "").strip(),
        "to": train.stages[train.current - 1] if scope == "partial" else "",
        # The vote this carries out, and the time since the incident began, for the record.
        "vote": train.approved_by_vote if train.approved == scope else "",
        "ttr": round(cmd.ts - train.incident_at, 1) if train.incident_at else None,
    }
    return [Event("rolled_back", cmd.ts, actor.name, data)]


@op(
    "finish_train",
    CONDUCTOR_ONLY,
    _OVERRIDE,
    summary="mark the train done",
    pre=_may_finish,
    stale=_moved_on,
)
def _finish(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    gated = _gated(state, cmd, "mark the train done")
    if isinstance(gated, Reject):
        return gated
    unmet, reason = gated
    return [Event("train_done", cmd.ts, actor.name, {"overrode": unmet, "reason": reason})]


@op(
    "abandon_train",
    CONDUCTOR_ONLY,
    {"reason": Field(str, min_len=1, max_len=500)},
    summary="abandon the train, with a reason",
    pre=train_running,
)
def _abandon(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    return [Event("train_abandoned", cmd.ts, actor.name, {"reason": cmd.args["reason"].strip()})]


def _said_opened(e: Event) -> str:
    rb = e.data["runbook"]
    stages = " → ".join(s["name"] for s in rb["stages"])
    return f"{e.actor} opened train {e.data['version']} ({rb['name']}: {stages})"


def _overriding(e: Event) -> str:
    if not e.data["overrode"]:
        return ""
    return f", overriding ({'; '.join(e.data['overrode'])}) because: {e.data['reason']}"


@applies("train_opened", _said_opened)
def _opened(state: RoomState, e: Event) -> RoomState:
    runbook = from_data(e.data["runbook"])
    items: list[Item] = []
    for stage in runbook.stages:
        for spec in stage.items:
            items.append(
                Item(
                    f"i{len(items) + 1}",
                    stage.name,
                    spec.text,
                    spec.hint,
                    spec.required,
                    spec.who,
                    spec.assignee,
                )
            )
    train = Train(
        runbook.name,
        e.data["version"],
        tuple(s.name for s in runbook.stages),
        tuple(items),
        runbook.rules,
        e.actor,
        e.ts,
        counter=len(items),
    )
    return replace(state, train=train)


@applies("promoted", lambda e: f"{e.actor} promoted {e.data['to']}" + _overriding(e))
def _promoted(state: RoomState, e: Event) -> RoomState:
    # Promoting instead of rolling back sets an approved rollback aside.
    return with_train(
        state,
        lambda t: replace(t, current=t.current + 1, rollback="", approved="", approved_by_vote=""),
    )


def _said_rollback(e: Event) -> str:
    why = f": {e.data['reason']}" if e.data["reason"] else ""
    voted = f", as vote {e.data['vote']} decided" if e.data.get("vote") else ""
    ttr = e.data.get("ttr")
    recovery = (
        f" — time to recovery {duration(ttr)} since the first alert or blocker" if ttr else ""
    )
    if e.data["scope"] == "full":
        return f"{e.actor} rolled back every stage to the previous version{voted}{why}{recovery}"
    return f"{e.actor} rolled back {e.data['from']} (back to {e.data['to']}){voted}{why}{recovery}"


def duration(seconds: float) -> str:
    """A span as people say it: 45s, 12m 30s, 2h 05m."""
    total = int(round(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    return f"{total // 3600}h {total % 3600 // 60:02d}m"


@applies("rolled_back", _said_rollback)
def _rolled_back(state: RoomState, e: Event) -> RoomState:
    def back(t: Train) -> Train:
        t = replace(t, approved="", approved_by_vote="", incident_at=0.0)
        if e.data["scope"] == "full":
            return replace(t, rollback="full", status=TrainStatus.ROLLED_BACK)
        return replace(t, current=t.current - 1, rollback="partial")

    state = with_train(state, back)
    if e.data.get("vote") and state.vote is not None and state.vote.id == e.data["vote"]:
        state = replace(state, vote=replace(state.vote, executed=True))
    return state


@applies("train_done", lambda e: f"{e.actor} marked the train done" + _overriding(e))
def _done(state: RoomState, e: Event) -> RoomState:
    return with_train(state, lambda t: replace(t, status=TrainStatus.DONE, ended_at=e.ts))


@applies("train_abandoned", lambda e: f"{e.actor} abandoned the train: {e.data['reason']}")
def _abandoned(state: RoomState, e: Event) -> RoomState:
    return with_train(
        state,
        lambda t: replace(
            t, status=TrainStatus.ABANDONED, ended_at=e.ts, end_reason=e.data["reason"]
        ),
    )
