"""Input hygiene: the rules every typed value passes before any clinical rule looks at it.

One place for them (ARCHITECTURE rule 7: errors are for people). The web layer applies them twice:
a request filter refuses control characters and impossible numbers anywhere in a request (path, query
string, form field, JSON string or key, cookie) before a view runs, and a guard on every clinical
record applies the per-field rules below before a row is written. The limits are documented in
``docs/input-rules.md``; the API schema states the same maximum lengths.

Every refusal is a :class:`~ketaclinic.core.errors.ValidationError` naming the field, the value (shown
with invisible characters spelled out, and long values shortened) and what is allowed.

>>> phone_normalise("(617) 555-0123", field="phone")
'+16175550123'
>>> npi_is_valid("1234567893"), npi_is_valid("1234567890")
(True, False)
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import phonenumbers

from ketaclinic.core.errors import ValidationError

#: C0 control characters and DEL. Tab, line feed and carriage return are allowed in multi-line text only.
CONTROL_CHARACTERS = frozenset(chr(c) for c in range(0x20)) | {"\x7f"}
LINE_BREAKS = frozenset("\t\n\r")
#: Bidirectional embedding/override (U+202A–U+202E) and isolate (U+2066–U+2069) characters: they make a
#: name read differently from how it sorts and matches ("Trojan Source"), so names refuse them.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

#: Maximum lengths of free text (characters). Short fields take their database column's length.
NAME_MAX = 80
REASON_MAX = 2_000  # a reason, an override, an acknowledgement, a cancellation
TEXT_MAX = 4_000  # default for free text: a referral reason, notes, an assessment, a plan
ADDENDUM_MAX = 10_000  # an addendum to a signed note: permanent and append-only
DOCUMENT_MAX = 100_000  # a consent document's text; a generated session note
SIGNATURE_MAX = 500_000  # a drawn signature as a PNG data URL
QUERY_MAX = 200  # a search box

#: Numbers: no quantity typed in a clinic reaches a million (the largest are volumes in mL and minutes).
NUMBER_MAX_MAGNITUDE = 1_000_000
EARLIEST_DATE = date(1900, 1, 1)
PHONE_REGION = "US"
PHONE_MATCH_DIGITS = 7  # the duplicate check compares the last seven digits of two phone numbers

CONTROL_CHARACTER = (
    "{label} contains an invisible control character ({code}) at position {position}: "
    "only printable characters{breaks} are allowed."
)
BIDI_CHARACTER = (
    "{label} contains a text-direction character ({code}) at position {position}, which can make "
    "a name look different from what is stored: only ordinary letters are allowed."
)
TOO_LONG = "{label} is {length:,} characters long; the maximum is {limit:,} characters."
PHONE_INVALID = (
    "{label} {value!r} is not a phone number: give a US number with its area code "
    "(e.g. 617-555-0100) or an international number starting with +."
)
NPI_INVALID = (
    "{label} {value!r} is not a valid NPI: an NPI is 10 digits whose last digit is the check digit "
    "(Luhn, with the 80840 prefix)."
)
DATE_TOO_EARLY = "{label} {value} is before {earliest}: dates from {earliest} onwards are allowed."
DATE_IN_FUTURE = "{label} {value} is in the future: dates up to today ({today}) are allowed."
DATE_BEFORE_BIRTH = "{label} {value} is before the patient's birth date {birth}: it must be on or after it."
NUMBER_NOT_FINITE = "{label} {value} is not a finite number: give a number between {low:,} and {high:,}."
NUMBER_OUT_OF_RANGE = "{label} {value} is outside the allowed range {low:,} to {high:,}."


def label_for(field: str) -> str:
    """``"emergency_contact_phone"`` -> ``"Emergency contact phone"``; ``"q"`` -> ``"Search"``."""
    if field in ("q", "query"):
        return "Search"
    return field.replace("_", " ").replace(".", " ").strip().capitalize() or "Value"


def shown(value: object, limit: int = 60) -> str:
    """The value as a person can read it: control characters spelled out (U+0000), long text shortened."""
    text = str(value)
    out = "".join(_code(ch) if ch in CONTROL_CHARACTERS or ch in BIDI_CONTROLS else ch for ch in text[:limit])
    return out + (f"… ({len(text):,} characters)" if len(text) > limit else "")


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _name(ch: str) -> str:
    return f"{_code(ch)} {unicodedata.name(ch, '').lower()}".strip()


def control_character(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first control character not allowed in ``value`` (1-based position, character), or None."""
    for i, ch in enumerate(value, start=1):
        if ch in CONTROL_CHARACTERS and not (multiline and ch in LINE_BREAKS):
            return i, ch
    return None


