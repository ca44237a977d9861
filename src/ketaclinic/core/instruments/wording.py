"""Clinic-supplied item wording for copyrighted instruments (C-SSRS screener, CADSS).

ketaclinic ships only the structure, branching, scoring and codes of these instruments. A clinic that
holds permission supplies the wording as a mapping from item code to text (for example a YAML file
``{cssrs_1: "...", cssrs_2: "...", ...}`` read by the web layer or the CLI); :func:`apply_wording` returns a
copy of the definition carrying it. Until then the instrument is ``wording_missing``: it can be scored
(a clinician enters answers from the licensed paper form) but :func:`require_administrable` refuses to
put it in front of a patient.
"""

from __future__ import annotations

from collections.abc import Mapping

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments.schema import Instrument

MSG_WORDING_MISSING = (
    "{name} has no item wording: ketaclinic does not ship it (copyright). The clinic must supply the "
    "wording it is licensed to use before the instrument can be shown to patients."
)
MSG_WORDING_UNKNOWN_ITEMS = "Wording for {name} names unknown items: {items}; the items are {known}."
MSG_WORDING_INCOMPLETE = "Wording for {name} lacks items: {items}."
MSG_WORDING_EMPTY = "Wording for {name}, item {item}: the text is empty."
MSG_WORDING_SHIPPED = "{name} ships its own wording; only clinic-supplied instruments take a wording file."


def apply_wording(instrument: Instrument, wording: Mapping[str, str]) -> Instrument:
    """A copy of ``instrument`` with every item's text from ``wording`` (every item, nothing else)."""
    if instrument.wording != "clinic_supplied":
        raise ValidationError(
            MSG_WORDING_SHIPPED.format(name=instrument.name), field="wording", value=instrument.id
        )
    codes = [i.code for i in instrument.items]
    unknown = sorted(set(wording) - set(codes))
    if unknown:
        raise ValidationError(
            MSG_WORDING_UNKNOWN_ITEMS.format(
                name=instrument.name, items=", ".join(unknown), known=", ".join(codes)
            ),
            field="wording",
            value=unknown,
        )
    lacking = [c for c in codes if c not in wording]
    if lacking:
        raise ValidationError(
            MSG_WORDING_INCOMPLETE.format(name=instrument.name, items=", ".join(lacking)),
            field="wording",
            value=lacking,
        )
    for code in codes:
        text = wording[code]
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(
                MSG_WORDING_EMPTY.format(name=instrument.name, item=code), field=code, value=text
            )
    items = tuple(i.model_copy(update={"text": wording[i.code].strip()}) for i in instrument.items)
    return instrument.model_copy(update={"items": items})


def require_administrable(instrument: Instrument) -> Instrument:
    """The instrument itself if every item has wording; otherwise refuse (it cannot be shown to patients)."""
    if instrument.wording_missing:
        raise ValidationError(
            MSG_WORDING_MISSING.format(name=instrument.name), field="wording", value=instrument.id
        )
    return instrument
