"""The directory as an HSDS package, made in the `reports` queue for the person who asked.

Not an MOUDocument: a document is keyed to an MOU version and reused by version and
language; an export is the whole directory as it is when the worker reads it. The
pipeline is the same (DESIGN.md, Background work): the row first, then a message that
only names it, and a sweep for messages the broker lost.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import Membership, TenantModel


class DirectoryExport(TenantModel):
    """One request for the directory package; the zip is kept on the row once made."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The zip (NULL until ready, and on a failed export).
    package = models.BinaryField(null=True, editable=False)
    # Why it failed: an English message, translated where it is shown.
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # The sweep's one query: this district's exports still queued, oldest first.
            models.Index(
                fields=["district", "updated_at"],
                condition=models.Q(status="queued"),
                name="directory_export_queued_idx",
            )
        ]

    def __str__(self):
        return f"HSDS export {self.pk} ({self.status})"