def text_check(
    value: str,
    *,
    field: str,
    max_length: int,
    label: str | None = None,
    multiline: bool = False,
    name: bool = False,
) -> str:
    """Refuse control characters, text-direction characters in a name, and text longer than ``max_length``."""
    label = label or label_for(field)
    found = control_character(value, multiline=multiline)
    if found:
        position, ch = found
        raise ValidationError(
            CONTROL_CHARACTER.format(
                label=label,
                code=_code(ch),
                position=position,
                breaks=" and line breaks" if multiline else " (no line breaks)",
            ),
            field=field,
            value=shown(value),
        )
    if name:
        for position, ch in enumerate(value, start=1):
            if ch in BIDI_CONTROLS:
                raise ValidationError(
                    BIDI_CHARACTER.format(label=label, code=_name(ch), position=position),
                    field=field,
                    value=shown(value),
                )
    if len(value) > max_length:
        raise ValidationError(
            TOO_LONG.format(label=label, length=len(value), limit=max_length), field=field, value=shown(value)
        )
    return value


def phone_normalise(value: str, *, field: str, label: str | None = None, region: str = PHONE_REGION) -> str:
    """A phone number in E.164 (``+16175550123``), parsed with libphonenumber (US by default); ``""``
    stays."""
    text = (value or "").strip()
    if not text:
        return ""
    label = label or label_for(field)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            PHONE_INVALID.format(label=label, value=shown(text)), field=field, value=shown(text)
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_match_key(value: str) -> str:
    """The last ``PHONE_MATCH_DIGITS`` digits of a phone number however it is written (``(617) 555-0123``,
    ``+16175550123`` and ``555 0123`` all give ``5550123``), or ``""`` when it has fewer digits: what the
    registry's duplicate check compares. Digits are what ``\\d`` matches (``str.isdecimal``)."""
    digits = "".join(ch for ch in value or "" if ch.isdecimal())
    return digits[-PHONE_MATCH_DIGITS:] if len(digits) >= PHONE_MATCH_DIGITS else ""


def npi_is_valid(value: str) -> bool:
    """A National Provider Identifier: 10 digits, the last a Luhn check digit over ``80840`` + the first 9
    (CMS, "Requirements for NPI check digit", 2007)."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + value)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def npi_check(value: str, *, field: str = "npi", label: str | None = None) -> str:
    text = (value or "").strip()
    if text and not npi_is_valid(text):
        raise ValidationError(
            NPI_INVALID.format(label=label or "NPI", value=shown(text)), field=field, value=shown(text)
        )
    return text


def date_check(
    value: date | datetime,
    *,
    field: str,
    label: str | None = None,
    birth_date: date | None = None,
    today: date | None = None,
) -> None:
    """No date before 1900-01-01; none after ``today`` when given; none before ``birth_date`` when given."""
    label = label or label_for(field)
    day = value.date() if isinstance(value, datetime) else value
    if day < EARLIEST_DATE:
        raise ValidationError(
            DATE_TOO_EARLY.format(label=label, value=day.isoformat(), earliest=EARLIEST_DATE.isoformat()),
            field=field,
            value=value,
        )
    if today is not None and day > today:
        raise ValidationError(
            DATE_IN_FUTURE.format(label=label, value=day.isoformat(), today=today.isoformat()),
            field=field,
            value=value,
        )
    if birth_date is not None and day < birth_date:
        raise ValidationError(
            DATE_BEFORE_BIRTH.format(label=label, value=day.isoformat(), birth=birth_date.isoformat()),
            field=field,
            value=value,
        )


def number_check(
    value: object,
    *,
    field: str,
    label: str | None = None,
    low: float = -NUMBER_MAX_MAGNITUDE,
    high: float = NUMBER_MAX_MAGNITUDE,
) -> None:
    """Refuse NaN, infinities and numbers outside ``low``–``high`` (by default ±1,000,000)."""
    label = label or label_for(field)
    try:
        number = float(Decimal(str(value))) if not isinstance(value, (int, float)) else float(value)
    except (InvalidOperation, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise ValidationError(
            NUMBER_NOT_FINITE.format(label=label, value=shown(value), low=low, high=high),
            field=field,
            value=shown(value),
        )
    if not low <= number <= high:
        raise ValidationError(
            NUMBER_OUT_OF_RANGE.format(label=label, value=shown(value), low=low, high=high),
            field=field,
            value=shown(value),
        )
