"""The manifest in the room core: publishing in chunks, marks, call-ins, recent deployers."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.train_helpers import ANA, RAJ, VIC, Room, opened, runbook_data, tick_stage
from warroom.core import Actor, Code, Reject, Role, describe, replay
from warroom.core.changes import CHUNK, MAX_COMMITS, changes_of
from warroom.core.commits import Commit, commit_to_data
from warroom.core.deployers import reached, recent_deployers
from warroom.core.schema import Field, check_args
from warroom.core.wire import state_from_wire, state_to_wire

BO = Actor("bo", Role.ENGINEER, "c4", "UTC")


def sha_of(n: int) -> str:
    return f"c0ffee{n:04x}".ljust(40, "0")


def commit(n: int, author: str = "Raj Patel", email: str = "raj@example.org", **more: Any) -> dict:
    """A commit's data form: sha c0ffee<n>0000..., short c0ffee<n>."""
    data = commit_to_data(
        Commit(
            sha=sha_of(n),
            short=sha_of(n)[:10],
            author=author,
            email=email,
            date=1_790_000_000 + n,
            subject=f"Change {n}",
            files=(("includes/Foo.php", 3, 1, ""),),  # type: ignore[arg-type]
        )
    )
    data.update(more)
    return data


def begin(room: Room, actor: Actor = RAJ, repo: str = "mediawiki", count: int = 3, **more: Any):
    args = {
        "repo": repo,
        "batch": "b1",
        "from": "1.44.0-wmf.4",
        "to": "1.44.0-wmf.5",
        "from_sha": "1" * 40,
        "to_sha": "2" * 40,
        "count": count,
        "path": "/home/raj/mediawiki",
        **more,
    }
    return room.ok(actor, "manifest_begin", **args)


def add(
    room: Room, commits: list[dict], offset: int = 0, batch: str = "b1", repo: str = "mediawiki"
):
    return room.ok(RAJ, "manifest_add", repo=repo, batch=batch, offset=offset, commits=commits)


def published(commits: list[dict] | None = None, repo: str = "mediawiki") -> Room:
    room = opened()
    commits = commits if commits is not None else [commit(1), commit(2, "Bo Chen", "bo@x.net")]
    begin(room, repo=repo, count=len(commits))
    add(room, commits, repo=repo)
    return room


def test_a_manifest_arrives_in_chunks_and_is_complete_only_at_the_end() -> None:
    room = opened()
    (event,) = begin(room, count=3)
    assert describe(event) == (
        "raj is publishing the manifest of mediawiki: 3 commits, 1.44.0-wmf.4..1.44.0-wmf.5"
    )
    manifest = changes_of(room.state).repo("mediawiki")
    assert manifest is not None and not manifest.complete and manifest.commits == ()
    (event,) = add(room, [commit(1), commit(2)])
    assert describe(event) == "raj sent commits 1–2 of 3 for mediawiki"
    manifest = changes_of(room.state).repo("mediawiki")
    assert manifest is not None and not manifest.complete and len(manifest.commits) == 2
    (event,) = add(room, [commit(3, "Bo Chen", "bo@x.net")], offset=2)
    assert describe(event) == "raj published the manifest of mediawiki: 3 commits by 2 people"
    manifest = changes_of(room.state).repo("mediawiki")
    assert manifest is not None and manifest.complete
    assert [c.subject for c in manifest.commits] == ["Change 1", "Change 2", "Change 3"]
    assert (manifest.published_by, manifest.path, manifest.to_rev) == (
        "raj",
        "/home/raj/mediawiki",
        "1.44.0-wmf.5",
    )


def test_publishing_again_replaces_the_commits_and_stale_chunks_are_refused() -> None:
    room = published()
    (event,) = begin(room, actor=ANA, count=1, batch="b2")
    assert "publishing the manifest of mediawiki again" in describe(event)
    stale = room.refused(
        RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=0, commits=[commit(9)]
    )
    assert stale.code is Code.CONFLICT and "published again by ana" in stale.reason
    add(room, [commit(7)], batch="b2")
    manifest = changes_of(room.state).repo("mediawiki")
    assert manifest is not None and manifest.complete
    assert [c.subject for c in manifest.commits] == ["Change 7"]
    assert len(changes_of(room.state).repos) == 1


