"""The one registry of instruments: every definition shipped in ``library/``, by id.

Loading is static data loading (package data read with :mod:`importlib.resources`, parsed once and
cached); scoring never touches files. A clinic-supplied definition is parsed with
:func:`registry_from_definitions`, which applies the same schema and refuses duplicate ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments.schema import Instrument, InstrumentDefinitionError, parse_instrument

LIBRARY_PACKAGE = "ketaclinic.core.instruments.library"

MSG_UNKNOWN_INSTRUMENT = "Unknown instrument {id!r}: known instruments are {known}."
MSG_DUPLICATE_INSTRUMENT = "Instrument {id!r} is defined twice."
MSG_FILE_NOT_YAML = "Instrument file {name} is not valid YAML: {error}"


def registry_from_definitions(definitions: Iterable[Mapping[str, Any]]) -> dict[str, Instrument]:
    """Validate parsed definitions into a registry keyed by id, refusing a malformed or repeated one."""
    registry: dict[str, Instrument] = {}
    for data in definitions:
        instrument = parse_instrument(data)
        if instrument.id in registry:
            raise InstrumentDefinitionError(
                MSG_DUPLICATE_INSTRUMENT.format(id=instrument.id), value=instrument.id
            )
        registry[instrument.id] = instrument
    return registry


def definition_from_yaml(name: str, text: str) -> Any:
    """Parse one definition file's text, naming the file when it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InstrumentDefinitionError(MSG_FILE_NOT_YAML.format(name=name, error=exc), value=name) from None


@cache
def shipped_instruments() -> Mapping[str, Instrument]:
    """Every instrument shipped with ketaclinic, by id (parsed once per process)."""
    files = sorted(
        (f for f in resources.files(LIBRARY_PACKAGE).iterdir() if f.name.endswith(".yaml")),
        key=lambda f: f.name,
    )
    return registry_from_definitions(
        definition_from_yaml(f.name, f.read_text(encoding="utf-8")) for f in files
    )


def get_instrument(instrument_id: str, registry: Mapping[str, Instrument] | None = None) -> Instrument:
    """The instrument with this id, or a ValidationError naming the known ids."""
    registry = shipped_instruments() if registry is None else registry
    try:
        return registry[instrument_id]
    except KeyError:
        raise ValidationError(
            MSG_UNKNOWN_INSTRUMENT.format(id=instrument_id, known=", ".join(sorted(registry))),
            field="instrument",
            value=instrument_id,
        ) from None
