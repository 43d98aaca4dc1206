"""A citizen's identity number (居民身份证号码, GB 11643-1999), checked once and never shown.

Service points take a citizen's identity number to find her own records (by blind index)
and to file a utilisation request for her. The number is personal data that must never
appear in clear outside the holder: not in logs, audit entries, exceptions or reprs. So it
is parsed once, here, into an ``IdNumber`` whose ``repr`` and ``str`` are masked; only
``.digits`` gives the number itself, for the two places that need it (the keyed blind index
and the sealed request).

The check follows the standard: 17 digits, then a check character computed from them
(weights ``2**(17-i) mod 11``; ``(12 - sum mod 11) mod 11``, 10 written ``X``); the 7th to
14th characters are a real birth date, not in the future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from node.errors import InvalidInput

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"  # the check character for each value of (sum mod 11)
LENGTH = 18


class InvalidIdNumber(InvalidInput):
    """Not an identity number: wrong length, characters, birth date or check digit."""


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdNumber:
    """A checked identity number; shown only masked (``330106********123X``)."""

    digits: str = field(repr=False)

    def __post_init__(self) -> None:
        _check(self.digits)

    @classmethod
    def parse(cls, text: object, *, today: dt.date | None = None) -> IdNumber:
        """The number in ``text`` (spaces around it ignored, a lower-case ``x`` accepted)."""
        if not isinstance(text, str):
            raise InvalidIdNumber("身份证号码应为文本：请输入 18 位身份证号码")
        number = cls(text.strip().upper())
        if number.birth_date > (today or dt.date.today()):
            raise InvalidIdNumber("身份证号码中的出生日期晚于今天：请核对证件后重新输入")
        return number

    @property
    def birth_date(self) -> dt.date:
        d = self.digits
        return dt.date(int(d[6:10]), int(d[10:12]), int(d[12:14]))

    @property
    def masked(self) -> str:
        """First six and last four characters, the birth date hidden, as receipts print it."""
        return self.digits[:6] + "*" * 8 + self.digits[14:]

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"IdNumber({self.masked!r})"


def _check(digits: str) -> None:
    if not isinstance(digits, str) or len(digits) != LENGTH:
        got = len(digits) if isinstance(digits, str) else 0
        raise InvalidIdNumber(f"身份证号码应为 {LENGTH} 位（收到 {got} 位）：请核对证件后重新输入")
    body, last = digits[:17], digits[17]
    if not (body.isascii() and body.isdigit()) or not (last.isdigit() or last == "X"):
        raise InvalidIdNumber("身份证号码只能是 17 位数字加一位数字或 X：请核对证件后重新输入")
    try:
        dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号码中的出生日期无效：请核对证件后重新输入") from None
    if int(digits[6:10]) < 1850:
        raise InvalidIdNumber("身份证号码中的出生年份早于 1850 年：请核对证件后重新输入")
    if check_character(body) != last:
        raise InvalidIdNumber("身份证号码校验位不符（可能输错了一位）：请核对证件后重新输入")
