"""The indications a ketamine clinic treats (DOMAIN.md §1, seeds 001 and 002).

Each indication belongs to a category: psychiatric indications need a referral from the treating
psychiatrist or mental-health professional (seed 001); pain indications are treated only after other
modalities failed (seed 001). ICD-10-CM codes are the FY2026 codes a clinic would bill under
(DOMAIN.md §6); there is no ICD-10-CM code for treatment-resistant depression, so TRD is coded F32/F33
with the failed trials documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.errors import ValidationError


class Category(StrEnum):
    PSYCHIATRIC = "psychiatric"
    PAIN = "pain"


@dataclass(frozen=True, slots=True)
class Indication:
    code: str
    label: str
    category: Category
    icd10cm_examples: tuple[str, ...]


_ALL: tuple[Indication, ...] = (
    Indication("trd", "Treatment-resistant depression", Category.PSYCHIATRIC, ("F32.2", "F33.2", "F33.1")),
    Indication(
        "mdd", "Major depressive disorder", Category.PSYCHIATRIC, ("F32.1", "F32.2", "F33.1", "F33.2")
    ),
    Indication(
        "bipolar_depression", "Bipolar depression", Category.PSYCHIATRIC, ("F31.4", "F31.5", "F31.81")
    ),
    Indication("ptsd", "Post-traumatic stress disorder", Category.PSYCHIATRIC, ("F43.10", "F43.12")),
    Indication("ocd", "Obsessive-compulsive disorder", Category.PSYCHIATRIC, ("F42.2", "F42.9")),
    Indication("anxiety", "Anxiety disorder", Category.PSYCHIATRIC, ("F41.1",)),
    Indication("postpartum_depression", "Postpartum depression", Category.PSYCHIATRIC, ("F53.0",)),
    Indication("crps", "Complex regional pain syndrome", Category.PAIN, ("G90.50", "G90.519", "G90.529")),
    Indication("neuropathic_pain", "Neuropathic pain", Category.PAIN, ("G89.29", "G62.9")),
    Indication("fibromyalgia", "Fibromyalgia", Category.PAIN, ("M79.7",)),
    Indication("migraine", "Migraine", Category.PAIN, ("G43.119", "G43.719")),
    Indication("chronic_pain_other", "Other chronic pain", Category.PAIN, ("G89.29", "G89.4")),
)

INDICATIONS: dict[str, Indication] = {i.code: i for i in _ALL}
INDICATION_CHOICES: tuple[tuple[str, str], ...] = tuple((i.code, i.label) for i in _ALL)

UNKNOWN_INDICATION = "Unknown indication {value!r}: allowed are {allowed}."


def indication_get(code: str) -> Indication:
    """Return the indication for ``code`` or refuse with the allowed codes named."""
    try:
        return INDICATIONS[code]
    except KeyError:
        raise ValidationError(
            UNKNOWN_INDICATION.format(value=code, allowed=", ".join(INDICATIONS)),
            field="indication",
            value=code,
        ) from None
