"""The home-safety items added to the pre-infusion checklist when the session is at the patient's home.

At a clinic the chair, the recovery area and the staff are there; at home the nurse leaves after the
observation time, so the checklist also asks (each a yes/no the nurse confirms; "no" fails and nobody can
override it — the nurse reschedules or brings the patient to a clinic instead):

- a responsible adult present for the whole visit (the nurse is alone with a patient who may dissociate;
  DOMAIN.md §1 "During": assistance to walk with an IV and impaired balance, seeds 002, 003);
- a place to lie down (seed 000: at a home visit "you will be asked to lie down on a comfortable surface");
- an adult who stays for the evening (DOMAIN.md §1 "After": rest that day, no driving or heavy machinery
  for 24 h, no major decisions for 24 h; seeds 000, 001; grogginess usually gone within 3 h, seeds 001-004).

A protocol whose own checklist already has an item with one of these codes keeps its own item.
"""

from __future__ import annotations

from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind, ChecklistSection

HOME_SAFETY_ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        code="home_responsible_adult",
        question="Home visit: a responsible adult is present and will stay for the whole visit?",
        kind=ChecklistKind.CONFIRM,
        prescriber_may_override=False,
        source="DOMAIN.md §1 During (assistance to walk; seeds 002, 003); clinic default for home visits",
    ),
    ChecklistItem(
        code="home_place_to_lie_down",
        question="Home visit: a place to lie down (bed or sofa) next to where the infusion is given?",
        kind=ChecklistKind.CONFIRM,
        prescriber_may_override=False,
        source="seed 000 (at home the patient lies down on a comfortable surface)",
    ),
    ChecklistItem(
        code="home_evening_escort",
        question="Home visit: an adult stays with the patient for the evening after the nurse leaves?",
        kind=ChecklistKind.CONFIRM,
        prescriber_may_override=False,
        source="DOMAIN.md §1 After (rest that day, no driving for 24 h; seeds 000, 001)",
    ),
)
HOME_SAFETY_CODES = tuple(i.code for i in HOME_SAFETY_ITEMS)


def checklist_for_place(section: ChecklistSection, *, at_home: bool) -> ChecklistSection:
    """The protocol's checklist, with the home-safety items after its own when the session is at home."""
    if not at_home:
        return section
    own = {i.code for i in section.items}
    extra = tuple(i for i in HOME_SAFETY_ITEMS if i.code not in own)
    return ChecklistSection(items=section.items + extra)
