from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Who did what to which object, when, from where and through which channel. Never a secret."""

    class Channel(models.TextChoices):
        CONSOLE = "console", gettext_lazy("Console")
        API = "api", gettext_lazy("API")
        COMMAND = "command", gettext_lazy("Operator command")

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The account's 16-digit ID as text, not a foreign key: the trail outlives what it describes.
    account_id = models.CharField(max_length=16, db_index=True)
    actor = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account_id", "-occurred_at"], name="audit_account_time"),
            # A user's page shows the events about it and by it, however long the account's trail.
            models.Index(fields=["account_id", "target"], name="audit_account_target"),
            models.Index(fields=["account_id", "actor"], name="audit_account_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class SeenNonce(models.Model):
    """A signed request's nonce, kept for the time window so that no process accepts it twice; a key's nonces of
    the last second are also its calls of that second, which its rate limit counts."""

    access_key_id = models.CharField(max_length=64)
    nonce = models.CharField(max_length=128)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["access_key_id", "nonce"], name="unique_nonce_per_key")]
        # A key's calls in the last second, counted for its rate limit (accounts.api.endpoint) from the nonces
        # of the calls it signed: a range of this index, in the key's own lookup.
        indexes = [models.Index(fields=["access_key_id", "seen_at"], name="nonce_key_seen_at")]

    def __str__(self) -> str:
        return f"{self.access_key_id}/{self.nonce}"
