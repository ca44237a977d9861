"""Treatment plan actions: draft a plan from the protocol (its series proposed as dated slots), sign it,
revise a signed plan (a new version superseding it), move or cancel a slot, add a booster.

The scheduling rules (per-week limit, minimum spacing) are decided in the pure core
(``ketaclinic.core.series``); a chair is never double-booked: every write that places a slot in a chair
first locks the chair's row (``select_for_update``) inside the action's transaction, then checks the
chair's other slots, so two people booking the same chair are serialised (SQLite serialises writers).

The actions are split by what they change (``plan``: draft, sign, revise; ``slots``: move, cancel, add a
booster; shared helpers in ``_common``) and re-exported here.
"""

from __future__ import annotations

from ketaclinic.plans.services._common import (
    CHAIR_ELSEWHERE,
    CHAIR_INACTIVE,
    CHAIR_TAKEN,
    CLINIC_NEEDS_CHAIR,
    HOME_NEEDS_ADDRESS,
    HOME_NEEDS_MOBILE,
    IN_THE_PAST,
    LOCATION_IS_MOBILE,
    NOT_ACTIVE,
)
from ketaclinic.plans.services.plan import (
    ALREADY_REVISED,
    ALREADY_SIGNED,
    ANOTHER_ACTIVE,
    EVALUATION_AFTER_SERIES,
    NO_SERIES,
    REVISABLE,
    SCREENING_NOT_ELIGIBLE,
    SCREENING_OTHER_PATIENT,
    plan_draft,
    plan_revise,
    plan_sign,
)
from ketaclinic.plans.services.slots import (
    BOOSTER_DURING_SERIES,
    BOOSTER_TOO_SOON,
    NOT_PLANNED,
    REASON_REQUIRED,
    booster_add,
    infusion_cancel,
    infusion_move,
)

__all__ = [
    "ALREADY_REVISED",
    "ALREADY_SIGNED",
    "ANOTHER_ACTIVE",
    "BOOSTER_DURING_SERIES",
    "BOOSTER_TOO_SOON",
    "CHAIR_ELSEWHERE",
    "CHAIR_INACTIVE",
    "CHAIR_TAKEN",
    "CLINIC_NEEDS_CHAIR",
    "EVALUATION_AFTER_SERIES",
    "HOME_NEEDS_ADDRESS",
    "HOME_NEEDS_MOBILE",
    "IN_THE_PAST",
    "LOCATION_IS_MOBILE",
    "NOT_ACTIVE",
    "NOT_PLANNED",
    "NO_SERIES",
    "REASON_REQUIRED",
    "REVISABLE",
    "SCREENING_NOT_ELIGIBLE",
    "SCREENING_OTHER_PATIENT",
    "booster_add",
    "infusion_cancel",
    "infusion_move",
    "plan_draft",
    "plan_revise",
    "plan_sign",
]
