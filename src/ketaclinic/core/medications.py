"""Current medications that interact with ketamine treatment, flagged at intake and before each infusion.

The classes, their severity (major, moderate, minor), advice, names and sources are clinical DATA in
``ketaclinic/core/data/interactions.yaml`` (package data read once with :mod:`importlib.resources`), not
code: benzodiazepines, Z-drugs, opioids, gabapentinoids, MAOIs (and linezolid, methylene blue), lamotrigine,
stimulants, St John's wort, naltrexone, theophylline. Matching is on generic and common US brand names,
case-insensitive, whole words. A MAJOR interaction needs a prescriber's sign-off on the checklist's
medications item (``ketaclinic.core.infusion.checklist``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

DATA_PACKAGE = "ketaclinic.core.data"
DATA_FILE = "interactions.yaml"


class Severity(StrEnum):
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"


class InteractionClass(StrEnum):
    """Codes of some classes in the data file (the data may hold more; a class code is a plain string)."""

    BENZODIAZEPINE = "benzodiazepine"
    LAMOTRIGINE = "lamotrigine"
    MAOI = "maoi"
    STIMULANT = "stimulant"
    OPIOID = "opioid"
    GABAPENTINOID = "gabapentinoid"
    Z_DRUG = "z_drug"
    LINEZOLID = "linezolid"
    METHYLENE_BLUE = "methylene_blue"
    ST_JOHNS_WORT = "st_johns_wort"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InteractionClassData(_Model):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    label: str = Field(min_length=2)
    severity: Severity
    advice: str = Field(min_length=10)
    names: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class InteractionData(_Model):
    format: Literal["ketaclinic.interactions/1"]
    classes: tuple[InteractionClassData, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Interaction:
    klass: str
    matched: str
    advice: str
    severity: Severity = Severity.MODERATE
    label: str = ""


@cache
def interaction_data() -> InteractionData:
    """The shipped interaction list (parsed and validated once per process)."""
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = InteractionData.model_validate(yaml.safe_load(text))
    codes = [c.code for c in data.classes]
    if len(set(codes)) != len(codes):
        raise ValueError("interaction class codes must be unique")
    return data


@cache
def _patterns() -> tuple[tuple[InteractionClassData, re.Pattern[str]], ...]:
    return tuple(
        (
            c,
            re.compile(
                r"(?<![\w-])("
                + "|".join(map(re.escape, sorted(c.names, key=len, reverse=True)))
                + r")(?![\w-])",
                re.IGNORECASE,
            ),
        )
        for c in interaction_data().classes
    )


def interactions_for(medication_name: str) -> tuple[Interaction, ...]:
    """Every interaction class the medication name matches (usually zero or one)."""
    found = []
    for c, pattern in _patterns():
        m = pattern.search(medication_name or "")
        if m:
            found.append(Interaction(c.code, m.group(1).lower(), c.advice, c.severity, c.label))
    return tuple(found)


def major_interactions(medication_names: Iterable[str]) -> tuple[str, ...]:
    """The medications (as named on the list) with a MAJOR interaction, each with its class, for a message."""
    return tuple(
        f"{name} ({i.label})"
        for name in medication_names
        for i in interactions_for(name)
        if i.severity is Severity.MAJOR
    )
