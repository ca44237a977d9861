"""Every version of every protocol a clinic has loaded, kept forever; decisions point at the version used."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.core.protocols import ProtocolDocument, parse_protocol


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
        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = parse_protocol(self.document)
            self._parsed = cached
        return cached
