"""store/value_text.py's time text: the text a UTC time is stored as on SQLite, written from a cached
whole second (the engine's hot path) and equal to the full formatting for every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from flowdesk.store.value_text import time_text


def expected(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def test_times_in_one_second_and_across_seconds_keep_their_own_second() -> None:
    start = datetime(2026, 12, 7, 14, 59, 59, 999_998, tzinfo=UTC)
    times = [start + timedelta(microseconds=i) for i in range(4)]  # crosses a second, a minute, an hour
    times += [start, start + timedelta(days=31), start + timedelta(days=365), start]  # a month / year on
    assert [time_text(t) for t in times] == [expected(t) for t in times]
    assert time_text(times[2]) == "2026-12-07 15:00:00.000000"


def test_times_before_1970_and_at_the_ends_of_the_calendar() -> None:
    for value in (
        datetime(1969, 12, 31, 23, 59, 59, 5, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ):
        assert time_text(value) == expected(value)


def test_other_zones_and_naive_times_and_none() -> None:
    paris = datetime(2026, 12, 7, 15, 0, 0, 250, tzinfo=timezone(timedelta(hours=1)))
    assert time_text(paris) == "2026-12-07 14:00:00.000250"
    assert time_text(datetime(2026, 12, 7, 14, 0, 0)) == "2026-12-07 14:00:00.000000"
    assert time_text(None) is None
