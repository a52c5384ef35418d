"""Fuzz every project form (issue 13): random input never raises; a valid ModelForm saves or says why.

The forms are found, not listed: every ``forms.Form`` / ``ModelForm`` subclass defined in a project
app's forms, views or admin modules. A form whose constructor needs arguments gets them from
``CONSTRUCT`` (a new form with required arguments fails ``test_every_form_is_fuzzed`` until it is added
there or to ``SKIP`` with a reason). Each form gets a dict of every field it declares (some left out),
each value random text, a value its field accepts, or one of NASTY_TEXT, posted the way a browser
posts it. More examples: ``HYPOTHESIS_PROFILE=thorough`` (crm_site/tests/fuzzing.py).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils.datastructures import MultiValueDict
from hypothesis import given
from hypothesis import strategies as st

from crm_site.db import atomic
from crm_site.tests.fuzzing import as_posted, fuzz_settings, nasty_text

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

PACKAGES = ["crm_site", *django_settings.PROJECT_APPS]
# Modules holding forms: <app>.forms (and submodules), views, admin, security.
FORM_MODULE_PARTS = {"forms", "views", "admin", "security"}


def _import_form_modules() -> None:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            parts = info.name.split(".")
            if "tests" in parts or "migrations" in parts or not FORM_MODULE_PARTS & set(parts[1:]):
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def project_forms() -> list[type[forms.BaseForm]]:
    _import_form_modules()
    return sorted(
        (
            cls
            for cls in _subclasses(forms.BaseForm)
            if cls.__module__.split(".")[0] in PACKAGES and ".tests" not in cls.__module__
        ),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# Forms not fuzzed on their own, and why.
SKIP = {
    # Abstract base of the list filters: no fields of its own; each list's subclass is fuzzed.
    "crm_site.listing.ListFilterForm": "a base class (its subclasses are fuzzed)",
}


def _customer_kwargs(ctx: Any) -> dict[str, Any]:
    return {"user": ctx.manager}


# Constructor arguments: form name -> [(case id, ctx -> kwargs)]. Forms not named take none.
CONSTRUCT: dict[str, list[tuple[str, Any]]] = {
    "customers.forms.customers.CustomerForm": [
        ("manager-new", lambda ctx: {"user": ctx.manager}),
        ("sales-edit", lambda ctx: {"user": ctx.sales, "instance": ctx.customer}),
    ],
    "customers.forms.customers.PartnerForm": [("manager", lambda ctx: {"user": ctx.manager})],
    "customers.forms.customers.MergeForm": [
        (
            "two-customers",
            lambda ctx: {"first": ctx.customer, "second": ctx.other, "survivor": ctx.customer, "history": {}},
        )
    ],
    "customers.forms.customers.ImportMappingForm": [
        ("headers", lambda ctx: {"headers": ["name", "phone", "email", "客户", ""], "initial_mapping": {}})
    ],
    "customers.forms.links.ShareForm": [("customer", lambda ctx: {"customer": ctx.customer})],
    "customers.forms.links.RelationshipForm": [
        ("customer", lambda ctx: {"customer": ctx.customer, "user": ctx.sales})
    ],
    "sessions_log.forms.EmailComposeForm": [("contacts", lambda ctx: {"contacts": [ctx.email]})],
    "sessions_log.forms.CannedReplyPickForm": [("replies", lambda ctx: {"replies": [ctx.reply]})],
    "sessions_log.forms.UnmatchedAttachForm": [
        (
            "remember",
            lambda ctx: {
                "user": ctx.sales,
                "item": SimpleNamespace(counterpart="caller@example.com"),
                "can_remember": True,
            },
        )
    ],
    "crm_site.security.forms.LoginForm": [("request", lambda ctx: {"request": ctx.request})],
    "customers.forms.privacy.DataRequestForm": [("manager", lambda ctx: {"user": ctx.manager})],
    **{
        name: [("sales", lambda ctx: {"user": ctx.sales})]
        for name in (
            "orders.forms.SalesOrderForm",
            "orders.forms.ServiceOrderForm",
            "orders.forms.ProjectForm",
            "orders.forms.OpportunityForm",
        )
    },
}


def _quick_log_cases() -> list[tuple[str, Any]]:
    from sessions_log.forms import CHANNEL_FIELDS

    return [(channel, lambda ctx, channel=channel: {"channel": channel}) for channel in CHANNEL_FIELDS]


CONSTRUCT["sessions_log.forms.QuickLogForm"] = _quick_log_cases()


def _cases() -> list[Any]:
    cases = []
    for cls in project_forms():
        name = _name(cls)
        if name in SKIP:
            continue
        for case_id, kwargs in CONSTRUCT.get(name, [("plain", lambda ctx: {})]):
            cases.append(pytest.param(cls, kwargs, id=f"{cls.__qualname__}-{case_id}"))
    return cases


@pytest.fixture
def ctx(make_user):
    from crm_site.models import ApiToken  # noqa: F401  (the app registry is ready here)
    from customers.models import ContactMethod, CustomFieldDefinition
    from customers.tests.factories import ContactMethodFactory, CustomerFactory, PartnerFactory, TagFactory
    from orders.tests.factories import ProductFactory
    from sessions_log.models import CannedReply

    sales, manager = make_user("fuzz_sales", "Sales"), make_user("fuzz_boss", "Manager")
    customer = CustomerFactory(owner=sales, name="王芳", external_id="EXT-1")
    other = CustomerFactory(owner=sales, name="Wang Fang", external_id="EXT-2")
    email = ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.EMAIL, value="wang@example.com")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.MOBILE, value="13800138000")
    PartnerFactory()
    TagFactory()
    ProductFactory()
    FieldType = CustomFieldDefinition.FieldType
    for field_type in FieldType.values:
        CustomFieldDefinition.objects.create(
            key=f"f_{field_type}", label=field_type, field_type=field_type, choices="gold\nsilver\n金"
        )
    reply = CannedReply.objects.create(name="thanks", subject="Thanks", body="Thank you.")
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    return SimpleNamespace(
        sales=sales,
        manager=manager,
        customer=customer,
        other=other,
        email=email,
        reply=reply,
        request=request,
    )


def _choice_values(field: forms.Field) -> list[str]:
    values = []
    for value, label in getattr(field, "choices", []) or []:
        if isinstance(label, list | tuple):  # an optgroup
            values.extend(str(v) for v, _label in label)
        else:
            values.append(str(getattr(value, "value", value)))
    return values[:20]


def _good_values(field: forms.Field, ctx: Any) -> list[str]:
    """Values the field itself accepts, so the fuzzer also reaches clean() and save()."""
    from customers.forms import CustomerChoiceField

    if isinstance(field, CustomerChoiceField):
        return [ctx.customer.name, "EXT-1", "13800138000", "Wang"]
    if isinstance(field, forms.ModelChoiceField):
        return [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:3]]
    if isinstance(field, forms.ChoiceField):
        return _choice_values(field)
    if isinstance(field, forms.BooleanField):
        return ["on", ""]
    if isinstance(field, forms.DateTimeField):
        return ["2026-06-01T10:00", "2026-06-01 10:00:00", "1900-01-01T00:00"]
    if isinstance(field, forms.DateField):
        return ["2026-06-01", "1900-01-01", "2100-12-31"]
    if isinstance(field, forms.IntegerField):
        return ["1", "5", "60"]
    if isinstance(field, forms.DecimalField | forms.FloatField):
        return ["10.50", "0", "99999999999.99"]
    if isinstance(field, forms.EmailField):
        return ["someone@example.com"]
    if isinstance(field, forms.URLField):
        return ["example.com", "https://例子.测试/路径"]
    if isinstance(field, forms.UUIDField):
        return [str(ctx.customer.pk)]
    if isinstance(field, forms.JSONField):
        return ['{"a": 1}', "[]"]
    return ["Zhang Wei 张伟", "note", "gold"]


def _upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or "f", content, content_type="application/octet-stream")


FILE_CONTENT = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            b"",
            b"name,phone\n\xe7\x8e\x8b,138\n",
            "\ufeffname,phone\n王芳,13800138000\n".encode(),
            "name;phone\n王芳;13800138000\n".encode("gb18030"),
            b"PK\x03\x04" + b"\x00" * 100,
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 30,
        ]
    ),
)


def _form_input(form: forms.BaseForm, ctx: Any) -> st.SearchStrategy[tuple[dict, dict]]:
    """(data, files) for the fields the form declares: either every field random (each present or not),
    or each field a value it accepts with a few of them replaced by random ones (to reach save())."""
    good: dict[str, st.SearchStrategy] = {}
    anything: dict[str, st.SearchStrategy] = {}
    file_parts: dict[str, st.SearchStrategy] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if isinstance(field, forms.FileField):
            upload = st.builds(
                _upload, FILE_CONTENT, st.sampled_from(["a.csv", "b.xlsx", "c.pdf", "", "客户.txt"])
            )
            file_parts[key] = st.lists(upload, max_size=2)
            continue
        accepted = st.sampled_from(_good_values(field, ctx) or [""])
        good[key] = st.lists(accepted, min_size=1, max_size=1)
        anything[key] = st.lists(st.one_of(accepted, nasty_text), max_size=2)
        if name in ("customer", "related"):  # the picker's hidden id and its radio choice
            for extra in (f"{key}_id", f"{key}_pick"):
                anything[extra] = st.lists(st.sampled_from([str(ctx.customer.pk), "x", ""]), max_size=1)
    random_all = st.fixed_dictionaries({}, optional=anything)
    mostly_good = st.tuples(
        st.fixed_dictionaries(good),
        st.dictionaries(st.sampled_from(sorted(anything)), st.lists(nasty_text, max_size=2), max_size=2)
        if anything
        else st.just({}),
    ).map(lambda pair: {**pair[0], **pair[1]})
    return st.tuples(st.one_of(mostly_good, random_all), st.fixed_dictionaries(file_parts))


def _save_customer(form: Any, ctx: Any) -> None:
    from customers.services import customer_save

    instance = None if form.instance._state.adding else form.instance
    customer_save(customer=instance, fields=form.service_fields(), tags=form.tag_list(), by=ctx.user)


def _save_partner(form: Any, ctx: Any) -> None:
    from customers.services import partner_save

    partner_save(
        partner=None, **{"owner": ctx.user, **{name: form.cleaned_data[name] for name in form.fields}}
    )


def _save_project(form: Any, ctx: Any) -> None:
    from orders.services import projects

    data = dict(form.cleaned_data)
    data["members"] = list(data.pop("members") or [])
    projects.project_create(owner=ctx.user, **data)


def _save_by(module: str, name: str) -> Any:
    def save(form: Any, ctx: Any) -> None:
        getattr(importlib.import_module(module), name)(owner=ctx.user, **form.cleaned_data)

    return save


# How each view saves a valid ModelForm (the views call services, not form.save()): form name ->
# (form, ctx) -> None, ctx.user being the user the form was made for. Others use form.save().
SAVE: dict[str, Any] = {
    "customers.forms.customers.CustomerForm": _save_customer,
    "customers.forms.customers.PartnerForm": _save_partner,
    "orders.forms.ProjectForm": _save_project,
    "orders.forms.SalesOrderForm": _save_by("orders.services.sales", "sales_order_create"),
    "orders.forms.OpportunityForm": _save_by("orders.services.opportunities", "opportunity_create"),
    "orders.forms.ServiceOrderForm": _save_by("orders.services.tickets", "service_order_create"),
    "orders.forms.ProductForm": lambda form, ctx: importlib.import_module(
        "orders.services.catalog"
    ).product_create(**form.cleaned_data),
    # The admin saves a new token through api_token_create (crm_site/admin.py, save_model).
    "crm_site.admin.ApiTokenForm": lambda form, ctx: importlib.import_module("crm_site.api").api_token_create(
        **{name: form.cleaned_data[name] for name in ("name", "user", "scopes", "expires_at")}
    ),
}


class _Rollback(Exception):
    pass


def _save_rolled_back(form: Any, ctx: Any) -> None:
    """Saved as its view saves it, in a transaction then undone: it works or raises ValidationError."""
    save = SAVE.get(_name(type(form)), lambda form, ctx: form.save())
    try:
        with atomic():
            save(form, ctx)
            raise _Rollback
    except (_Rollback, ValidationError):
        pass


def test_every_form_is_fuzzed():
    names = {_name(cls) for cls in project_forms()}
    assert "customers.forms.customers.CustomerForm" in names and "orders.forms.ProductForm" in names
    assert set(SKIP) <= names, "SKIP names a form that no longer exists"
    assert set(CONSTRUCT) <= names, "CONSTRUCT names a form that no longer exists"
    assert set(SAVE) <= names, "SAVE names a form that no longer exists"


@pytest.mark.parametrize(("form_class", "kwargs"), _cases())
def test_random_input_never_breaks_a_form(form_class, kwargs, ctx):
    form_kwargs = kwargs(ctx)
    try:
        blank = form_class(**form_kwargs)
    except TypeError as error:  # pragma: no cover - a new form needs a CONSTRUCT entry
        pytest.fail(f"{_name(form_class)} needs constructor arguments: add it to CONSTRUCT or SKIP ({error})")

    @fuzz_settings()
    @given(_form_input(blank, ctx))
    def fuzz(payload):
        data, files = payload
        form = form_class(data=as_posted(data), files=MultiValueDict(files), **form_kwargs)
        valid = form.is_valid()
        form.errors.get_json_data()
        str(form)  # the page shows the form again with its errors
        if valid and isinstance(form, forms.BaseModelForm):
            _save_rolled_back(form, SimpleNamespace(user=form_kwargs.get("user") or ctx.manager))

    fuzz()
