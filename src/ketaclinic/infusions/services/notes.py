"""The session note: generate it, sign it, add an addendum to a signed note."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.infusions.models import InfusionSession, NoteAddendum, SessionNote
from ketaclinic.infusions.selectors.notes import note_text
from ketaclinic.infusions.selectors.rems import rems_missing_items
from ketaclinic.infusions.services._common import REASON_REQUIRED, _allowed, _audit, _local, _lock, _save

ADDENDUM_TEXT_REQUIRED = "An addendum needs its text."
NOTE_NOT_SIGNED = "Addenda are for signed notes; the note is not signed yet (regenerate it instead)."
NOTE_MISSING = "No note has been generated for this session yet."
NOTE_ALREADY_SIGNED = "The note was signed by {who} at {when}; add an addendum instead."
REMS_INCOMPLETE = "The note cannot be signed until the REMS monitoring form is complete. Missing: {items}."


@transaction.atomic
def note_generate(*, user: User, session: InfusionSession, expected_version: int) -> SessionNote:
    """Write (or rewrite, while unsigned) the note from what happened."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.NOTE_GENERATE)
    note = SessionNote.objects.filter(session=session).select_related("signed_by").first()
    if note is not None and note.signed:
        raise ValidationError(
            NOTE_ALREADY_SIGNED.format(
                who=note.signed_by, when=_local(session, note.signed_at, "%Y-%m-%d %H:%M")
            ),
            field="note",
            value=str(note.external_id),
        )
    text = note_text(session)
    if note is None:
        note = SessionNote.objects.create(session=session, text=text, created_by=user, updated_by=user)
    else:
        note.text, note.updated_by = text, user
        note.save()
    _save(session, user)
    _audit(user, session, "Generated the session note", AuditEntry.Action.CREATE, note=str(note.external_id))
    return note


@transaction.atomic
def note_sign(*, user: User, session: InfusionSession, expected_version: int) -> SessionNote:
    """Sign the note; it is locked from then on (the database refuses changes). An esketamine session's note
    waits for a complete, confirmed REMS monitoring form (the refusal lists every missing item)."""
    session = _lock(user, session, Permission.NOTE_SIGN, expected_version)
    note = SessionNote.objects.select_for_update(of=("self",)).filter(session=session).first()
    if note is None:
        raise ValidationError(NOTE_MISSING, field="note", value=None)
    if note.signed:
        raise ValidationError(
            NOTE_ALREADY_SIGNED.format(
                who=note.signed_by, when=_local(session, note.signed_at, "%Y-%m-%d %H:%M")
            ),
            field="note",
            value=str(note.external_id),
        )
    missing = rems_missing_items(session)
    if missing:
        raise ValidationError(
            REMS_INCOMPLETE.format(items="; ".join(missing)), field="rems_form", value=list(missing)
        )
    note.signed_by, note.signed_at, note.updated_by = user, timezone.now(), user
    note.save()
    _save(session, user)
    _audit(user, session, "Signed the session note", AuditEntry.Action.SIGN, note=str(note.external_id))
    return note


@transaction.atomic
def note_addendum_add(*, user: User, session: InfusionSession, text: str, reason: str) -> NoteAddendum:
    """A correction or addition to a signed note, with why; the note itself never changes."""
    session = _lock(user, session, Permission.NOTE_SIGN, None)
    note = SessionNote.objects.filter(session=session).first()
    if note is None:
        raise ValidationError(NOTE_MISSING, field="note", value=None)
    if not note.signed:
        raise ValidationError(NOTE_NOT_SIGNED, field="note", value=str(note.external_id))
    if not text.strip():
        raise ValidationError(ADDENDUM_TEXT_REQUIRED, field="text", value=text)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    addendum = NoteAddendum.objects.create(
        note=note, text=text.strip(), reason=reason.strip()[:300], created_by=user, updated_by=user
    )
    _audit(
        user,
        session,
        f"Added an addendum to the session note: {addendum.reason}",
        AuditEntry.Action.CREATE,
        addendum=str(addendum.external_id),
    )
    return addendum