def test_repositories_keep_their_order_and_a_drop_removes_one() -> None:
    room = published()
    begin(room, repo="mediawiki/extensions/Cart", count=1)
    add(room, [commit(5)], repo="mediawiki/extensions/Cart")
    assert [m.repo for m in changes_of(room.state).repos] == [
        "mediawiki",
        "mediawiki/extensions/Cart",
    ]
    (event,) = room.ok(ANA, "manifest_drop", repo="mediawiki")
    assert describe(event) == "ana took mediawiki out of the manifest (2 commits)"
    assert [m.repo for m in changes_of(room.state).repos] == ["mediawiki/extensions/Cart"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (
            {"repo": "nope"},
            Code.INVALID,
            "no manifest for repository 'nope' (published: mediawiki)",
        ),
        ({"offset": 1}, Code.CONFLICT, "expected commits from offset 0, not 1"),
        ({"commits": [commit(1)] * 2}, Code.INVALID, "listed twice"),
        ({"commits": [commit(i) for i in range(4)]}, Code.INVALID, "more commits than the 3"),
        ({"commits": []}, Code.INVALID, "needs at least 1 item"),
        ({"commits": [commit(1)] * (CHUNK + 1)}, Code.INVALID, f"more than {CHUNK} items"),
        ({"commits": "x"}, Code.INVALID, "argument 'commits' must be a list"),
        ({"commits": [[1]]}, Code.INVALID, "commits[0]: must be a map"),
        ({"commits": [commit(1, sha="xyz")]}, Code.INVALID, "sha must be 40 or 64"),
        ({"commits": [commit(1, short="bbbbbbb")]}, Code.INVALID, "short must be a prefix"),
        ({"commits": [commit(1, date=True)]}, Code.INVALID, "date must be an integer"),
        ({"commits": [commit(1, merge=1)]}, Code.INVALID, "merge must be a boolean"),
        ({"commits": [commit(1, subject="s" * 301)]}, Code.INVALID, "subject must be a string"),
        ({"commits": [commit(1, files=[["a", 1, 0]])]}, Code.INVALID, "files[0] must be"),
        ({"commits": [commit(1, files=[["", 1, 0, ""]])]}, Code.INVALID, "paths must be"),
        ({"commits": [commit(1, files=[["a", -1, 0, ""]])]}, Code.INVALID, "both -1 for binary"),
        ({"commits": [commit(1, trailers=[["Bug", 5]])]}, Code.INVALID, "trailers[0]: value"),
        ({"commits": [commit(1, trailers=[["a b", "x"]])]}, Code.INVALID, "trailers[0]: key"),
        ({"commits": [commit(1, reverts="zz")]}, Code.INVALID, "reverts must be"),
        ({"commits": [{**commit(1), "extra": 1}]}, Code.INVALID, "unknown key 'extra'"),
        (
            {"commits": [{k: v for k, v in commit(1).items() if k != "email"}]},
            Code.INVALID,
            "missing key 'email'",
        ),
    ],
)
def test_bad_chunks_are_refused_with_the_reason(args: dict, code: Code, words: str) -> None:
    room = opened()
    begin(room, count=3)
    full = {"repo": "mediawiki", "batch": "b1", "offset": 0, "commits": [commit(1)], **args}
    refused = room.refused(RAJ, "manifest_add", **full)
    assert refused.code is code and words in refused.reason, refused.reason


def test_a_complete_manifest_takes_no_more() -> None:
    room = published()
    refused = room.refused(
        RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=2, commits=[commit(3)]
    )
    assert refused.code is Code.CONFLICT and "already complete" in refused.reason


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"repo": "has space"}, "repo: use up to 64 letters"),
        ({"repo": "-x"}, "repo: use up to 64 letters"),
        ({"from_sha": "Z" * 40}, "from_sha must be 40 or 64"),
        ({"to_sha": "a" * 41}, "to_sha must be 40 or 64"),
        ({"count": 0}, f"count must be 1 to {MAX_COMMITS}"),
        ({"count": MAX_COMMITS + 1}, f"count must be 1 to {MAX_COMMITS}"),
        ({"count": "3"}, "argument 'count' must be an integer"),
        ({"batch": ""}, "argument 'batch' must not be empty"),
        ({"path": "p" * 1001}, "longer than 1000"),
        ({"colour": "red"}, "unknown argument 'colour'"),
    ],
)
def test_bad_beginnings_are_refused(args: dict, words: str) -> None:
    room = opened()
    base = {
        "repo": "mediawiki",
        "batch": "b1",
        "from": "a",
        "to": "b",
        "from_sha": "1" * 40,
        "to_sha": "2" * 40,
        "count": 3,
    }
    refused = room.refused(RAJ, "manifest_begin", **{**base, **args})
    assert refused.code is Code.INVALID and words in refused.reason, refused.reason


def test_visitors_can_publish_nothing_and_mark_nothing() -> None:
    room = published()
    for op, args in [
        ("manifest_begin", {}),
        ("manifest_add", {}),
        ("manifest_drop", {"repo": "mediawiki"}),
        ("mark_commit", {"repo": "mediawiki", "sha": sha_of(1), "safe": True}),
        ("call_in", {"repo": "mediawiki", "sha": sha_of(1)}),
    ]:
        refused = room.refused(VIC, op, **args)
        assert refused.code is Code.FORBIDDEN and "read-only" in refused.reason


