"""Export of the current filtered customer list to CSV or XLSX, streamed in keyset chunks."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customers.importing import csv_line, neutralise_cell
from customers.models import Address, ContactMethod, Customer
from customers.selectors import custom_field_definitions, customer_page

CHUNK = 2000


def export_header() -> list[str]:
    header = [
        _("External id"), _("Name"), _("Kind"), _("Gender"), _("Birth date"), _("Company name"),
        _("Lifecycle stage"), _("Source"), _("Owner"), _("Mobile"), _("Email"), _("WeChat"),
        _("Province"), _("City"), _("Tags"), _("Marketing consent"), _("Created"),
    ]  # fmt: skip
    return header + [definition.label for definition in custom_field_definitions()]


def export_rows(qs: QuerySet[Customer], *, sort: str = "name") -> Iterator[list[Any]]:
    """Every row of ``qs`` in list order, a chunk of customers plus three side queries at a time."""
    definitions = custom_field_definitions()
    cursor = None
    while True:
        page = customer_page(qs, sort=sort, cursor=cursor, size=CHUNK)
        ids = [customer.pk for customer in page.rows]
        contacts: dict[tuple[Any, str], str] = {}
        for customer_id, kind, value in (
            ContactMethod.objects.filter(customer_id__in=ids, kind__in=["mobile", "email", "wechat"])
            .order_by("is_primary")
            .values_list("customer_id", "kind", "value")
        ):
            contacts[(customer_id, kind)] = value  # primary comes last, so it wins
        places = {
            customer_id: (province, city)
            for customer_id, province, city in Address.objects.filter(customer_id__in=ids, is_default=True)
            .order_by()
            .values_list("customer_id", "province", "city")
        }
        for customer in page.rows:
            province, city = places.get(customer.pk, ("", ""))
            tags = ", ".join(tag.name for tag in page.tags.get(customer.pk, []))
            row = [
                customer.external_id or "",
                customer.name,
                customer.get_kind_display(),
                customer.get_gender_display(),
                customer.birth_date.isoformat() if customer.birth_date else "",
                customer.company_name,
                customer.get_lifecycle_stage_display(),
                customer.get_source_display(),
                customer.owner.get_username() if customer.owner else "",
                contacts.get((customer.pk, "mobile"), ""),
                contacts.get((customer.pk, "email"), ""),
                contacts.get((customer.pk, "wechat"), ""),
                province,
                city,
                tags,
                _("Yes") if customer.marketing_consent else _("No"),
                customer.created_at.isoformat(timespec="seconds"),
            ]
            row += [(customer.attributes or {}).get(d.key, "") for d in definitions]
            yield [
                neutralise_cell(str(value) if not isinstance(value, (int, float)) else value) for value in row
            ]
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def customers_export_csv(qs: QuerySet[Customer], *, sort: str = "name") -> Iterator[str]:
    """CSV text lines (with a BOM so that Excel reads UTF-8 Chinese correctly)."""
    yield "\ufeff" + csv_line(export_header())
    for row in export_rows(qs, sort=sort):
        yield csv_line(row)


def customers_export_xlsx(qs: QuerySet[Customer], *, sort: str = "name") -> Any:
    """A temporary file holding the XLSX workbook (openpyxl write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Customers"))[:31])
    sheet.append(export_header())
    for row in export_rows(qs, sort=sort):
        sheet.append(row)
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle
