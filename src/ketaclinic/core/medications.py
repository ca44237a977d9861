"""Current medications that interact with ketamine treatment, flagged at intake and before each infusion.

Classes and reasons are those clinics screen for (seeds 000, 001, 003; DOMAIN.md §1 "Before"):
benzodiazepines add grogginess and may blunt the antidepressant response; lamotrigine reduces
ketamine's glutamatergic effect; MAOIs and stimulants add to ketamine's rise in blood pressure and
heart rate. Matching is on generic and common US brand names, case-insensitive, whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class InteractionClass(StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    LAMOTRIGINE = "lamotrigine"
    MAOI = "maoi"
    STIMULANT = "stimulant"


@dataclass(frozen=True, slots=True)
class Interaction:
    klass: InteractionClass
    matched: str
    advice: str


_NAMES: dict[InteractionClass, tuple[str, ...]] = {
    InteractionClass.BENZODIAZEPINE: (
        "alprazolam", "xanax", "lorazepam", "ativan", "clonazepam", "klonopin", "diazepam", "valium",
        "chlordiazepoxide", "librium", "temazepam", "restoril", "oxazepam", "clorazepate", "tranxene",
        "triazolam", "halcion", "midazolam",
    ),
    InteractionClass.LAMOTRIGINE: ("lamotrigine", "lamictal"),
    InteractionClass.MAOI: (
        "phenelzine", "nardil", "tranylcypromine", "parnate", "isocarboxazid", "marplan", "selegiline",
        "emsam", "rasagiline", "azilect",
    ),
    InteractionClass.STIMULANT: (
        "amphetamine", "dextroamphetamine", "adderall", "lisdexamfetamine", "vyvanse", "methylphenidate",
        "ritalin", "concerta", "dexmethylphenidate", "focalin", "methamphetamine", "desoxyn",
        "modafinil", "provigil", "armodafinil", "nuvigil",
    ),
}

_ADVICE: dict[InteractionClass, str] = {
    InteractionClass.BENZODIAZEPINE: "Benzodiazepine: adds grogginess and may blunt the response; review dose timing before infusions.",
    InteractionClass.LAMOTRIGINE: "Lamotrigine: may reduce ketamine's effect; prescriber to review.",
    InteractionClass.MAOI: "MAOI: additive rise in blood pressure; prescriber to review before infusing.",
    InteractionClass.STIMULANT: "Stimulant: additive rise in blood pressure and heart rate; consider holding on infusion days.",
}

_PATTERNS = {
    klass: re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)
    for klass, names in _NAMES.items()
}


def interactions_for(medication_name: str) -> tuple[Interaction, ...]:
    """Every interaction class the medication name matches (usually zero or one)."""
    found = []
    for klass, pattern in _PATTERNS.items():
        m = pattern.search(medication_name)
        if m:
            found.append(Interaction(klass, m.group(1).lower(), _ADVICE[klass]))
    return tuple(found)
