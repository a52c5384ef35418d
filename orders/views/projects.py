"""Project pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from crm_site.visibility import CHANGE
from crm_site.web import ActionView
from orders.forms import MilestoneForm, ProjectFilterForm, ProjectForm
from orders.models import Project
from orders.selectors import (
    project_get,
    project_list,
    project_member_ids,
    project_memberships,
    project_milestones,
)
from orders.services import projects as services
from orders.views.base import FilteredListMixin, ServiceFormMixin, StaffMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ProjectListView(FilteredListMixin, ListView):
    permission_required = "orders.view_project"
    filter_form_class = ProjectFilterForm
    selector = staticmethod(project_list)
    template_name = "orders/project_list.html"
    context_object_name = "projects"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["stages"] = Project.Stage.choices
        return context


class ProjectDetailView(StaffMixin, DetailView):
    permission_required = "orders.view_project"
    template_name = "orders/project_detail.html"
    context_object_name = "project"

    def get_object(self, queryset: Any = None) -> Project:
        return project_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["milestones"] = project_milestones(project=self.object)
        context["memberships"] = project_memberships(project=self.object)
        context["milestone_form"] = MilestoneForm()
        return context


class ProjectCreateView(ServiceFormMixin[ProjectForm], CreateView):
    permission_required = "orders.add_project"
    form_class = ProjectForm
    template_name = "orders/form.html"
    success_message = _("Project created.")
    extra_context = {"title": _("New project")}

    def get_initial(self) -> dict[str, Any]:
        return {"customer": self.request.GET.get("customer", "")}

    def perform(self, form: ProjectForm) -> Project:
        data = dict(form.cleaned_data)
        data["members"] = list(data.pop("members") or [])
        return services.project_create(owner=self.request.user, **data)


class ProjectUpdateView(ServiceFormMixin[ProjectForm], UpdateView):
    permission_required = "orders.change_project"
    form_class = ProjectForm
    template_name = "orders/form.html"
    success_message = _("Project saved.")
    extra_context = {"title": _("Edit project")}

    def get_object(self, queryset: Any = None) -> Project:
        return project_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def get_initial(self) -> dict[str, Any]:
        return {"members": project_member_ids(project=self.object)}

    def perform(self, form: ProjectForm) -> Project:
        project = project_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)
        data = dict(form.cleaned_data)
        members = list(data.pop("members") or [])
        return services.project_update(project=project, members=members, **data)


class MilestoneCreateView(StaffMixin, ActionView):
    permission_required = "orders.change_project"
    form_class = MilestoneForm

    def get_target(self) -> Project:
        return project_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: Project, data: dict[str, Any]) -> StrOrPromise:
        services.milestone_create(project=target, **data)
        return _("Milestone added.")
