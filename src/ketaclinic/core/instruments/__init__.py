"""Questionnaire instruments: one registry of data-defined instruments and pure scoring over them.

* :mod:`.schema` — the definition format (frozen pydantic models) and :func:`parse_instrument`.
* :mod:`.registry` — the shipped definitions (``library/*.yaml``) by id; :func:`get_instrument`.
* :mod:`.scoring` — :func:`score` one administration (totals, bands, missing items, flags, branching).
* :mod:`.change` — change from baseline, response, remission, reliable change, relapse.
* :mod:`.wording` — clinic-supplied wording for copyrighted instruments (C-SSRS screener, CADSS).

Every number comes from a cited source in the instrument's file (``sources``) or is labelled there as a
clinic default; see ``docs/instruments.md``.
"""

from __future__ import annotations

from ketaclinic.core.instruments.change import (
    ChangeFromBaseline,
    RelapseCheck,
    change_from_baseline,
    change_from_baseline_for,
    relapse_check,
    relapse_check_for,
)
from ketaclinic.core.instruments.registry import (
    get_instrument,
    registry_from_definitions,
    shipped_instruments,
)
from ketaclinic.core.instruments.schema import (
    INSTRUMENT_FORMAT,
    Instrument,
    InstrumentDefinitionError,
    instrument_json_schema,
    parse_instrument,
)
from ketaclinic.core.instruments.scoring import Score, score, score_instrument
from ketaclinic.core.instruments.wording import apply_wording, require_administrable

__all__ = [
    "INSTRUMENT_FORMAT",
    "ChangeFromBaseline",
    "Instrument",
    "InstrumentDefinitionError",
    "RelapseCheck",
    "Score",
    "apply_wording",
    "change_from_baseline",
    "change_from_baseline_for",
    "get_instrument",
    "instrument_json_schema",
    "parse_instrument",
    "registry_from_definitions",
    "relapse_check",
    "relapse_check_for",
    "require_administrable",
    "score",
    "score_instrument",
    "shipped_instruments",
]
