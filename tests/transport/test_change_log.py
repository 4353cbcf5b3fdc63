"""The change logs caches catch up from (who changed in a room or guild)."""

from __future__ import annotations

from bridge.transport.change_log import ChangeLog


def test_members_changed_since_a_version() -> None:
    log: ChangeLog[str, int] = ChangeLog()
    assert log.version("room") == 0 and log.since("room", 0) == frozenset()
    log.record("room", 1)
    log.record("room", 2)
    log.record("room", 1)
    log.record("other", 9)
    assert log.version("room") == 3
    assert log.since("room", 0) == {1, 2}
    assert log.since("room", 2) == {1}
    assert log.since("room", 3) == frozenset()
    assert log.since("other", 0) == {9}


def test_unknown_changes_mean_starting_again() -> None:
    log: ChangeLog[str, int] = ChangeLog(keep=3)
    for member in range(5):
        log.record("guild", member)
    assert log.since("guild", 2) == {2, 3, 4}  # members 2, 3, 4 came as changes 3, 4, 5
    assert log.since("guild", 1) is None  # forgotten: too far behind
    assert log.since("guild", 9) is None  # a count from elsewhere (another process)
    log.record("guild", None)  # everybody (a member list arrived)
    assert log.since("guild", 4) is None
    log.record("guild", 7)
    assert log.since("guild", 6) == {7}
