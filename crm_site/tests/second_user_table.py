"""The "second sales user" table walked by ``test_second_user.py``.

User A (``sales_user``) owns a private set of records (``build_world``); user B (``other_sales_user``,
also Sales, nothing shared with them) opens every URL of the site with GET and POST. Each URL name has
one ``Entry``: how to build its kwargs from A's records (one or more variants), the exact status B must
get for GET and for POST, and the data B sends. Whatever B gets, no response may contain any of A's
private markers (names, numbers, contacts, file names) and no request may change any of A's rows.

House rule: a record B cannot see answers 404 (a 403 would confirm it exists); a page B's role may not
use at all answers 403. A new URL pattern without an entry here fails the walk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

# URL names that are not walked, each with the reason.
SKIPPED = {
    "login": "public: the login form (an authenticated user is redirected away from it)",
    "logout": "ends B's own session; takes no object",
    "healthz": "public health probe: database and broker state, no records",
    "favicon": "public: a redirect to the static icon, no records",
}
# Whole sub-trees that are not walked (route prefix -> reason).
SKIPPED_PREFIXES = {
    "admin/": "the Django admin: staff-only (is_staff), managers' UI, guarded by admin permissions",
    "i18n/": "Django's language switch: sets a cookie, no records",
}


@dataclass
class World:
    """A's private records, B's own records, and the strings that must never reach B."""

    a: Any
    b: Any
    carol: Any
    objects: dict[str, Any] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.objects[key]

    def a_pks(self) -> set[str]:
        """The primary keys of A's records (a new row pointing at one of them is a change to A's data)."""
        return {str(obj.pk) for key, obj in self.objects.items() if key.startswith("a_")}


def build_world(*, a: Any, b: Any, make_user: Any) -> World:
    """A's private customer with everything hanging off it, plus B's own customer and order."""
    from crm_site.api import api_token_create
    from crm_site.models import ApiToken
    from customers.models import CustomerImport, CustomerShare
    from customers.tests.factories import (
        AddressFactory,
        ContactMethodFactory,
        CustomerFactory,
        PartnerFactory,
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
    from profiles.models import CustomerProfile
    from profiles.services.segments import segment_create
    from profiles.tests.factories import EventFactory, ProfileRunFactory

    carol = make_user("carol_c", "Sales")
    w = World(a=a, b=b, carol=carol)
    o = w.objects
    o["a_customer"] = CustomerFactory(name="Zz Alpha Private 秘密", owner=a, external_id="EXT-ALPHA")
    ContactMethodFactory(customer=o["a_customer"], kind="mobile", value="+86 139 7654 3210")
    ContactMethodFactory(customer=o["a_customer"], kind="email", value="zz.alpha.secret@example.com")
    AddressFactory(customer=o["a_customer"], street="Zz Alpha Secret Road 7")
    o["a_twin"] = CustomerFactory(name="Zz Alpha Twin 秘密", owner=a, external_id="EXT-ALPHA-2")
    ContactMethodFactory(customer=o["a_twin"], kind="mobile", value="+86 139 7654 3210")
    o["a_share"] = CustomerShare.objects.create(customer=o["a_customer"], user=carol)
    o["b_customer"] = CustomerFactory(name="Bee Own Customer", owner=b, external_id="EXT-BEE")
    # Partners are the shared directory (customers.selectors.partners): B reads A's partner, never edits
    # it, and its page lists only the customers B may see.
    o["a_partner"] = PartnerFactory(name="Directory Partner", owner=a)
    o["a_partner_link"] = RelationshipFactory(
        customer=o["a_customer"], related_customer=None, partner=o["a_partner"], kind="reseller_of"
    )
    o["a_relationship"] = RelationshipFactory(customer=o["a_customer"], related_customer=o["a_twin"])
    # A links A's private customer to B's customer: B's page must not name A's customer.
    o["a_reverse_link"] = RelationshipFactory(customer=o["a_customer"], related_customer=o["b_customer"])
    o["a_import"] = CustomerImport.objects.create(
        created_by=a, original_name="zz-alpha-secret-import.csv", file_format="csv", headers=["name"]
    )
    o["product"] = ProductFactory(sku="SKU-WALK", name="Walk Product", unit_price=Decimal("50.00"))
    o["a_order"] = SalesOrderFactory(number="SO-ZZ-ALPHA", customer=o["a_customer"], status="draft")
    o["a_line"] = OrderLineFactory(order=o["a_order"], product=o["product"])
    o["b_order"] = SalesOrderFactory(number="SO-BEE-OWN", customer=o["b_customer"], status="draft")
    o["a_ticket"] = ServiceOrderFactory(
        number="SR-ZZ-ALPHA", customer=o["a_customer"], subject="Zz Alpha Ticket Secret"
    )
    o["a_project"] = ProjectFactory(customer=o["a_customer"], name="Zz Alpha Project Secret")
    o["a_milestone"] = Milestone.objects.create(
        project=o["a_project"], name="Zz Alpha Milestone", due_date=timezone.localdate()
    )
    o["a_opportunity"] = OpportunityFactory(customer=o["a_customer"], name="Zz Alpha Deal Secret")
    o["a_order_import"] = OrderImport.objects.create(
        owner=a, file="order_imports/zz.csv", original_name="zz-alpha-secret-orders.csv"
    )
    run = ProfileRunFactory(is_active=True, finished_at=timezone.now(), chunks_total=1, chunks_done=1)
    o["run"] = run
    for customer in (o["a_customer"], o["b_customer"]):
        CustomerProfile.objects.create(
            run=run, customer=customer, rfm_segment="loyal", frequency=2, computed_at=run.as_of
        )
    o["segment"] = segment_create(name="Walk buyers", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    o["a_event"] = EventFactory(customer=o["a_customer"], idempotency_key="zz-alpha-event")
    from sessions_log.models import FollowUp, Interaction

    o["a_interaction"] = Interaction.objects.create(
        customer=o["a_customer"], channel="call", staff=a, subject="Zz Alpha Call Secret", body="secret"
    )
    o["a_follow_up"] = FollowUp.objects.create(
        customer=o["a_customer"], title="Zz Alpha Follow-up Secret", due_at=timezone.now(), assignee=a
    )
    from sessions_log.models import Attachment, UnmatchedItem

    # Files: one on A's interaction, one on a mail A received from an unknown sender (rows only: B never
    # reaches the storage).
    o["a_attachment"] = Attachment.objects.create(
        interaction=o["a_interaction"], file="attachments/zz.pdf", name="zz-alpha-secret-offer.pdf",
        content_type="application/pdf", size=10, uploaded_by=a,
    )  # fmt: skip
    o["a_mail_for_file"] = UnmatchedItem.objects.create(
        channel="email", counterpart="zz.alpha.sender@example.com", subject="Zz Alpha Mail", received_by=a
    )
    o["a_mail_attachment"] = Attachment.objects.create(
        unmatched=o["a_mail_for_file"], file="attachments/zz-mail.pdf", name="zz-alpha-secret-mail.pdf",
        content_type="application/pdf", size=10,
    )  # fmt: skip
    _token, w.objects["b_token"] = api_token_create(name="b-shop", user=b, scopes=ApiToken.Scope.values)
    # B's own customer import naming A's customer by external id (with and without an owner column),
    # checked as the dry run would: committing it must not touch A's customer.
    o["b_import"] = _b_import_of_a_customer(b)
    o["a_dsr"] = _a_data_request(o["a_customer"])
    w.markers = [
        "Zz Alpha",
        "+86 139 7654 3210",
        "13976543210",
        "zz.alpha.secret@example.com",
        "SO-ZZ-ALPHA",
        "SR-ZZ-ALPHA",
        "zz-alpha-secret",
        # Links to A's customers (B's own query string may echo a bare id back into a form field).
        f"{o['a_customer'].pk}/",
        f"{o['a_twin'].pk}/",
    ]
    return w


def _a_data_request(customer: Any) -> Any:
    """A's customer asked for their data (issue 13); the request is the privacy officer's to handle."""
    from customers.models import DataSubjectRequest

    now = timezone.now()
    return DataSubjectRequest.objects.create(
        customer=customer, kind="erasure", law="pipl", received_via="email", received_at=now, due_at=now
    )


def _b_import_of_a_customer(b: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.services.imports import (
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    csv_bytes = b"external_id,name,owner\nEXT-ALPHA,Taken over by B,sales_b\n"
    job = customer_import_create(
        upload=SimpleUploadedFile("b-import.csv", csv_bytes, "text/csv"), encoding="utf-8", user=b
    )
    customer_import_set_mapping(
        job=job, mapping={"external_id": "external_id", "name": "name", "owner": "owner"}
    )
    return customer_import_validate(job=job)


def _order_file(w: World) -> dict[str, Any]:
    """An order import naming A's customers by external id (and asking for unknown ones to be created)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv_bytes = (
        b"customer_external_id,order_number,order_date,sku,quantity,amount\n"
        b"EXT-ALPHA,SO-B-IMPORT-1,2026-01-05,SKU-WALK,1,50.00\n"
        b"EXT-ALPHA-2,SO-B-IMPORT-2,2026-01-05,SKU-WALK,2,100.00\n"
    )
    return {
        "file": SimpleUploadedFile("b-orders.csv", csv_bytes, "text/csv"),
        "dry_run": "",
        "create_customers": "on",
    }


