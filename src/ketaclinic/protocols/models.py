"""Every version of every protocol a clinic has loaded, kept forever; decisions point at the version used."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.core.protocols import ProtocolDocument, parse_protocol

_PARSED: dict[tuple[int, str], ProtocolDocument] = {}  # (pk, sha256) -> the validated document
_PARSED_MAX = 256  # versions kept validated in one process; far more than a clinic network loads


class ProtocolVersion(ExternalIdentity):
    protocol_id = models.SlugField(max_length=64)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10)
    document = models.JSONField()
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=200, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["protocol_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["protocol_id", "version"], name="protocol_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id} v{self.version}"

    @property
    def parsed(self) -> ProtocolDocument:
        """The document validated, once per process: a loaded version never changes (its digest is part of
        the key), and the validated document is frozen, so every row of the version shares one."""
        cached = getattr(self, "_parsed", None)
        if cached is None:
            key = (self.pk, self.sha256)
            cached = _PARSED.get(key) if self.pk is not None else None
            if cached is None:
                cached = parse_protocol(self.document)
                if self.pk is not None:
                    if len(_PARSED) >= _PARSED_MAX:
                        _PARSED.clear()
                    _PARSED[key] = cached
            self._parsed = cached
        return cached
