"""Working days on the Chinese holiday calendar, with make-up days and unknown years."""

from __future__ import annotations

import datetime as dt

import pytest

from node.requests import CHINA, Deadlines
from node.workdays import WorkCalendar

D = dt.date


def test_a_make_up_saturday_is_a_working_day_and_a_holiday_weekday_is_not() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(D(2026, 10, 10))  # Saturday worked for the National Day week
    assert not cal.is_workday(D(2026, 10, 5))  # Monday inside the National Day week
    assert not cal.is_workday(D(2026, 10, 11))  # an ordinary Sunday


def test_four_working_days_from_before_national_day_skip_the_holiday_week() -> None:
    cal = WorkCalendar()
    # received Tuesday 29 Sep: 30 Sep, then 1-7 Oct off, 8 (Thu), 9 (Fri), 10 (Sat, make-up)
    assert cal.add_working_days(D(2026, 9, 29), 4) == D(2026, 10, 10)
    assert cal.working_days_between(D(2026, 9, 29), D(2026, 10, 10)) == 4


def test_a_year_the_package_does_not_know_falls_back_to_weekdays_and_config() -> None:
    cal = WorkCalendar()
    assert not cal.known(2027) and cal.known(2026)
    assert cal.add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)  # Fri 1 Jan counts
    holiday = WorkCalendar(holidays=[D(2027, 1, 1)])
    assert not holiday.is_workday(D(2027, 1, 1))
    assert holiday.add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 5)
    made_up = WorkCalendar(holidays=[D(2027, 1, 1)], workdays=[D(2027, 1, 2)])
    assert made_up.add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)


def test_overrides_win_over_the_package() -> None:
    cal = WorkCalendar(workdays=[D(2026, 10, 5)])
    assert cal.is_workday(D(2026, 10, 5))


def test_deadline_is_the_end_of_the_day_in_china() -> None:
    start = dt.datetime(2026, 9, 29, 10, 0, tzinfo=CHINA)
    due = Deadlines(holder_days=4).holder_due(int(start.timestamp() * 1000))
    end = dt.datetime.fromtimestamp(due / 1000, CHINA)
    assert (end.date(), end.hour, end.minute) == (D(2026, 10, 10), 23, 59)


def test_out_of_range_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(D(2026, 1, 5), 61)