def _planted_file(w: World) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"attachments": SimpleUploadedFile("planted.pdf", b"%PDF-1.4\n", "application/pdf")}


Kwargs = Callable[[World], dict[str, Any]]
NO_KWARGS: dict[str, Kwargs] = {"-": lambda w: {}}


@dataclass
class Entry:
    """How B walks one URL name: kwargs per variant, exact statuses, the data and query B sends."""

    get: int
    post: int
    variants: dict[str, Kwargs] = field(default_factory=lambda: dict(NO_KWARGS))
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    query: Callable[[World], dict[str, Any]] = lambda w: {}
    # For an expected redirect: the path it must start with (never a success page of A's record).
    redirect: Callable[[World], str] | None = None
    api: bool = False
    # (GET, POST) statuses of one variant when they differ from the entry's.
    expect: dict[str, tuple[int, int]] = field(default_factory=dict)

    def status(self, variant: str, method: str) -> int:
        get, post = self.expect.get(variant, (self.get, self.post))
        return get if method == "GET" else post


def pk(key: str, name: str = "pk") -> Kwargs:
    return lambda w: {name: w[key].pk}


def _customer_ref(w: World) -> dict[str, Any]:
    """B types part of A's customer's phone number, with A's customer's id forged into the hidden input."""
    return {"customer": "76543210", "customer_id": str(w["a_customer"].pk)}


