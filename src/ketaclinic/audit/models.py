"""Audit entries, each sealed with an HMAC over its content and the seal of the entry before it in its shard.

The trail is sixteen hash chains (shards) rather than one, so that audited requests never queue on a single
row: an append locks the head of whichever shard is free (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and links to that shard's last entry. Each entry still has a clinic-wide ``seq`` (a database
sequence) for reading the trail in order.

Append-only: the database refuses UPDATE and DELETE on this table (triggers on SQLite and PostgreSQL,
see migration 0002), and the chains make any edit that slips past (a restored backup, a superuser with
the triggers dropped) visible to ``ketaclinic manage audit_verify``; the checkpoints exported outside the
database (``audit_checkpoint``) make a cut tail or a re-sealed chain visible too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        SIGN = "sign", "Signed"
        DENIED = "denied", "Access denied"
        BREAK_GLASS = "break_glass", "Emergency access"
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Sign-in failed"
        LOGOUT = "logout", "Signed out"
        EXPORT = "export", "Exported"
        REVIEW = "review", "Reviewed"
        SYSTEM = "system", "System"

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.CharField(max_length=300)
    patient_external_id = models.UUIDField(null=True, blank=True, db_index=True)
    location_code = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=10, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    # Which chain the entry is linked in, and its place there (1, 2, 3... without gaps). Entries written
    # before the trail was sharded have neither: they are shard 1, at their ``seq``.
    shard = models.PositiveSmallIntegerField(null=True, blank=True)
    shard_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["actor", "-at"]), models.Index(fields=["action", "-at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["shard", "shard_seq"],
                condition=models.Q(shard_seq__isnull=False),
                name="audit_entry_one_place_per_shard",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}: {self.summary}"

    @property
    def chain(self) -> tuple[int, int]:
        """(shard, place in the shard), for old entries too."""
        return (self.shard or 1, self.shard_seq if self.shard_seq is not None else self.seq)


class AuditChainHead(models.Model):
    """The last entry of one shard (``id`` is the shard): its place and seal. Locked while appending to it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)
