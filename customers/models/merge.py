"""The audit trail of duplicate merges: what was merged into what, and a full copy of the loser."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from customers.models.customer import Customer


class CustomerMerge(BaseModel):
    """One merge: the loser's snapshot, the values chosen, the records moved; the loser's tombstone."""

    # Where the merged customer's record lives now: a later merge of the survivor carries this row along,
    # so the merged customer's URL (the tombstone, merged_customer_id) still leads somewhere.
    survivor = models.ForeignKey(
        Customer, verbose_name=_("survivor"), null=True, on_delete=models.SET_NULL, related_name="merges"
    )
    survivor_name = models.CharField(_("survivor name"), max_length=200)
    merged_customer_id = models.UUIDField(_("merged customer id"), db_index=True)
    merged_customer_name = models.CharField(_("merged customer name"), max_length=200)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("merged by"), null=True, on_delete=models.SET_NULL
    )
    snapshot = models.JSONField(_("merged customer as it was"), default=dict, blank=True)
    chosen_fields = models.JSONField(_("values taken from the merged customer"), default=list, blank=True)
    moved = models.JSONField(_("related records moved"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged_customer_name} -> {self.survivor_name}"