A_CUSTOMER = {"A's customer": pk("a_customer")}

TABLE: dict[str, Entry] = {
    # --- project pages
    "dashboard": Entry(get=200, post=405),
    # The search page: A's external id finds nothing for B (every kind through visible_to).
    "global-search": Entry(get=200, post=405, query=lambda w: {"q": "EXT-ALPHA"}),
    # The History tab (crm_site/audit): A's records' trails are A's records.
    "audit-history": Entry(
        get=404,
        post=405,
        variants={
            "A's customer": lambda w: {"kind": "customer", "pk": w["a_customer"].pk},
            "A's order": lambda w: {"kind": "sales-order", "pk": w["a_order"].pk},
            "A's ticket": lambda w: {"kind": "ticket", "pk": w["a_ticket"].pk},
            "an unknown kind": lambda w: {"kind": "partner", "pk": w["a_partner"].pk},
        },
    ),
    "password_change": Entry(get=200, post=200),
    "password_change_done": Entry(get=200, post=405),
    # The second factor: B's session passed it (or needs none), so the verify step sends B on; B may set
    # up an authenticator of B's own; without one B has no recovery codes (sent to the setup).
    "two-factor-verify": Entry(get=302, post=302, redirect=lambda w: "/"),
    "two-factor-setup": Entry(get=200, post=200, data=lambda w: {"code": "000000"}),
    "two-factor-recovery-codes": Entry(get=302, post=302, redirect=lambda w: "/accounts/two-factor/setup/"),
    # --- customers
    "customers:index": Entry(get=200, post=405, query=lambda w: {"q": "EXT-ALPHA"}),
    "customers:customer-create": Entry(get=200, post=200, data=lambda w: {"name": ""}),
    # The customer fields' autocomplete: part of A's customer's phone number finds nothing for B.
    "customers:customer-choices": Entry(get=200, post=405, query=lambda w: {"q": "7654 3210"}),
    # A read: POST exports B's own list too.
    "customers:customer-export": Entry(
        get=200,
        post=200,
        variants={"csv": lambda w: {"file_format": "csv"}},
        query=lambda w: {"q": "EXT-ALPHA"},
    ),
    "customers:duplicate-list": Entry(get=200, post=405),
    "customers:import-list": Entry(get=200, post=405),
    "customers:import-create": Entry(get=200, post=200),
    "customers:import-detail": Entry(
        get=404,
        post=404,
        variants={"A's import": pk("a_import"), "B's import naming A's customer": pk("b_import")},
        # B's own job page: its row errors must not say whose customer EXT-ALPHA is.
        expect={"B's import naming A's customer": (200, 200)},
    ),
    "customers:import-commit": Entry(
        get=405,
        post=404,
        variants={"A's import": pk("a_import"), "B's import naming A's customer": pk("b_import")},
        expect={"B's import naming A's customer": (405, 302)},
        redirect=lambda w: f"/customers/imports/{w['b_import'].pk}/",
    ),
    "customers:partner-list": Entry(get=200, post=405),
    "customers:partner-create": Entry(get=200, post=200),
    "customers:partner-detail": Entry(get=200, post=405, variants={"A's partner": pk("a_partner")}),
    "customers:partner-update": Entry(
        get=403,
        post=403,
        variants={"A's partner": pk("a_partner")},
        data=lambda w: {"name": "Taken over", "kind": "reseller"},
    ),
    "customers:customer-detail": Entry(
        get=404,
        post=405,
        variants={
            **A_CUSTOMER,
            # B's own page: 200, but the customer A linked to it must not be named (reverse relationship).
            "B's customer": pk("b_customer"),
        },
        expect={"B's customer": (200, 405)},
    ),
    "customers:customer-update": Entry(
        get=404, post=404, variants=A_CUSTOMER, data=lambda w: {"name": "Taken over", "kind": "person"}
    ),
    "customers:customer-delete": Entry(get=404, post=404, variants=A_CUSTOMER),
    # Revealing a masked value of A's customer (issue 13): 404 before any permission or reason check.
    "customers:customer-reveal": Entry(
        get=404, post=404, variants=A_CUSTOMER, data=lambda w: {"field": "birth_date", "reason": "walk"}
    ),
    "customers:customer-duplicates": Entry(get=404, post=405, variants=A_CUSTOMER),
    "customers:customer-merge": Entry(
        get=404,
        post=404,
        variants={
            "A's two customers": lambda w: {"pk": w["a_customer"].pk, "other": w["a_twin"].pk},
            "B's survivor, A's loser": lambda w: {"pk": w["b_customer"].pk, "other": w["a_customer"].pk},
            "A's survivor, B's loser": lambda w: {"pk": w["a_customer"].pk, "other": w["b_customer"].pk},
        },
    ),
    "customers:customer-sharing": Entry(
        get=404, post=404, variants=A_CUSTOMER, data=lambda w: {"user": w.b.pk}
    ),
    "customers:customer-unshare": Entry(
        get=404,
        post=404,
        variants={
            "A's share with carol": lambda w: {
                "pk": w["a_customer"].pk,
                "kind": "user",
                "target": str(w.carol.pk),
            }
        },
    ),
    "customers:relationship-create": Entry(
        get=404,
        post=404,
        variants={**A_CUSTOMER, "B's customer, linked to A's": pk("b_customer")},
        # From B's own customer: A's customer is not found by its external id, nothing is linked.
        expect={"B's customer, linked to A's": (200, 200)},
        data=lambda w: {"kind": "household", "related": "EXT-ALPHA"},
    ),
    "customers:relationship-delete": Entry(
        get=404,
        post=404,
        variants={
            "A's relationship": lambda w: {
                "pk": w["a_customer"].pk,
                "relationship_pk": w["a_relationship"].pk,
            },
            "A's link, under B's customer": lambda w: {
                "pk": w["b_customer"].pk,
                "relationship_pk": w["a_reverse_link"].pk,
            },
        },
        # B may use B's own customer: GET is refused by method, POST finds no such relationship.
        expect={"A's link, under B's customer": (405, 404)},
    ),
    # --- orders
    "orders:index": Entry(get=200, post=405, query=lambda w: {"q": "EXT-ALPHA"}),
    "orders:salesorder-list": Entry(get=200, post=405, query=lambda w: {"customer": str(w["a_customer"].pk)}),
    "orders:salesorder-create": Entry(
        get=200,
        post=200,
        query=lambda w: {"customer": str(w["a_customer"].pk)},
        data=lambda w: {
            **_customer_ref(w),
            "channel": "web",
            "ordered_at": "2026-01-05T10:00",
            "currency": "CNY",
            "order_discount": "0",
        },
    ),
    "orders:salesorder-detail": Entry(get=404, post=405, variants={"A's order": pk("a_order")}),
    # --- sessions log: B's own pages list only B's; A's interaction, follow-up and customer are 404
    "sessions_log:index": Entry(get=200, post=405),
    "sessions_log:follow-up-list": Entry(get=200, post=405),
    "sessions_log:follow-up-team": Entry(get=403, post=403),  # managers' Team tab
    "sessions_log:interaction-detail": Entry(
        get=404, post=405, variants={"A's interaction": pk("a_interaction")}
    ),
    "sessions_log:interaction-log": Entry(
        get=405,
        post=404,
        variants={"A's customer": lambda w: {"customer_pk": w["a_customer"].pk, "channel": "call"}},
        data=lambda w: {"log-call-direction": "outbound", "log-call-body": "B was here"},
    ),
    "sessions_log:email-compose": Entry(
        get=404,
        post=404,
        variants={"A's customer": pk("a_customer", "customer_pk")},
        data=lambda w: {
            "to": str(w["a_customer"].contact_methods.get(kind="email").pk),
            "subject": "B was here",
            "body": "B was here",
        },
    ),
    "sessions_log:follow-up-done": Entry(get=405, post=404, variants={"A's follow-up": pk("a_follow_up")}),
    "sessions_log:follow-up-snooze": Entry(
        get=405, post=404, variants={"A's follow-up": pk("a_follow_up")}, data=lambda w: {"hours": "2"}
    ),
    "sessions_log:follow-up-reschedule": Entry(
        get=405,
        post=404,
        variants={"A's follow-up": pk("a_follow_up")},
        data=lambda w: {"due_at": "2030-01-01T10:00", "priority": "high"},
    ),
    "sessions_log:follow-up-cancel": Entry(get=405, post=404, variants={"A's follow-up": pk("a_follow_up")}),
    # The unmatched inbox: B's own list shows nothing of A's; A's mail is 404 to read, attach or dismiss.
    "sessions_log:unmatched-list": Entry(get=200, post=405),
    "sessions_log:unmatched-detail": Entry(get=404, post=405, variants={"A's mail": pk("a_mail_for_file")}),
    "sessions_log:unmatched-attach": Entry(
        get=405,
        post=404,
        variants={"A's mail": pk("a_mail_for_file")},
        data=lambda w: {"customer": "EXT-BEE", "customer_id": str(w["b_customer"].pk), "remember": "on"},
    ),
    "sessions_log:unmatched-dismiss": Entry(get=405, post=404, variants={"A's mail": pk("a_mail_for_file")}),
    "sessions_log:attachment-download": Entry(
        get=404,
        post=405,
        variants={
            "A's interaction's file": pk("a_attachment"),
            "a file of a mail A received": pk("a_mail_attachment"),
        },
    ),
    "sessions_log:attachment-delete": Entry(
        get=405,
        post=404,
        variants={
            "A's interaction's file": pk("a_attachment"),
            "a file of a mail A received": pk("a_mail_attachment"),
        },
    ),
    "sessions_log:attachment-add": Entry(
        get=405,
        post=404,
        variants={"A's interaction": pk("a_interaction")},
        data=_planted_file,
    ),
    "customers:customer-timeline": Entry(get=404, post=405, variants=A_CUSTOMER),
    "customers:customer-consent": Entry(get=404, post=405, variants=A_CUSTOMER),
    # Data-subject requests (issue 13): the Manager's; a Sales user holds none of the permissions.
    "customers:privacy-request-list": Entry(get=403, post=403),
    "customers:privacy-request-create": Entry(get=403, post=403, data=_customer_ref),
    **{
        f"customers:privacy-request-{name}": Entry(
            get=403,
            post=403,
            variants={"A's customer's request": pk("a_dsr")},
            data=lambda w: {"reason": "B says no", "confirm": "on"},
        )
        for name in ("detail", "download", "export", "erase", "refuse", "complete")
    },
    # A's customer's consent cannot be given or withdrawn by B: 404, no ledger row.
    "customers:customer-consent-record": Entry(
        get=405,
        post=404,
        variants=A_CUSTOMER,
        data=lambda w: {"purpose": "marketing_email", "granted": "yes", "source": "staff"},
    ),
    "orders:salesorder-edit": Entry(
        get=404,
        post=404,
        variants={"A's order": pk("a_order")},
        data=lambda w: {
            "customer": "EXT-BEE",
            "channel": "web",
            "ordered_at": "2026-01-05T10:00",
            "currency": "CNY",
            "order_discount": "0",
        },
    ),
    "orders:salesorder-transition": Entry(
        get=405,
        post=404,
        variants={"A's order": pk("a_order")},
        data=lambda w: {"status": "cancelled"},
    ),
    "orders:orderline-add": Entry(
        get=405,
        post=404,
        variants={"A's order": pk("a_order")},
        data=lambda w: {"product": w["product"].pk, "quantity": 3, "discount": "0"},
    ),
    "orders:orderline-remove": Entry(
        get=405,
        post=404,
        variants={
            "A's line": lambda w: {"pk": w["a_order"].pk, "line_pk": w["a_line"].pk},
            "A's line under B's order": lambda w: {"pk": w["b_order"].pk, "line_pk": w["a_line"].pk},
        },
    ),
    "orders:serviceorder-list": Entry(get=200, post=405, query=lambda w: {"q": "SR-"}),
    "orders:serviceorder-create": Entry(
        get=200,
        post=200,
        data=lambda w: {**_customer_ref(w), "subject": "x", "type": "inquiry", "priority": "normal"},
    ),
    "orders:serviceorder-detail": Entry(get=404, post=405, variants={"A's ticket": pk("a_ticket")}),
    "orders:serviceorder-edit": Entry(
        get=404,
        post=404,
        variants={"A's ticket": pk("a_ticket")},
        data=lambda w: {"customer": "EXT-BEE", "subject": "Taken", "type": "inquiry", "priority": "low"},
    ),
    "orders:serviceorder-transition": Entry(
        get=405,
        post=404,
        variants={"A's ticket": pk("a_ticket")},
        data=lambda w: {"status": "closed", "resolution": "taken"},
    ),
    "orders:project-list": Entry(get=200, post=405, query=lambda w: {"q": "Zz"}),
    "orders:project-create": Entry(
        get=200,
        post=200,
        data=lambda w: {**_customer_ref(w), "name": "x", "stage": "planning", "currency": "CNY"},
    ),
    "orders:project-detail": Entry(get=404, post=405, variants={"A's project": pk("a_project")}),
    "orders:project-edit": Entry(
        get=404,
        post=404,
        variants={"A's project": pk("a_project")},
        data=lambda w: {"customer": "EXT-BEE", "name": "Taken", "stage": "planning", "currency": "CNY"},
    ),
    "orders:milestone-create": Entry(
        get=405,
        post=404,
        variants={"A's project": pk("a_project")},
        data=lambda w: {"name": "Planted", "due_date": "2030-01-01"},
    ),
    "orders:opportunity-list": Entry(get=200, post=405, query=lambda w: {"q": "Zz"}),
    "orders:opportunity-board": Entry(get=200, post=405),
    "orders:opportunity-create": Entry(
        get=200,
        post=200,
        query=lambda w: {"customer": str(w["a_customer"].pk)},
        data=lambda w: {**_customer_ref(w), "name": "x", "stage": "qualification", "amount": "1"},
    ),
    "orders:opportunity-detail": Entry(get=404, post=405, variants={"A's opportunity": pk("a_opportunity")}),
    "orders:opportunity-edit": Entry(
        get=404,
        post=404,
        variants={"A's opportunity": pk("a_opportunity")},
        data=lambda w: {"customer": "EXT-BEE", "name": "Taken", "stage": "won", "amount": "1"},
    ),
    "orders:opportunity-move": Entry(
        get=405,
        post=404,
        variants={"A's opportunity": pk("a_opportunity")},
        data=lambda w: {"stage": "won"},
    ),
    # The catalogue is shared (everyone reads it); only managers change it.
    "orders:product-list": Entry(get=200, post=405),
    "orders:product-create": Entry(
        get=403,
        post=403,
        data=lambda w: {"sku": "SKU-NEW", "name": "New", "unit_price": "1.00", "active": "on"},
    ),
    "orders:product-edit": Entry(
        get=403,
        post=403,
        variants={"a product": pk("product")},
        data=lambda w: {"sku": "SKU-WALK", "name": "Walk Product", "unit_price": "0.01", "active": "on"},
    ),
    "orders:import-create": Entry(get=200, post=302, data=_order_file, redirect=lambda w: "/orders/imports/"),
    "orders:import-detail": Entry(get=404, post=405, variants={"A's import": pk("a_order_import")}),
    "orders:reports": Entry(get=403, post=403),
    # --- profiles (segments and runs are shared; members are narrowed to what B may see)
    "profiles:index": Entry(get=200, post=405),
    "profiles:profile-detail": Entry(
        get=404, post=405, variants={"A's customer": pk("a_customer", "customer_pk")}
    ),
    "profiles:segment-list": Entry(get=200, post=405),
    "profiles:segment-create": Entry(get=403, post=403),
    "profiles:segment-detail": Entry(get=200, post=405, variants={"a segment": pk("segment")}),
    "profiles:segment-update": Entry(get=403, post=403, variants={"a segment": pk("segment")}),
    "profiles:segment-delete": Entry(get=403, post=403, variants={"a segment": pk("segment")}),
    "profiles:segment-export": Entry(get=200, post=405, variants={"a segment": pk("segment")}),
    "profiles:run-create": Entry(get=403, post=403),
    "profiles:run-detail": Entry(get=403, post=403, variants={"a run": pk("run")}),
    "profiles:run-progress": Entry(get=403, post=403, variants={"a run": pk("run")}),
    "profiles:event-import": Entry(get=403, post=403),
    # --- API (B's own bearer token): events for A's customer are refused per event, nothing stored.
    "profiles_api:event-create": Entry(
        get=405,
        post=200,
        api=True,
        data=lambda w: {
            "events": [
                {
                    "customer_external_id": "EXT-ALPHA",
                    "event_type": "page_view",
                    "occurred_at": timezone.now().isoformat(),
                    "idempotency_key": "zz-alpha-event",
                },
                {
                    "customer_id": str(w["a_customer"].pk),
                    "event_type": "page_view",
                    "occurred_at": timezone.now().isoformat(),
                    "idempotency_key": "b-key-1",
                },
            ]
        },
    ),
    "profiles_api_v1:event-create": Entry(
        get=405,
        post=200,
        api=True,
        data=lambda w: [
            {
                "customer_external_id": "EXT-ALPHA",
                "event_type": "page_view",
                "occurred_at": timezone.now().isoformat(),
                "idempotency_key": "zz-alpha-event-v1",
            },
            {
                "customer_id": str(w["a_customer"].pk),
                "event_type": "page_view",
                "occurred_at": timezone.now().isoformat(),
                "idempotency_key": "b-key-v1",
            },
        ],
    ),
    # A's number, address and external id from B's token: parked in B's unmatched inbox, A not named.
    "sessions_log_api:call-create": Entry(
        get=405,
        post=201,
        api=True,
        data=lambda w: {
            "number": "+86 139 7654 3210",
            "direction": "inbound",
            "started_at": timezone.now().isoformat(),
            "external_id": "b-call-1",
        },
    ),
    "sessions_log_api:chat-create": Entry(
        get=405,
        post=201,
        api=True,
        data=lambda w: {
            "customer_external_id": "EXT-ALPHA",
            "email": "zz.alpha.secret@example.com",
            "messages": [{"at": timezone.now().isoformat(), "speaker": "customer", "text": "hello"}],
        },
    ),
    # B's list holds none of A's interactions; logging one on A's customer is refused as unknown.
    "sessions_log_api:interaction-list": Entry(
        get=200,
        post=400,
        api=True,
        data=lambda w: {"customer": str(w["a_customer"].pk), "channel": "note", "body": "zz"},
    ),
    # Consents (customers/api.py): A's customer is a 404 from B's token, by external id or id.
    "customers_api_v1:consent-create": Entry(
        get=405,
        post=404,
        api=True,
        data=lambda w: {"customer": "EXT-ALPHA", "purpose": "marketing_sms", "granted": False},
    ),
    "customers_api_v1:consent-list": Entry(
        get=404,
        post=405,
        api=True,
        variants={
            "A's external id": lambda w: {"external_id": "EXT-ALPHA"},
            "A's id": lambda w: {"external_id": str(w["a_customer"].pk)},
        },
    ),
    "api-v1-schema": Entry(get=200, post=405),
    "api-v1-docs": Entry(get=200, post=405),
}
