"""The group rollback vote: roll back the last stage, every stage, or hold, decided together.

One vote at a time. The electorate is every non-visitor present when it opens, plus those who
join while it is open; one ballot per person, changeable until it closes. It passes when the
yes ballots reach a majority of the electorate and at least `MIN_YES` (never one person alone),
fails once it cannot pass on the ballots cast and those still to come, and expires at its
deadline. The hub sends `expire_vote` at the deadline; time is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from warroom.core.guards import the_train, train_running
from warroom.core.model import (
    MIN_YES,
    PROPOSALS,
    WORDS,
    Actor,
    Ballot,
    Code,
    Command,
    Deadline,
    Event,
    Reject,
    Role,
    RoomState,
    Vote,
)
from warroom.core.registry import also_applies, applies, deadlines, op
from warroom.core.roles import ACTORS, CONDUCTOR_ONLY, EVERYONE
from warroom.core.schema import Field
from warroom.core.train import Train

# The values live in `warroom.core.model`; these names are read from here too.
__all__ = [
    "MAX_DEADLINE",
    "MIN_DEADLINE",
    "MIN_YES",
    "PROPOSALS",
    "WORDS",
    "Ballot",
    "Vote",
    "open_proposals",
]

MIN_DEADLINE, MAX_DEADLINE = 10, 86_400  # seconds a vote may be called for


def _open_vote(state: RoomState) -> Vote:
    """The open vote, for a decider whose precondition made sure there is one."""
    assert state.vote is not None and state.vote.open
    return state.vote


def _vote_open(state: RoomState, actor: Actor) -> Reject | None:
    if state.vote is None or not state.vote.open:
        return Reject(Code.CONFLICT, "no vote is open")
    return None


def _no_vote_open(state: RoomState, actor: Actor) -> Reject | None:
    if state.vote is not None and state.vote.open:
        return Reject(Code.CONFLICT, f"a vote is already open ({state.vote.id}); one at a time")
    return None


def _may_call(state: RoomState, actor: Actor) -> Reject | None:
    refused = train_running(state, actor)
    return refused if refused is not None else _no_vote_open(state, actor)


def _may_vote(state: RoomState, actor: Actor) -> Reject | None:
    refused = _vote_open(state, actor)
    if refused is not None:
        return refused
    vote = _open_vote(state)
    if actor.name not in vote.electorate:
        return Reject(Code.FORBIDDEN, f"{actor.name} is not in the electorate of {vote.id}")
    return None


def _proposal_refused(train: Train, proposal: str) -> Reject | None:
    if proposal == "partial" and train.current == 0:
        return Reject(Code.CONFLICT, f"nothing to roll back: {train.stage} is the first stage")
    if proposal != "hold" and train.rollback == "full":
        return Reject(Code.CONFLICT, "every stage is already rolled back")
    return None


def open_proposals(state: RoomState) -> tuple[str, ...]:
    """The proposals `call_vote` takes now, in `PROPOSALS` order (a form offers these)."""
    train = state.train
    if train is None:
        return ()
    return tuple(p for p in PROPOSALS if _proposal_refused(train, p) is None)


def _another_vote(state: RoomState, args: Mapping[str, Any]) -> Reject | None:
    """A ballot naming a vote other than the open one was meant for a vote that closed."""
    vote = state.vote
    if vote is None or not vote.open or args.get("vote", vote.id) == vote.id:
        return None
    return Reject(Code.CONFLICT, f"{args['vote']} is not the open vote; {vote.id} is")


def _closing(vote: Vote, ts: float, outcome: str, why: str = "") -> list[Event]:
    """The events that close `vote`: its result with every ballot, and a blocker for a hold."""
    yes, no = vote.tally()
    ballots = [
        {"name": b.name, "yes": b.yes, "comment": b.comment}
        for b in sorted(vote.ballots.values(), key=lambda b: b.name)
    ]
    data = {
        "vote": vote.id,
        "proposal": vote.proposal,
        "outcome": outcome,
        "yes": yes,
        "no": no,
        "needed": vote.needed,
        "ballots": ballots,
        "reason": why,
    }
    events = [Event("vote_closed", ts, "hub", data)]
    if outcome == "passed" and vote.proposal == "hold":
        events.append(
            Event(
                "blocker_raised",
                ts,
                "hub",
                {
                    "blocker": f"{vote.id}-hold",
                    "reason": f"the room voted to hold: {vote.reason}",
                    "link": "",
                    "stage": "",
                },
            )
        )
    return events


@op(
    "call_vote",
    ACTORS,
    {
        "proposal": Field(str, choices=PROPOSALS),
        "reason": Field(str, min_len=1, max_len=500),
        "ref": Field(str, required=False, max_len=300),
        "deadline": Field(int, required=False),
    },
    summary="call a vote: partial or full rollback, or hold; deadline in seconds",
    pre=_may_call,
)
def _call(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    seconds = cmd.args.get("deadline", train.rules.vote_window)
    if not MIN_DEADLINE <= seconds <= MAX_DEADLINE:
        return Reject(Code.INVALID, f"deadline must be {MIN_DEADLINE} to {MAX_DEADLINE} seconds")
    refused = _proposal_refused(train, cmd.args["proposal"])
    if refused is not None:
        return refused
    electorate = sorted(m.name for m in state.present() if m.role is not Role.VISITOR)
    data: dict[str, Any] = {
        "vote": f"v{state.votes_held + 1}",
        "proposal": cmd.args["proposal"],
        "reason": cmd.args["reason"].strip(),
        "ref": cmd.args.get("ref", "").strip(),
        "deadline": cmd.ts + seconds,
        "electorate": electorate,
    }
    return [Event("vote_opened", cmd.ts, actor.name, data)]


@op(
    "ballot",
    ACTORS,
    {
        "choice": Field(str, choices=("yes", "no")),
        "comment": Field(str, required=False, max_len=300),
        "vote": Field(str, required=False, max_len=16),
    },
    summary="cast or change your ballot on the open vote",
    pre=_may_vote,
    stale=_another_vote,
)
def _ballot(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    vote = _open_vote(state)
    yes = cmd.args["choice"] == "yes"
    comment = cmd.args.get("comment", "").strip()
    old = vote.ballots.get(actor.name)
    if old is not None and old.yes == yes and old.comment == comment:
        return []  # the same ballot again (a retry, a double press) changes nothing
    event = Event(
        "ballot_cast",
        cmd.ts,
        actor.name,
        {"vote": vote.id, "yes": yes, "comment": comment, "changed": old is not None},
    )
    after = replace(
        vote,
        ballots=MappingProxyType(
            {**vote.ballots, actor.name: Ballot(actor.name, yes, comment, cmd.ts)}
        ),
    )
    outcome = after.settled()
    return [event, *(_closing(after, cmd.ts, outcome) if outcome else [])]


@op(
    "cancel_vote",
    CONDUCTOR_ONLY,
    {"reason": Field(str, min_len=1, max_len=500)},
    summary="cancel the open vote, with a written reason",
    pre=_vote_open,
)
def _cancel(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    vote = _open_vote(state)
    reason = f"cancelled by {actor.name}: {cmd.args['reason'].strip()}"
    return _closing(vote, cmd.ts, "cancelled", reason)


@op("expire_vote", EVERYONE, {"vote": Field(str, max_len=16)}, public=False)
def _expire(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    vote = state.vote
    if vote is None or vote.id != cmd.args["vote"] or not vote.open or cmd.ts < vote.deadline:
        return []  # already closed, or the timer fired early: nothing to do
    return _closing(vote, cmd.ts, "expired", "the deadline passed")


def _said_opened(e: Event) -> str:
    d = e.data
    ref = f" ({d['ref']})" if d["ref"] else ""
    return (
        f"{e.actor} called a vote to {WORDS[d['proposal']]}: {d['reason']}{ref}; "
        f"{len(d['electorate'])} may vote"
    )


def _said_ballot(e: Event) -> str:
    comment = f" — {e.data['comment']}" if e.data["comment"] else ""
    verb = "changed their ballot to" if e.data["changed"] else "voted"
    return f"{e.actor} {verb} {'yes' if e.data['yes'] else 'no'} on {e.data['vote']}{comment}"


def _said_closed(e: Event) -> str:
    d = e.data
    ballots = ", ".join(f"{b['name']} {'yes' if b['yes'] else 'no'}" for b in d["ballots"])
    why = f" ({d['reason']})" if d["reason"] else ""
    return (
        f"vote {d['vote']} to {WORDS[d['proposal']]} {d['outcome'].upper()}{why}: "
        f"{d['yes']} yes, {d['no']} no, {d['needed']} needed [{ballots or 'no ballots'}]"
    )


@applies("vote_opened", _said_opened)
def _opened(state: RoomState, e: Event) -> RoomState:
    d = e.data
    vote = Vote(
        d["vote"],
        d["proposal"],
        d["reason"],
        d["ref"],
        e.actor,
        e.ts,
        float(d["deadline"]),
        frozenset(d["electorate"]),
    )
    return replace(state, vote=vote, votes_held=state.votes_held + 1)


@applies("ballot_cast", _said_ballot)
def _cast(state: RoomState, e: Event) -> RoomState:
    vote = state.vote
    assert vote is not None
    ballot = Ballot(e.actor, e.data["yes"], e.data["comment"], e.ts)
    return replace(
        state, vote=replace(vote, ballots=MappingProxyType({**vote.ballots, e.actor: ballot}))
    )


@applies("vote_closed", _said_closed)
def _closed(state: RoomState, e: Event) -> RoomState:
    vote = state.vote
    assert vote is not None
    closed = replace(vote, outcome=e.data["outcome"], closed_at=e.ts, close_reason=e.data["reason"])
    state = replace(state, vote=closed)
    train = state.train
    if e.data["outcome"] == "passed" and vote.proposal != "hold" and train and not train.finished:
        # The room approved a rollback: the train shows it until the conductor carries it out.
        state = replace(
            state, train=replace(train, approved=vote.proposal, approved_by_vote=vote.id)
        )
    return state


@also_applies("joined")
def _enfranchise(state: RoomState, e: Event) -> RoomState:
    """A non-visitor who joins while a vote is open may vote on it."""
    vote = state.vote
    if (
        vote is None
        or not vote.open
        or e.data["role"] == Role.VISITOR
        or e.actor in vote.electorate
    ):
        return state
    return replace(state, vote=replace(vote, electorate=vote.electorate | {e.actor}))


@deadlines
def _vote_deadline(state: RoomState) -> list[Deadline]:
    """An open vote expires at its deadline."""
    vote = state.vote
    if vote is None or not vote.open:
        return []
    return [Deadline(vote.deadline, "expire_vote", {"vote": vote.id})]
