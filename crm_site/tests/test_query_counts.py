"""Every page of the site against its exact query-count baseline, at two data sizes.

``PAGES`` says, for each URL name that answers GET with a page, who opens it and with which kwargs;
``NOT_PAGES`` names the others, each with the reason. A URL pattern in neither fails
``test_every_url_pattern_is_a_page_or_has_a_reason``, and a page without an entry in its app's
``tests/query_counts.json`` fails (``crm_site.testing.assert_query_counts``).

For each role the test builds one site (``Site``) with 30 of everything the pages show (customers with
contacts, addresses, tags, relationships and shares; orders with lines; tickets; projects with
milestones; deals; products; imports with errors; partner links; profiles and events), opens every page,
grows the site to 60 and opens every page again: each page's count must be the same at both sizes (every
list past its first page both times) and equal to its baseline. One failure lists every page that is off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from crm_site.testing import (
    assert_query_count,
    assert_query_counts,
    load_query_counts,
    query_count_baseline,
    query_counts_path,
)
from crm_site.tests.test_second_user import url_names

pytestmark = pytest.mark.django_db


@dataclass
class Site:
    """The records the pages point at, owned by ``sales`` (a Sales user); ``manager`` sees everything."""

    sales: Any
    manager: Any
    objects: dict[str, Any] = field(default_factory=dict)
    added: int = 0

    def __getitem__(self, key: str) -> Any:
        return self.objects[key]

    def grow(self, k: int) -> None:
        """``k`` more of every kind of record the pages list or show."""
        from django.contrib.auth import get_user_model

        from customers.models import CustomerShare
        from customers.services import customer_set_tags
        from customers.tests.factories import (
            AddressFactory,
            ContactMethodFactory,
            CustomerFactory,
            RelationshipFactory,
        )
        from orders.models import Milestone, OrderImport
        from orders.tests.factories import (
            OpportunityFactory,
            OrderLineFactory,
            ProductFactory,
            ProjectFactory,
            SalesOrderFactory,
            ServiceOrderFactory,
        )
        from profiles.services.segments import segments_refresh
        from profiles.tests.factories import EventFactory

        o = self.objects
        main = o["customer"]
        users = get_user_model().objects
        for _ in range(k):
            i = self.added
            self.added += 1
            customer = CustomerFactory(owner=self.sales, name=f"QC Customer {i:04d}")
            ContactMethodFactory(customer=customer)
            # Every third one is a duplicate of the main customer (same mobile).
            if i % 3 == 0:
                ContactMethodFactory(customer=customer, value=o["mobile"])
            AddressFactory(customer=customer)
            customer_set_tags(customer=customer, names=[f"qc-tag-{i % 5}", f"qc-own-{i}"])
            ContactMethodFactory(customer=main, kind="email", value=f"qc{i}@example.com")
            AddressFactory(customer=main, is_default=False)
            RelationshipFactory(customer=main, related_customer=customer)
            RelationshipFactory(
                customer=customer, related_customer=None, partner=o["partner"], kind="reseller_of"
            )
            CustomerShare.objects.create(customer=main, user=users.create(username=f"qc-share-{i}"))
            order = SalesOrderFactory(customer=customer if i % 2 else main, number=f"SO-QC-{i:04d}")
            OrderLineFactory(order=order, product=ProductFactory(sku=f"SKU-QC-{i:04d}"))
            OrderLineFactory(order=o["order"], product=o["product"])
            ServiceOrderFactory(customer=customer if i % 2 else main, number=f"SR-QC-{i:04d}")
            ProjectFactory(customer=customer if i % 2 else main, name=f"Project QC-{i:04d}")
            Milestone.objects.create(
                project=o["project"], name=f"Milestone {i}", due_date=timezone.localdate()
            )
            OpportunityFactory(customer=customer if i % 2 else main, name=f"Deal QC-{i:04d}")
            EventFactory(customer=main)
            self._interaction(main, i)
            self._unmatched(i)
            self._profile(customer, i)
            self._profile_change(main, i)
            o["customer_import"].errors.append({"row": i + 2, "field": "name", "message": "required"})
            o["order_import"].errors.append({"row": i + 2, "field": "sku", "message": "unknown"})
            OrderImport.objects.create(
                owner=self.sales, file=f"order_imports/qc{i}.csv", original_name=f"{i}.csv"
            )
            self._customer_import(f"qc-{i}.csv")
            self._data_request(customer)
        for job in (o["customer_import"], o["order_import"]):
            job.error_count = len(job.errors)
            job.save(update_fields=["errors", "error_count"])
        segments_refresh(run=o["run"])
        o["segment"].refresh_from_db()

    def _interaction(self, customer: Any, i: int) -> None:
        """An interaction of the sales user with a follow-up due (half overdue, half upcoming) and a file;
        the main interaction (its page) gains a file too."""
        from datetime import timedelta

        from sessions_log.models import Attachment, FollowUp, Interaction

        interaction = Interaction.objects.create(
            customer=customer, channel="call", staff=self.sales, subject=f"QC call {i}"
        )
        FollowUp.objects.create(
            customer=customer,
            interaction=interaction,
            title=f"QC follow-up {i}",
            assignee=self.sales,
            due_at=timezone.now() + timedelta(days=(i % 2) * 2 - 1),
        )
        for target in {interaction, self.objects.get("interaction", interaction)}:
            Attachment.objects.create(
                interaction=target, file=f"attachments/qc-{i}.pdf", name=f"qc-{i}.pdf",
                content_type="application/pdf", size=1000 + i, uploaded_by=self.sales,
            )  # fmt: skip

    def _unmatched(self, i: int) -> None:
        """A mail from an unknown sender in the sales user's inbox; the main item gains a file."""
        from sessions_log.models import Attachment, UnmatchedItem

        UnmatchedItem.objects.create(
            channel="email", counterpart=f"qc-unknown-{i}@example.com", subject=f"QC unmatched {i}",
            received_by=self.sales,
        )  # fmt: skip
        Attachment.objects.create(
            unmatched=self.objects["unmatched"], file=f"attachments/qc-in-{i}.pdf", name=f"qc-in-{i}.pdf",
            content_type="application/pdf", size=1000 + i,
        )  # fmt: skip

    def _profile(self, customer: Any, i: int) -> None:
        from profiles.models import CustomerProfile

        CustomerProfile.objects.create(
            run=self["run"],
            customer=customer,
            rfm_segment="champions" if i % 2 else "loyal",
            frequency=1 + i % 4,
            clv_12m=100 + i,
            churn_risk=0.05 * (i % 10),
            next_best_offers=["图书 Books"],
            offers_text="|图书 Books|",
            computed_at=self["run"].as_of,
        )

    def _profile_change(self, customer: Any, i: int) -> None:
        """A line of the customer's timeline from the profiles (segment moved)."""
        from profiles.models import ProfileChange

        ProfileChange.objects.create(
            customer=customer,
            run=self["run"],
            source="rebuild",
            kind="segment_moved",
            before="loyal",
            after="champions" if i % 2 else "at_risk",
            occurred_at=timezone.now(),
        )

    def _data_request(self, customer: Any) -> Any:
        """A data-subject request (issue 13), half of them overdue, every one with its archive's counts."""
        from datetime import timedelta

        from customers.models import DataSubjectRequest

        now = timezone.now()
        return DataSubjectRequest.objects.create(
            customer=customer, kind="access", law="pipl", received_via="email", received_at=now,
            due_at=now + timedelta(days=(self.added % 2) * 30 - 1), handled_by=self.manager,
            outcome={"exported": {"customer": 1, "contact_methods": 2}},
        )  # fmt: skip

    def _customer_import(self, name: str) -> Any:
        from customers.models import CustomerImport

        return CustomerImport.objects.create(
            created_by=self.sales, original_name=name, file_format="csv", headers=["name"], status="invalid"
        )


