"""Partner organisations and their agreements (the partnerships issue fills this in)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import TenantModel


class Partner(TenantModel):
    """A community organisation the district works with."""

    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="partner_name_unique"),
        ]

    def __str__(self):
        return self.name
