"""The client's replica rules, fed frames directly: order, duplicates, gaps, version skew."""

from __future__ import annotations

import pytest

from warroom import protocol as p
from warroom.client import ConnectError, RoomClient, room_of


def event(seq: int, kind: str = "note", **data: object) -> dict[str, object]:
    return {"seq": seq, "ts": 1.0, "kind": kind, "actor": "ana", "data": data or {"text": "x"}}


def client() -> RoomClient:
    c = RoomClient("ws://127.0.0.1:1/r1", "token")
    c.epoch = "e1"
    return c


def test_events_apply_in_order_and_duplicates_are_skipped() -> None:
    c = client()
    assert c._apply(p.Events("e1", [event(1), event(2)]))
    assert c._apply(p.Events("e1", [event(2), event(3)]))  # 2 again, after a resend
    assert c.seq == 3 and c.state.notes == 3


def test_a_gap_or_another_epoch_asks_for_a_resume() -> None:
    c = client()
    assert not c._apply(p.Events("e1", [event(2)]))
    assert c.seq == 0
    assert not c._apply(p.Events("other", [event(1)]))


def test_an_unknown_event_kind_is_a_clear_fatal_error() -> None:
    c = client()
    with pytest.raises(
        ConnectError, match="does not know \\('rocket_launched'\\); upgrade warroom"
    ):
        c._apply(p.Events("e1", [event(1, "rocket_launched")]))


@pytest.mark.parametrize(
    ("url", "room"),
    [("ws://h:1/train-1", "train-1"), ("wss://h/train-1/", "train-1"), ("ws://h:1/r?x=1", "r")],
)
def test_room_from_url(url: str, room: str) -> None:
    assert room_of(url) == room


@pytest.mark.parametrize(
    "url", ["http://h/r", "ws:///r", "ws://h:1/", "ws://h/a b", "ws://h/healthz"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        room_of(url)