def build_site(*, sales: Any, manager: Any) -> Site:
    from customers.tests.factories import ContactMethodFactory, CustomerFactory, PartnerFactory
    from orders.models import OrderImport
    from orders.tests.factories import (
        OpportunityFactory,
        OrderLineFactory,
        ProductFactory,
        ProjectFactory,
        SalesOrderFactory,
        ServiceOrderFactory,
    )
    from profiles.services.segments import segment_create, segments_refresh
    from profiles.tests.factories import ProfileRunFactory

    site = Site(sales=sales, manager=manager)
    o = site.objects
    o["mobile"] = "+86 138 0013 8000"
    o["customer"] = CustomerFactory(owner=sales, name="QC Main Customer", external_id="QC-MAIN")
    ContactMethodFactory(customer=o["customer"], value=o["mobile"])
    ContactMethodFactory(customer=o["customer"], kind="email", value="qc.main@example.com")
    o["twin"] = CustomerFactory(owner=sales, name="QC Main Twin")
    ContactMethodFactory(customer=o["twin"], value=o["mobile"])
    o["partner"] = PartnerFactory(name="QC Partner", owner=sales)
    o["product"] = ProductFactory(sku="SKU-QC-MAIN", unit_price=Decimal("50.00"))
    o["order"] = SalesOrderFactory(customer=o["customer"], number="SO-QC-MAIN", status="draft")
    OrderLineFactory(order=o["order"], product=o["product"])
    o["ticket"] = ServiceOrderFactory(customer=o["customer"], number="SR-QC-MAIN")
    o["project"] = ProjectFactory(customer=o["customer"], name="Project QC-MAIN")
    o["opportunity"] = OpportunityFactory(customer=o["customer"], name="Deal QC-MAIN")
    site._interaction(o["customer"], 0)
    from sessions_log.models import CannedReply

    for language in ("en", "zh-hans"):
        CannedReply.objects.create(
            name="QC reply", language=language, subject="Hi", body="Dear {customer_name}"
        )
    o["interaction"] = o["customer"].interactions.get()
    from sessions_log.models import UnmatchedItem

    o["unmatched"] = UnmatchedItem.objects.create(
        channel="email", counterpart="qc.unknown@example.com", subject="QC unmatched", received_by=sales
    )
    o["customer_import"] = site._customer_import("qc-main.csv")
    o["order_import"] = OrderImport.objects.create(
        owner=sales, file="order_imports/qc-main.csv", original_name="qc-main.csv", status="invalid"
    )
    o["run"] = ProfileRunFactory(is_active=True, finished_at=timezone.now(), chunks_total=1, chunks_done=1)
    site._profile(o["customer"], 1)
    site._profile(o["twin"], 0)
    segments_refresh(run=o["run"])
    o["segment"] = segment_create(name="QC buyers", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    o["data_request"] = site._data_request(o["customer"])
    return site


Kwargs = Callable[[Site], dict[str, Any]]


SALES, MANAGER = "sales", "manager"


@dataclass(frozen=True)
class Page:
    """One GET page: its URL kwargs and query string.

    A page Sales may use is measured for a sales user (key: the URL name) and for a manager (key:
    ``"<name> manager"``); a managers-only page (``managers_only``) for a manager under the URL name.
    """

    kwargs: Kwargs = lambda s: {}
    managers_only: bool = False
    query: dict[str, str] = field(default_factory=dict)
    follow: bool = False

    def roles(self) -> list[str]:
        return [MANAGER] if self.managers_only else [SALES, MANAGER]

    def key(self, name: str, role: str) -> str:
        return f"{name} manager" if role == MANAGER and not self.managers_only else name


def pk(key: str, name: str = "pk") -> Kwargs:
    return lambda s: {name: s[key].pk}


# Every list is past its first page (25 rows) at both sizes.
SIZES = (30, 60)
PAGES: dict[str, Page] = {
    # --- project pages: the dashboard pulls a card from every app
    "dashboard": Page(),
    "api-v1-docs": Page(),
    "api-v1-schema": Page(),
    "global-search": Page(query={"q": "QC"}),
    # The History tab of a customer (its contacts', addresses' and orders' entries too): keyset pages.
    "audit-history": Page(lambda s: {"kind": "customer", "pk": s["customer"].pk}),
    "password_change": Page(),
    "password_change_done": Page(),
    # A user without an authenticator (every user here) may set one up: the QR code and the key.
    "two-factor-setup": Page(),
    # --- customers
    "customers:index": Page(),
    "customers:customer-create": Page(),
    "customers:customer-choices": Page(query={"q": "QC"}),
    "customers:customer-detail": Page(pk("customer")),
    "customers:customer-update": Page(pk("customer")),
    "customers:customer-timeline": Page(pk("customer")),
    "customers:customer-consent": Page(pk("customer")),
    "customers:customer-delete": Page(pk("customer"), managers_only=True),
    # The reveal's no-JS reason form (issue 13): for holders of reveal_pii (a manager here).
    "customers:customer-reveal": Page(pk("customer"), managers_only=True),
    # Data-subject requests (issue 13): the Manager's pages.
    "customers:privacy-request-list": Page(managers_only=True),
    "customers:privacy-request-create": Page(managers_only=True),
    "customers:privacy-request-detail": Page(pk("data_request"), managers_only=True),
    "customers:privacy-request-erase": Page(pk("data_request"), managers_only=True),
    "customers:customer-duplicates": Page(pk("customer")),
    "customers:customer-merge": Page(lambda s: {"pk": s["customer"].pk, "other": s["twin"].pk}),
    "customers:customer-sharing": Page(pk("customer")),
    "customers:relationship-create": Page(pk("customer")),
    "customers:duplicate-list": Page(),
    "customers:import-list": Page(),
    "customers:import-create": Page(),
    "customers:import-detail": Page(pk("customer_import")),
    "customers:partner-list": Page(),
    "customers:partner-detail": Page(pk("partner")),
    "customers:partner-create": Page(),
    "customers:partner-update": Page(pk("partner"), managers_only=True),
    # --- orders
    "orders:index": Page(),
    "orders:salesorder-list": Page(),
    "orders:salesorder-create": Page(),
    "orders:salesorder-detail": Page(pk("order")),
    "orders:salesorder-edit": Page(pk("order")),
    "orders:serviceorder-list": Page(),
    "orders:serviceorder-create": Page(),
    "orders:serviceorder-detail": Page(pk("ticket")),
    "orders:serviceorder-edit": Page(pk("ticket")),
    "orders:project-list": Page(),
    "orders:project-create": Page(),
    "orders:project-detail": Page(pk("project")),
    "orders:project-edit": Page(pk("project")),
    "orders:opportunity-list": Page(),
    "orders:opportunity-board": Page(),
    "orders:opportunity-create": Page(),
    "orders:opportunity-detail": Page(pk("opportunity")),
    "orders:opportunity-edit": Page(pk("opportunity")),
    "orders:product-list": Page(),
    "orders:product-create": Page(managers_only=True),
    "orders:product-edit": Page(pk("product"), managers_only=True),
    "orders:import-create": Page(),
    "orders:import-detail": Page(pk("order_import")),
    "orders:reports": Page(managers_only=True),
    # --- sessions log
    "sessions_log:index": Page(),
    "sessions_log:interaction-detail": Page(pk("interaction")),
    "sessions_log:follow-up-list": Page(),
    "sessions_log:follow-up-team": Page(managers_only=True),
    "sessions_log:email-compose": Page(pk("customer", "customer_pk")),
    "sessions_log:unmatched-list": Page(),
    "sessions_log:unmatched-detail": Page(pk("unmatched")),
    # --- profiles
    "profiles:index": Page(),
    "profiles:profile-detail": Page(pk("customer", "customer_pk")),
    "profiles:segment-list": Page(),
    "profiles:segment-detail": Page(pk("segment")),
    "profiles:segment-create": Page(managers_only=True),
    "profiles:segment-update": Page(pk("segment"), managers_only=True),
    "profiles:run-create": Page(managers_only=True),
    "profiles:run-detail": Page(pk("run"), managers_only=True),
    "profiles:run-progress": Page(pk("run"), managers_only=True),
    "profiles:event-import": Page(managers_only=True),
}

# URL names that are not pages (or not walked here), each with the reason.
NOT_PAGES = {
    "profiles:segment-delete": "POST only: deletes a manual segment (walked per role in test_roles.py)",
    "login": "public login form; no records",
    "logout": "ends the session; takes no object",
    "healthz": "health probe: database and broker state, no records",
    "favicon": "a redirect to the static icon; no database",
    "two-factor-verify": "a redirect once the session passed its second factor (these sessions have)",
    "two-factor-recovery-codes": "a redirect to the setup for a user without an authenticator (these users)",
    "customers:customer-export": "file download (streamed export)",
    "profiles:segment-export": "file download (streamed export)",
    "customers:import-commit": "POST only (queues the import)",
    "customers:customer-unshare": "POST only",
    "customers:relationship-delete": "POST only",
    "customers:customer-consent-record": "POST only (gives or withdraws one consent)",
    "orders:salesorder-transition": "POST only",
    "orders:orderline-add": "POST only",
    "orders:orderline-remove": "POST only",
    "orders:serviceorder-transition": "POST only",
    "orders:milestone-create": "POST only",
    "orders:opportunity-move": "POST only",
    "customers_api_v1:consent-create": "API, POST only",
    "customers_api_v1:consent-list": "API (bearer token): one customer's current answers",
    "profiles_api:event-create": "API, POST only",
    "profiles_api_v1:event-create": "API, POST only",
    "sessions_log_api:call-create": "API, POST only",
    "sessions_log_api:chat-create": "API, POST only",
    "sessions_log_api:interaction-list": "API (bearer token); query count in sessions_log/tests/test_api.py",
    "sessions_log:interaction-log": "POST only",
    "sessions_log:attachment-download": "file download (streamed; the rule is walked in test_attachments.py)",
    "sessions_log:attachment-add": "POST only",
    "sessions_log:attachment-delete": "POST only",
    "sessions_log:follow-up-done": "POST only",
    "sessions_log:unmatched-attach": "POST only",
    "sessions_log:unmatched-dismiss": "POST only",
    "sessions_log:follow-up-snooze": "POST only",
    "sessions_log:follow-up-reschedule": "POST only",
    "sessions_log:follow-up-cancel": "POST only",
    "customers:privacy-request-download": "file download (customers/tests/test_privacy_requests.py)",
    "customers:privacy-request-export": "POST only",
    "customers:privacy-request-refuse": "POST only",
    "customers:privacy-request-complete": "POST only",
}


def test_every_url_pattern_is_a_page_or_has_a_reason():
    names = url_names()
    missing = [name for name in names if name not in PAGES and name not in NOT_PAGES]
    assert not missing, (
        f"URL patterns neither in PAGES nor in NOT_PAGES of crm_site/tests/test_query_counts.py: "
        f"{', '.join(missing)}. A GET page needs an entry in PAGES and a baseline in its app's "
        "tests/query_counts.json."
    )
    stale = sorted(name for name in [*PAGES, *NOT_PAGES] if name not in names)
    assert not stale, f"Entries for URL names that no longer exist: {', '.join(stale)}"


def test_every_baseline_names_a_page_or_a_function():
    """A key is a URL name (optionally followed by what is measured) or ``<app>:<module.function>``."""
    names = set(url_names())
    files = {query_counts_path(f"{name} x") for name in names} | {query_counts_path("dashboard")}
    stale = []
    for path in sorted(files):
        for section in load_query_counts(path).values():
            for key in section:
                url_name = key.split(" ", 1)[0]
                if url_name in names:
                    continue
                app, _, dotted = url_name.partition(":")
                try:
                    import_string(f"{app}.{dotted}")
                except ImportError:
                    stale.append(f"{path.parent.parent.name}: {key}")
    assert not stale, f"Baselines for pages or functions that no longer exist: {', '.join(stale)}"


@pytest.mark.parametrize("role", [SALES, MANAGER])
def test_every_page_query_count_is_the_baseline_at_two_sizes(
    client, sales_user, manager_user, role, settings
):
    # The session's last-seen time is saved once a minute (crm_site.security.middleware): one more query on
    # whichever page a slow run reaches after that minute, which is not the page's cost.
    settings.CRM_SESSION_SEEN_WRITE_SECONDS = 10**9
    site = build_site(sales=sales_user, manager=manager_user)
    client.force_login(manager_user if role == MANAGER else sales_user)

    def opener(url: str, page: Page) -> Callable[[], Any]:
        def get() -> Any:
            response = client.get(url, page.query, follow=page.follow)
            assert response.status_code == 200, f"GET {url} as {role} answered {response.status_code}"
            return response

        return get

    requests = {
        page.key(name, role): opener(reverse(name, kwargs=page.kwargs(site)), page)
        for name, page in PAGES.items()
        if role in page.roles()
    }
    assert_query_counts(requests, grow=site.grow, sizes=SIZES)


def test_a_page_without_a_baseline_fails(client, sales_user, monkeypatch):
    """The helper refuses a key its file does not have, naming the file and the observed count."""
    monkeypatch.setattr("crm_site.testing._update_query_counts", False)
    assert query_count_baseline("customers:index no such measurement") is None
    client.force_login(sales_user)
    with pytest.raises(
        pytest.fail.Exception, match=r"no query-count baseline in customers/tests/query_counts.json"
    ):
        assert_query_count(
            "customers:index no such measurement", lambda: client.get(reverse("customers:index"))
        )


def test_a_count_that_grows_with_the_data_fails_with_a_diff(sales_user, monkeypatch):
    """Two sizes with different counts fail whatever the baseline says, showing the extra queries."""
    from customers.models import Customer
    from customers.tests.factories import CustomerFactory

    monkeypatch.setattr("crm_site.testing._update_query_counts", False)

    def one_query_per_customer() -> int:
        return sum(len(c.name) for c in Customer.objects.all() if c.owner.username)

    # The extra query in the diff: SQL "SELECT ... auth_user" or MongoDB "db.auth_user.aggregate(...)".
    with pytest.raises(pytest.fail.Exception, match=r"grows with the data[\s\S]*\+.*auth_user"):
        assert_query_count(
            "customers:index",
            one_query_per_customer,
            grow=lambda k: CustomerFactory.create_batch(k, owner=sales_user),
            sizes=(1, 2),
        )
