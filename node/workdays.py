"""Working days on the Chinese public-holiday calendar, for utilisation requests' deadlines.

The national archive query platform gives the holding archive 4 working days to answer and
the receiving archive 2 more to tell the citizen (``node/requests.py``). Working days follow
the State Council's yearly holiday notice, which moves weekends around: a holiday week is
followed by a Saturday or Sunday worked in its place (调休上班). ``chinese-calendar`` keeps
those notices as data (it is the only module that imports it; ``tests/test_layers.py``).

The package knows only the years whose notice it has seen (2004 to 2026 in 1.11.0) and raises
``NotImplementedError`` for any other year. A deadline must still be counted then, so for an
unknown year the calendar falls back to Monday to Friday, and the operator may add the year's
holidays and make-up working days in ``[requests]`` (``holidays``, ``workdays``) once the
notice is out; those overrides win over the package too, should a notice change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import chinese_calendar

MAX_WORKING_DAYS = 60  # a deadline further off than this is a configuration mistake


class WorkCalendar:
    """Which days are working days, and the working day ``n`` days after a given one."""

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package has no notice for
            return day.weekday() < 5

    def known(self, year: int) -> bool:
        """Whether the package has the holiday notice of ``year`` (else weekends only)."""
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts: a
        request received on a Friday afternoon has Monday as its first day)."""
        if not 0 <= days <= MAX_WORKING_DAYS:
            raise ValueError(f"working days must be 0 to {MAX_WORKING_DAYS}, got {days}")
        day = start
        left = days
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count
