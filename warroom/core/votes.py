"""The group rollback vote: roll back the last stage, every stage, or hold, decided together.

One vote at a time. The electorate is every non-visitor present when it opens, plus those who
join while it is open; one ballot per person, changeable until it closes. It passes when the
yes ballots reach a majority of the electorate and at least `min_yes` (never one person alone),
fails once it cannot pass on the ballots cast and those still to come, and expires at its
deadline. The hub sends `expire_vote` at the deadline; time is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from warroom.core.guards import running_train
from warroom.core.model import Actor, Code, Command, Event, Reject, Role, RoomState
from warroom.core.registry import ACTORS, CONDUCTOR_ONLY, EVERYONE, applies, op
from warroom.core.schema import Field

PROPOSALS = ("partial", "full", "hold")
MIN_YES = 2
WORDS = {
    "partial": "roll back the last stage",
    "full": "roll back every stage",
    "hold": "hold and investigate",
}


@dataclass(frozen=True, slots=True)
class Ballot:
    """One person's current ballot."""

    name: str
    yes: bool
    comment: str
    ts: float


def _no_ballots() -> Mapping[str, Ballot]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Vote:
    """A vote, open (outcome "") or closed with its outcome and every ballot."""

    id: str
    proposal: str
    reason: str
    ref: str
    called_by: str
    opened_at: float
    deadline: float
    electorate: frozenset[str]
    ballots: Mapping[str, Ballot] = field(default_factory=_no_ballots)
    outcome: str = ""  # passed, failed, expired or cancelled once closed
    closed_at: float = 0.0
    close_reason: str = ""
    executed: bool = False

    @property
    def open(self) -> bool:
        return not self.outcome

    @property
    def needed(self) -> int:
        """Yes ballots needed: a majority of the electorate, and never fewer than two."""
        return max(MIN_YES, len(self.electorate) // 2 + 1)

    def tally(self) -> tuple[int, int]:
        """(yes, no) ballots cast so far."""
        yes = sum(1 for b in self.ballots.values() if b.yes)
        return yes, len(self.ballots) - yes

    def settled(self) -> str:
        """ "passed" or "failed" when the ballots decide it now, else ""."""
        yes, _ = self.tally()
        if yes >= self.needed:
            return "passed"
        still_to_vote = len(self.electorate - set(self.ballots))
        return "failed" if yes + still_to_vote < self.needed else ""


def _open_vote(state: RoomState) -> Vote | Reject:
    if state.vote is None or not state.vote.open:
        return Reject(Code.CONFLICT, "no vote is open")
    return state.vote


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
)
def _call(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = running_train(state)
    if isinstance(train, Reject):
        return train
    if state.vote is not None and state.vote.open:
        return Reject(Code.CONFLICT, f"a vote is already open ({state.vote.id}); one at a time")
    seconds = cmd.args.get("deadline", train.rules.vote_window)
    if not 10 <= seconds <= 86_400:
        return Reject(Code.INVALID, "deadline must be 10 to 86400 seconds")
    if cmd.args["proposal"] == "partial" and train.current == 0:
        return Reject(Code.CONFLICT, f"nothing to roll back: {train.stage} is the first stage")
    if cmd.args["proposal"] != "hold" and train.rollback == "full":
        return Reject(Code.CONFLICT, "every stage is already rolled back")
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
)
def _ballot(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    vote = _open_vote(state)
    if isinstance(vote, Reject):
        return vote
    if cmd.args.get("vote", vote.id) != vote.id:
        return Reject(Code.CONFLICT, f"{cmd.args['vote']} is not the open vote; {vote.id} is")
    if actor.name not in vote.electorate:
        return Reject(Code.FORBIDDEN, f"{actor.name} is not in the electorate of {vote.id}")
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
)
def _cancel(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    vote = _open_vote(state)
    if isinstance(vote, Reject):
        return vote
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


def enfranchise(state: RoomState, name: str, role: Role) -> RoomState:
    """A non-visitor who joins while a vote is open may vote on it."""
    vote = state.vote
    if vote is None or not vote.open or role is Role.VISITOR or name in vote.electorate:
        return state
    return replace(state, vote=replace(vote, electorate=vote.electorate | {name}))
