"""The base every clinic record shares: a public UUID, and who created/changed it when (care's pattern)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from ketaclinic.core.errors import ValidationError


class ExternalIdentity(models.Model):
    """The identifier a record is known by outside the database (addresses, the API, FHIR): a random UUID
    given when the record is made, never the row's key and never edited."""

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class ClinicRecord(ExternalIdentity):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True


def clean_or_refuse(obj: models.Model, *, exclude: list[str] | None = None) -> None:
    """``full_clean()`` whose refusal is the core's ValidationError naming the field, value and rule."""

    try:
        obj.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        errors = getattr(exc, "message_dict", {"__all__": exc.messages})
        field, messages = next(iter(errors.items()))
        label = field
        if field != "__all__":
            try:
                named = obj._meta.get_field(field)
            except Exception:  # noqa: BLE001 - a non-field key: keep it as it is
                named = None
            if isinstance(named, models.Field):  # a reverse relation has no verbose name either
                label = str(named.verbose_name).capitalize()
        value = getattr(obj, field, None) if field != "__all__" else None
        raise ValidationError(
            f"{label}: {' '.join(messages)}", field=None if field == "__all__" else field, value=value
        ) from None
