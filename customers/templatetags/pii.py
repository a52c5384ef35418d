"""Personal values as the viewer may see them: ``{% pii value kind %}`` (issue 13).

``{% pii contact.value contact.kind link=True reveal=customer field="contact" item=contact.pk %}``:
the value in full for a user with ``customers.view_pii_customer`` (a tap-to-call / mail link with
``link=True``), masked otherwise. A masked value gets a "Reveal" control when the user holds
``customers.reveal_pii_customer`` and the tag names the customer and the field: a link to the reveal
page, which ``static/js/pii-reveal.js`` turns into an in-place reveal asking for the reason.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from crm_site.templatetags.contact_links import contact_link
from customers.masking import mask_contact
from customers.selectors.pii import can_reveal_pii, can_see_pii, shown

register = template.Library()


@register.simple_tag(takes_context=True)
def pii(
    context: template.Context,
    value: Any,
    kind: str,
    *,
    link: bool = False,
    reveal: Any = None,
    field: str = "",
    item: Any = None,
    date_format: str = "Y-m-d",
) -> SafeString:
    """The value for the request's user; "" for an empty value (templates keep their own placeholder)."""
    if value in (None, ""):
        return SafeString("")
    request = context.get("request")
    user = getattr(request, "user", None)
    if can_see_pii(user):
        if kind == "birth_date" and hasattr(value, "year"):
            return format_html("{}", date_filter(value, date_format))
        return contact_link(str(value), kind) if link else format_html("{}", value)
    masked = format_html('<span class="pii-masked">{}</span>', shown(value, kind, user=user))
    if reveal is None or not field or request is None or not can_reveal_pii(user):
        return masked
    if item is not None:  # one row of the customer's: "contact:<id>", "address:<id>:street"
        field = f"{field}:{item}:{kind}" if field == "address" else f"{field}:{item}"
    url = reverse("customers:customer-reveal", kwargs={"pk": reveal.pk})
    return format_html(
        '<span class="pii-value">{masked} <a class="pii-reveal small" href="{href}" data-pii-reveal'
        ' data-url="{url}" data-field="{field}" data-csrf="{csrf}" data-prompt="{prompt}">{label}</a></span>',
        masked=masked,
        href=f"{url}?{urlencode({'field': field})}",
        url=url,
        field=field,
        csrf=get_token(request),
        prompt=_("Why do you need to see this value? (recorded in the audit trail)"),
        label=_("Reveal"),
    )


# The audit trail's values (crm_site/audit): its entries keep old and new values by field (attname), and
# a contact method's or address's name is its value.
AUDIT_FIELD_KINDS = {
    "birth_date": "birth_date",
    "id_number": "id_number",
    "street": "street",
    "postal_code": "postal_code",
    "value": "counterpart",  # a contact method's value: a phone, an address or a handle
    "value_normalized": "counterpart",
}
AUDIT_NAMED_BY_VALUE = {"customers.ContactMethod", "customers.Address"}


@register.simple_tag(takes_context=True)
def pii_change(context: template.Context, value: Any, field: str) -> Any:
    """An audit entry's old or new value of ``field``, masked when the field is personal."""
    kind = AUDIT_FIELD_KINDS.get(field)
    if kind is None or value in (None, "") or _masked_when_written(value):
        return value
    return shown(value, kind, user=getattr(context.get("request"), "user", None))


def _masked_when_written(value: Any) -> bool:
    """Entries written since encryption at rest hold encrypted fields' values masked already (issue 13,
    ``crm_site.audit.trail.masked_changes``): shown as they are, to everyone."""
    return isinstance(value, str) and "***" in value


@register.simple_tag(takes_context=True)
def pii_entry_name(context: template.Context, entry: Any) -> str:
    """An audit entry's record name; a contact method's or address's (its value) masked.

    "Mobile: 13800138000" -> "Mobile: 138****8000"; an address ("street, district, city") -> "***".
    """
    name = str(entry.object_repr or "")
    user = getattr(context.get("request"), "user", None)
    if entry.model_label not in AUDIT_NAMED_BY_VALUE or not name or can_see_pii(user):
        return name
    if entry.model_label == "customers.ContactMethod":
        label, sep, value = name.partition(": ")
        if _masked_when_written(value):
            return name
        return (
            f"{label}{sep}{mask_contact('counterpart', value)}" if sep else mask_contact("counterpart", name)
        )
    return mask_contact("street", name)