def test_no_train_is_needed_to_publish() -> None:
    room = Room()
    room.join(RAJ)
    begin(room, count=1)
    add(room, [commit(1)])
    assert changes_of(room.state).repos[0].complete


def test_marks_are_kept_per_commit_and_shown_wherever_it_appears() -> None:
    room = published()
    sha = commit(1)["sha"]
    (event,) = room.ok(RAJ, "mark_commit", repo="mediawiki", sha=sha[:10], safe=True)
    assert describe(event) == "raj marked c0ffee0001 (Change 1) safe to revert"
    refused = room.refused(BO, "mark_commit", repo="mediawiki", sha=sha, safe=False, why="  ")
    assert refused.code is Code.INVALID and "say why" in refused.reason
    room.join(BO)
    (event,) = room.ok(
        BO,
        "mark_commit",
        repo="mediawiki",
        sha=sha.upper()[:12],
        safe=False,
        why="it drops a column",
    )
    assert (
        describe(event) == "bo marked c0ffee0001 (Change 1) not safe to revert (it drops a column)"
    )
    mark = changes_of(room.state).mark("mediawiki", sha)
    assert mark is not None and (mark.safe, mark.why, mark.by) == (False, "it drops a column", "bo")
    # The same mark again changes nothing; publishing again keeps it (the same commit).
    assert (
        room.ok(BO, "mark_commit", repo="mediawiki", sha=sha, safe=False, why="it drops a column")
        == []
    )
    begin(room, count=1, batch="b2")
    assert changes_of(room.state).mark("mediawiki", sha) == mark
    room.ok(ANA, "manifest_drop", repo="mediawiki")
    assert changes_of(room.state).marks == {}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"repo": "core"}, "no manifest for repository 'core'"),
        ({"sha": "ffffffff"}, "no commit ffffffff in the manifest of mediawiki"),
        ({"sha": "c0f"}, "argument 'sha' must be at least 4 characters"),
        ({"sha": "c0ffee"}, "c0ffee names 2 commits in mediawiki; give more"),
        ({"sha": "xyz!"}, "'xyz!' is not a commit sha"),
        ({"safe": "yes"}, "argument 'safe' must be a boolean"),
        ({"why": "w" * 501}, "longer than 500"),
    ],
)
def test_marks_name_a_known_commit(args: dict, words: str) -> None:
    room = published()
    base = {"repo": "mediawiki", "sha": sha_of(1)[:10], "safe": True}
    refused = room.refused(RAJ, "mark_commit", **{**base, **args})
    assert refused.code is Code.INVALID and words in refused.reason, refused.reason


def test_calling_someone_in_reads_as_a_sentence_and_is_kept() -> None:
    room = published()
    sha = commit(1)["sha"]
    (event,) = room.ok(
        ANA,
        "call_in",
        repo="mediawiki",
        sha=sha[:10],
        author="raj",
        evidence="changed includes/Foo.php line 123",
    )
    assert describe(event) == (
        "ana called in raj for c0ffee0001 (Change 1): changed includes/Foo.php line 123"
    )
    assert event.data["email"] == "raj@example.org" and event.data["sha"] == sha
    (event,) = room.ok(RAJ, "call_in", repo="mediawiki", sha=commit(2)["sha"])
    assert describe(event) == f"raj called in Bo Chen for {commit(2)['short']} (Change 2)"
    calls = changes_of(room.state).calls
    assert [(c.author, c.by, c.evidence) for c in calls] == [
        ("raj", "ana", "changed includes/Foo.php line 123"),
        ("Bo Chen", "raj", ""),
    ]
    refused = room.refused(ANA, "call_in", repo="mediawiki", sha="c0ffee0009")
    assert refused.code is Code.INVALID and "no commit c0ffee0009" in refused.reason


def test_recent_deployers_follow_the_train() -> None:
    commits = [
        commit(1),
        commit(2, "Bo Chen", "bo@x.net"),
        commit(3, "Raj P.", "RAJ@example.org"),  # the same person, by email
        commit(4, "Ana Lima", "ana@example.org", merge=True, files=[]),
    ]
    room = published(commits)
    deployers = recent_deployers(room.state)
    assert [(d.name, d.count, d.member) for d in deployers] == [
        ("Raj Patel", 2, "raj"),
        ("Bo Chen", 1, ""),
    ]
    assert deployers[0].commits == (
        ("mediawiki", commits[0]["sha"]),
        ("mediawiki", commits[2]["sha"]),
    )
    assert deployers[0].repos == ("mediawiki",)
    train = room.state.train
    assert train is not None and reached(room.state) == (train.stages[0],)
    tick_stage(room)
    room.ok(ANA, "promote")
    assert recent_deployers(room.state)[0].stages == train.stages[:2]
    room.ok(ANA, "rollback", scope="full")
    assert recent_deployers(room.state)[0].stages == ()


