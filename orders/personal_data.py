"""The orders app's part of a data-subject request (``crm_site.personal_data``).

- Sales orders and their lines are kept for accounting (tax law keeps invoices for years: PIPL Art. 47
  and GDPR Art. 17(3)(b) let a legal obligation override erasure): numbers, dates, status, amounts, SKU,
  product and category stay; the free text (order notes, line descriptions) is emptied.
- Tickets keep their number, type, dates and SLA figures; subject, description and resolution go.
- Projects, milestones and opportunities keep their stage and amounts; their names and the reason lost go.
- An erasure waits while the customer has an open ticket (``blockers``): the service is still owed and
  the ticket's text is what the agent works from. Resolve or close it first.
- A finished order import whose stored file mentions one of the person's identifiers loses its file and
  its error entries for those rows (the rule is in ``customers.import_scrub``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.personal_data import PersonalDataHandler, Rows, fields_of, personal_data
from crm_site.uploads import csv_rows, xlsx_rows
from customers.import_scrub import markers_of, scrub_imports
from orders.models import Milestone, Opportunity, OrderImport, OrderLine, Project, SalesOrder, ServiceOrder

ERASED = "[erased]"
ORDER_FIELDS = (
    "number",
    "status",
    "channel",
    "ordered_at",
    "currency",
    "subtotal",
    "order_discount",
    "total",
    "notes",
)
LINE_FIELDS = ("sku", "description", "quantity", "unit_price", "discount", "line_total")
TICKET_FIELDS = (
    "number",
    "type",
    "priority",
    "status",
    "subject",
    "description",
    "opened_at",
    "resolved_at",
    "resolution",
    "satisfaction",
)
PROJECT_FIELDS = ("name", "stage", "currency", "start_date", "end_date")
OPPORTUNITY_FIELDS = ("name", "currency", "stage", "probability", "expected_close_date", "lost_reason")


def export_orders(customer_id: Any) -> Rows:
    orders = list(SalesOrder.objects.filter(customer_id=customer_id).order_by("ordered_at", "number"))
    numbers = {order.pk: order.number for order in orders}
    lines = OrderLine.objects.filter(order_id__in=list(numbers)).order_by("created_at")
    projects = list(Project.objects.filter(customer_id=customer_id).order_by("created_at"))
    names = {project.pk: project.name for project in projects}
    milestones = Milestone.objects.filter(project_id__in=list(names)).order_by("due_date")
    return {
        "sales_orders": [fields_of(order, ORDER_FIELDS) for order in orders],
        "order_lines": [{"order": numbers[line.order_id], **fields_of(line, LINE_FIELDS)} for line in lines],
        "service_tickets": [
            fields_of(ticket, TICKET_FIELDS)
            for ticket in ServiceOrder.objects.filter(customer_id=customer_id).order_by("opened_at")
        ],
        "projects": [fields_of(project, PROJECT_FIELDS) for project in projects],
        "milestones": [
            {"project": names[row.project_id], "name": row.name, "due_date": row.due_date, "done": row.done}
            for row in milestones
        ],
        "opportunities": [
            fields_of(row, OPPORTUNITY_FIELDS)
            for row in Opportunity.objects.filter(customer_id=customer_id).order_by("created_at")
        ],
    }


def _order_import_rows(job: OrderImport) -> Iterator[Sequence[Any]]:
    if job.file.name.lower().endswith((".xlsx", ".xlsm")):
        return xlsx_rows(job.file.path)
    return csv_rows(job.file.path, job.encoding)


def erase_orders(customer_id: Any, *, request: Any) -> dict[str, int]:
    # Runs before the customers handler, so the contacts are still there to match the files against.
    finished = OrderImport.objects.filter(status__in=OrderImport.FINISHED).exclude(file="")
    imports = scrub_imports(finished, markers_of(customer_id), _order_import_rows)
    order_ids = list(SalesOrder.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    project_ids = list(Project.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    # Set-based writes (no per-row audit diff of the old text); the erasure's own entry counts them.
    return {
        "import_files": imports,
        "sales_order_notes": SalesOrder.objects.filter(pk__in=order_ids).exclude(notes="").update(notes=""),
        "order_line_descriptions": OrderLine.objects.filter(order_id__in=order_ids)
        .exclude(description="")
        .update(description=""),
        "service_tickets": ServiceOrder.objects.filter(customer_id=customer_id)
        .filter(~Q(subject=ERASED) | ~Q(description="") | ~Q(resolution=""))
        .update(subject=ERASED, description="", resolution=""),
        "projects": Project.objects.filter(pk__in=project_ids).exclude(name=ERASED).update(name=ERASED),
        "milestones": Milestone.objects.filter(project_id__in=project_ids)
        .exclude(name=ERASED)
        .update(name=ERASED),
        "opportunities": Opportunity.objects.filter(customer_id=customer_id)
        .filter(~Q(name=ERASED) | ~Q(lost_reason=""))
        .update(name=ERASED, lost_reason=""),
    }


def erasure_blockers(customer_id: Any) -> list[str]:
    open_tickets = list(
        ServiceOrder.objects.filter(customer_id=customer_id)
        .exclude(status__in=ServiceOrder.CLOSED_STATUSES)
        .values_list("number", flat=True)[:5]
    )
    if not open_tickets:
        return []
    return [
        _("The customer has open tickets (%(numbers)s): resolve or close them before erasing.")
        % {"numbers": ", ".join(open_tickets)}
    ]


personal_data.register(
    PersonalDataHandler(
        key="orders",
        label=gettext_lazy("Orders, tickets, projects and opportunities"),
        export=export_orders,
        erase=erase_orders,
        blockers=erasure_blockers,
        order=200,
    )
)
