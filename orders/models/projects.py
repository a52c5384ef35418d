"""Customer projects with members and milestones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from orders.models.common import Currency, CustomerScopedQuerySet, money_field

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Project(BaseModel):
    """A piece of work done for a customer, with a budget, dates, members and milestones."""

    class Stage(models.TextChoices):
        PLANNING = "planning", _("Planning")
        ACTIVE = "active", _("In progress")
        ON_HOLD = "on_hold", _("On hold")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="projects"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.PLANNING)
    budget = money_field(_("budget"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    members: models.ManyToManyField[User, ProjectMember] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ProjectMember",
        verbose_name=_("members"),
        related_name="+",
        blank=True,
    )

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        # The customer timeline's keyset stream (orders/selectors/timeline.py): newest first, id breaks ties.
        indexes = [models.Index(fields=["customer", "created_at", "id"], name="orders_project_timeline")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orders:project-detail", args=[self.pk])

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})


class ProjectMember(BaseModel):
    """A staff member working on a project."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("role"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("project member")
        verbose_name_plural = _("project members")
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="orders_projectmember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project}"


class Milestone(BaseModel):
    """A dated checkpoint of a project."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("name"), max_length=200)
    due_date = models.DateField(_("due date"))
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date"]

    def __str__(self) -> str:
        return self.name
