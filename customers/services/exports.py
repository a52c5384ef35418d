"""Export of the current filtered customer list to CSV or XLSX, read in keyset chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm_site.exports import csv_lines, xlsx_file
from customers.models import Address, ContactMethod, Customer
from customers.selectors import custom_field_definitions, customer_page
from customers.selectors.pii import masker

CHUNK = 2000


def export_header() -> list[str]:
    header = [
        _("External id"), _("Name"), _("Kind"), _("Gender"), _("Birth date"), _("Company name"),
        _("Lifecycle stage"), _("Source"), _("Owner"), _("Mobile"), _("Email"), _("WeChat"),
        _("Province"), _("City"), _("Tags"), _("Marketing consent"), _("Created"),
    ]  # fmt: skip
    return header + [definition.label for definition in custom_field_definitions()]


def export_rows(qs: QuerySet[Customer], *, user: Any, sort: str = "name") -> Iterator[list[Any]]:
    """Every row of ``qs`` in list order, a chunk of customers plus three side queries at a time.

    The birth date and contact columns as ``user`` may see them: masked without view_pii (issue 13).
    """
    definitions = custom_field_definitions()
    show = masker(user)
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
                # str(): a date, or the unreadable marker of an encrypted value no key opens (issue 13).
                show(str(customer.birth_date) if customer.birth_date else "", "birth_date"),
                customer.company_name,
                customer.get_lifecycle_stage_display(),
                customer.get_source_display(),
                customer.owner.get_username() if customer.owner else "",
                show(contacts.get((customer.pk, "mobile"), ""), "mobile"),
                show(contacts.get((customer.pk, "email"), ""), "email"),
                show(contacts.get((customer.pk, "wechat"), ""), "wechat"),
                province,
                city,
                tags,
                _("Yes") if customer.marketing_consent else _("No"),
                customer.created_at,  # in the server time zone (crm_site.exports.neutralise_cell)
            ]
            row += [(customer.attributes or {}).get(d.key, "") for d in definitions]
            yield row
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def customers_export_csv(qs: QuerySet[Customer], *, user: Any, sort: str = "name") -> Iterator[str]:
    """CSV text lines, every cell neutralised (``crm_site.exports``)."""
    return csv_lines(export_header(), export_rows(qs, user=user, sort=sort))


def customers_export_xlsx(qs: QuerySet[Customer], *, user: Any, sort: str = "name") -> IO[bytes]:
    """A temporary file holding the XLSX workbook, every cell neutralised (``crm_site.exports``)."""
    return xlsx_file(export_header(), export_rows(qs, user=user, sort=sort), title=_("Customers"))