def test_deployers_before_any_train() -> None:
    room = Room()
    room.join(RAJ)
    begin(room, count=1)
    add(room, [commit(1)])
    (raj,) = recent_deployers(room.state)
    assert raj.stages == () and raj.member == "raj"


def test_replay_and_the_wire_rebuild_the_same_state() -> None:
    room = published()
    sha = commit(1)["sha"]
    room.ok(RAJ, "mark_commit", repo="mediawiki", sha=sha, safe=False, why="schema change")
    room.ok(ANA, "call_in", repo="mediawiki", sha=sha, evidence="line 3")
    begin(room, repo="Cart", count=2)
    add(room, [commit(8, trailers=[["Bug", "T1"]], files=[["a.php", 1, 0, "b.php"]])], repo="Cart")
    assert replay("train-1", room.events) == room.state
    wire = state_to_wire(room.state)
    assert state_from_wire(wire) == room.state
    # Through MessagePack, as a snapshot travels.
    again = msgpack.unpackb(msgpack.packb(wire))
    assert state_from_wire(again) == room.state
    repos = again["changes"]["repos"]
    assert [(r["repo"], r["complete"]) for r in repos] == [("mediawiki", True), ("Cart", False)]
    assert again["changes"]["marks"][0]["why"] == "schema change"


def test_an_empty_room_has_no_changes_on_the_wire() -> None:
    room = opened()
    assert state_to_wire(room.state)["changes"] is None
    assert state_from_wire(state_to_wire(room.state)).changes is None


def test_list_arguments_are_checked_for_type_and_length() -> None:
    fields = {"xs": Field(list, min_len=1, max_len=2)}
    assert check_args("op", fields, {"xs": [1]}) == {"xs": [1]}
    assert check_args("op", fields, {"xs": (1,)}) == "op: argument 'xs' must be a list"
    assert check_args("op", fields, {"xs": []}) == "op: argument 'xs' needs at least 1 item(s)"
    assert check_args("op", fields, {"xs": [1, 2, 3]}) == "op: argument 'xs' has more than 2 items"


def test_runbook_helper_still_opens() -> None:
    assert runbook_data()["name"]


_ops = st.one_of(
    st.tuples(
        st.just("manifest_begin"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["mediawiki", "Cart"]),
                "batch": st.sampled_from(["b1", "b2"]),
                "from": st.just("a"),
                "to": st.just("b"),
                "from_sha": st.just("1" * 40),
                "to_sha": st.just("2" * 40),
                "count": st.integers(1, 3),
            }
        ),
    ),
    st.tuples(
        st.just("manifest_add"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["mediawiki", "Cart"]),
                "batch": st.sampled_from(["b1", "b2"]),
                "offset": st.integers(0, 2),
                "commits": st.lists(st.integers(1, 4).map(commit), min_size=1, max_size=2),
            }
        ),
    ),
    st.tuples(
        st.just("mark_commit"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["mediawiki", "Cart"]),
                "sha": st.integers(1, 4).map(lambda n: sha_of(n)[:10]),
                "safe": st.booleans(),
                "why": st.sampled_from(["", "drops a column"]),
            }
        ),
    ),
    st.tuples(
        st.just("call_in"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["mediawiki", "Cart"]),
                "sha": st.integers(1, 4).map(lambda n: sha_of(n)[:10]),
            }
        ),
    ),
    st.tuples(
        st.just("manifest_drop"), st.fixed_dictionaries({"repo": st.sampled_from(["mediawiki"])})
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([RAJ, ANA, VIC]), _ops), max_size=40))
def test_any_sequence_replays_and_round_trips(seq: list[tuple[Actor, tuple[str, dict]]]) -> None:
    room = Room()
    room.join(ANA, RAJ, VIC)
    begin(room, count=3)
    add(room, [commit(1), commit(2)])  # partial: one commit still to come
    for actor, (op, args) in seq:
        before = room.state
        result = room.do(actor, op, **args)
        if actor is VIC:
            assert isinstance(result, Reject) and room.state == before
        for manifest in changes_of(room.state).repos:
            assert len(manifest.commits) <= manifest.count
            assert len({c.sha for c in manifest.commits}) == len(manifest.commits)
    assert replay("train-1", room.events) == room.state
    assert state_from_wire(msgpack.unpackb(msgpack.packb(state_to_wire(room.state)))) == room.state
