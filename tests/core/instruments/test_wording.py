"""Clinic-supplied wording: copyrighted instruments score without it but cannot be administered."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import apply_wording, get_instrument, require_administrable, score_instrument
from ketaclinic.core.instruments.wording import (
    MSG_WORDING_EMPTY,
    MSG_WORDING_INCOMPLETE,
    MSG_WORDING_MISSING,
    MSG_WORDING_SHIPPED,
    MSG_WORDING_UNKNOWN_ITEMS,
)

CSSRS = "Columbia Suicide Severity Rating Scale, screener (C-SSRS screener)"


def placeholder(instrument_id: str) -> dict[str, str]:
    return {i.code: f"[placeholder wording for {i.code}]" for i in get_instrument(instrument_id).items}


def test_without_wording_it_scores_but_cannot_be_administered():
    cssrs = get_instrument("cssrs_screener")
    assert cssrs.wording_missing
    assert score_instrument(cssrs, [0, 0, None, None, None, 0, None]).severity == "none"
    with pytest.raises(ValidationError) as err:
        require_administrable(cssrs)
    assert err.value.message == MSG_WORDING_MISSING.format(name=CSSRS)


@pytest.mark.parametrize("instrument_id", ["cssrs_screener", "cadss"])
def test_placeholder_wording_makes_it_administrable(instrument_id):
    worded = apply_wording(get_instrument(instrument_id), placeholder(instrument_id))
    assert not worded.wording_missing
    assert require_administrable(worded) is worded
    assert worded.items[0].text == f"[placeholder wording for {worded.items[0].code}]"
    assert get_instrument(instrument_id).wording_missing  # the shipped definition is untouched


def test_wording_must_cover_every_item_and_nothing_else():
    cssrs = get_instrument("cssrs_screener")
    partial = placeholder("cssrs_screener")
    del partial["cssrs_4"]
    with pytest.raises(ValidationError) as err:
        apply_wording(cssrs, partial)
    assert err.value.message == MSG_WORDING_INCOMPLETE.format(name=CSSRS, items="cssrs_4")
    extra = {**placeholder("cssrs_screener"), "cssrs_7": "x"}
    with pytest.raises(ValidationError) as err:
        apply_wording(cssrs, extra)
    assert err.value.message == MSG_WORDING_UNKNOWN_ITEMS.format(
        name=CSSRS, items="cssrs_7", known=", ".join(i.code for i in cssrs.items)
    )
    empty = {**placeholder("cssrs_screener"), "cssrs_2": "  "}
    with pytest.raises(ValidationError) as err:
        apply_wording(cssrs, empty)
    assert err.value.message == MSG_WORDING_EMPTY.format(name=CSSRS, item="cssrs_2")


def test_shipped_wording_cannot_be_replaced():
    phq9 = get_instrument("phq9")
    assert require_administrable(phq9) is phq9
    with pytest.raises(ValidationError) as err:
        apply_wording(phq9, placeholder("phq9"))
    assert err.value.message == MSG_WORDING_SHIPPED.format(name=phq9.name)
