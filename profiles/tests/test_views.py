import pytest
from django.urls import reverse

from crm_site.testing import assert_query_count, assert_query_counts
from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile, Segment
from profiles.services.segments import segment_create, segments_refresh
from profiles.tests.factories import ProfileRunFactory


def _published(customers):
    from django.utils import timezone

    run = ProfileRunFactory(is_active=True, finished_at=timezone.now(), counts={"profiles": len(customers)})
    _add_profiles(run, customers)
    return run


def _add_profiles(run, customers, start=0):
    """Profiles of ``customers`` in ``run`` (odd positions champions, even lost), segments recounted."""
    CustomerProfile.objects.bulk_create(
        CustomerProfile(
            run=run,
            customer=customer,
            rfm_segment="champions" if i % 2 else "lost",
            r_score=1 + i % 5,
            f_score=1 + i % 3,
            clv_12m=100 + i,
            clv_bucket=2,
            churn_risk=0.05 * (i % 10),
            churn_bucket=i % 10,
            frequency=1 + i % 4,
            next_best_offers=["图书 Books"],
            offers_text="|图书 Books|",
            computed_at=run.as_of,
        )
        for i, customer in enumerate(customers, start=start)
    )
    segments_refresh(run=run)


@pytest.fixture
def published(sales_user, other_sales_user):
    mine = CustomerFactory.create_batch(3, owner=sales_user)
    theirs = CustomerFactory.create_batch(2, owner=other_sales_user)
    return _published(mine + theirs), mine, theirs


def test_profile_page_of_another_users_customer_is_404(client, sales_user, published):
    _run, mine, theirs = published
    client.force_login(sales_user)
    assert client.get(reverse("profiles:profile-detail", args=[mine[0].pk])).status_code == 200
    assert client.get(reverse("profiles:profile-detail", args=[theirs[0].pk])).status_code == 404


def test_manager_sees_every_profile(client, manager_user, published):
    _run, _mine, theirs = published
    client.force_login(manager_user)
    assert client.get(reverse("profiles:profile-detail", args=[theirs[0].pk])).status_code == 200


def test_segment_members_are_narrowed_to_the_users_customers(client, sales_user, published):
    _run, mine, theirs = published
    segment = segment_create(name="Any buyer", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    assert segment.member_count == 5
    client.force_login(sales_user)
    page = client.get(reverse("profiles:segment-detail", args=[segment.pk])).content.decode()
    assert all(c.name in page for c in mine) and not any(c.name in page for c in theirs)
    export = b"".join(client.get(reverse("profiles:segment-export", args=[segment.pk])).streaming_content)
    assert export.decode("utf-8-sig").count("\n") == 1 + len(mine)


def test_sales_users_cannot_start_a_rebuild_or_edit_segments(client, sales_user, published):
    client.force_login(sales_user)
    assert client.post(reverse("profiles:run-create")).status_code == 403
    assert client.get(reverse("profiles:segment-create")).status_code == 403


def test_manager_creates_a_rule_segment_through_the_form(client, manager_user, published):
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-create"),
        {"name": "Champions", "field_1": "rfm_segment", "op_1": "eq", "value_1": "champions"},
    )
    segment = Segment.objects.get(name="Champions", kind=Segment.Kind.MANUAL)
    assert response.status_code == 302 and segment.member_count == 2


def test_segment_form_names_the_bad_condition(client, manager_user, published):
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-create"),
        {"name": "Bad", "field_1": "clv_12m", "op_1": "gte", "value_1": "lots"},
    )
    assert response.status_code == 200
    assert "Condition 1" in response.content.decode()
    assert not Segment.objects.filter(name="Bad").exists()


def _get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


def test_dashboard_query_count_is_the_baseline_at_two_sizes(client, sales_user, other_sales_user):
    theirs = CustomerFactory.create_batch(4, owner=other_sales_user)
    run = _published(theirs)
    client.force_login(sales_user)
    added = {"mine": 0}

    def grow(k):
        _add_profiles(
            run, CustomerFactory.create_batch(k, owner=sales_user), start=len(theirs) + added["mine"]
        )
        added["mine"] += k

    responses = assert_query_count(
        "profiles:index", lambda: _get_ok(client, reverse("profiles:index")), grow=grow, sizes=(3, 30)
    )
    for n, response in zip((3, 30), responses, strict=True):
        # Only the user's own portraits are counted: positions 4.. alternate lost/champions.
        champions = sum(1 for i in range(len(theirs), len(theirs) + n) if i % 2)
        assert response.context["total"] == n
        assert dict(response.context["segment_sizes"]) == {"Champions": champions, "Lost": n - champions}


def test_segment_list_and_detail_query_counts_are_the_baseline_at_two_sizes(client, manager_user, sales_user):
    """A manager's segment pages (a sales user's are measured by crm_site/tests/test_query_counts.py)."""
    run = _published(CustomerFactory.create_batch(3, owner=sales_user))
    segment = Segment.objects.get(key="rfm:champions", run=run)
    client.force_login(manager_user)
    members_at = []

    def grow(k):
        if k:
            _add_profiles(run, CustomerFactory.create_batch(k, owner=sales_user), start=3)
        segment.refresh_from_db()
        members = list(
            CustomerProfile.objects.filter(run=run, rfm_segment="champions").select_related("customer")
        )
        assert segment.member_count == len(members) == (1 if not k else 15)
        members_at.append(members)

    responses = assert_query_counts(
        {
            "profiles:segment-list manager": lambda: _get_ok(client, reverse("profiles:segment-list")),
            "profiles:segment-detail manager": lambda: _get_ok(
                client, reverse("profiles:segment-detail", args=[segment.pk])
            ),
        },
        grow=grow,
        sizes=(0, 27),
    )
    for members, listing, detail in zip(
        members_at,
        responses["profiles:segment-list manager"],
        responses["profiles:segment-detail manager"],
        strict=True,
    ):
        assert segment in listing.context["segments"]
        page = detail.content.decode()
        assert all(p.customer.name in page for p in members)


def test_run_progress_json_for_managers(client, manager_user, published):
    run, _mine, _theirs = published
    client.force_login(manager_user)
    data = client.get(reverse("profiles:run-progress", args=[run.pk])).json()
    assert data["status"] == "succeeded" and data["percent"] == 100
    assert "Churn" in client.get(reverse("profiles:run-detail", args=[run.pk])).content.decode()


def test_admin_lists_profiles(client, manager_user, published):
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)
    for name in ("customerprofile", "profilerun", "segment", "associationrule", "event"):
        assert client.get(reverse(f"admin:profiles_{name}_changelist")).status_code == 200


def test_event_import_page_reports_bad_rows_and_writes_nothing(client, manager_user, own_customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from profiles.models import Event

    client.force_login(manager_user)
    csv_bytes = (
        b"customer_external_id,event_type,occurred_at\n"
        b"P-OWN,app_open,2025-01-02T10:00:00Z\n"
        b"P-OWN,dance,2025-01-02\n"
    )
    response = client.post(
        reverse("profiles:event-import"), {"file": SimpleUploadedFile("e.csv", csv_bytes, "text/csv")}
    )
    assert response.status_code == 200 and "Row 3" in response.content.decode()
    assert not Event.objects.exists()
    good = csv_bytes.decode().splitlines()[:2]
    response = client.post(
        reverse("profiles:event-import"),
        {"file": SimpleUploadedFile("e.csv", "\n".join(good).encode(), "text/csv")},
    )
    assert response.status_code == 302 and Event.objects.count() == 1


def test_demo_seed_writes_events_for_every_customer_and_a_first_run(sales_user):
    from crm_site.demo import SeedContext
    from customers.demo import seed as seed_customers
    from orders.demo import seed as seed_orders
    from profiles.demo import seed as seed_profiles
    from profiles.models import Event, ProfileRun

    ctx = SeedContext(customers=40, seed=3, users={"sales1": sales_user}, log=lambda message: None)
    seed_customers(ctx)
    seed_orders(ctx)
    seed_profiles(ctx)
    assert Event.objects.values("customer_id").distinct().count() >= 35
    assert Event.objects.filter(event_type="purchase").exists()
    assert Event.objects.filter(event_type="search").exists()
    run = ProfileRun.objects.get(is_active=True)
    assert run.counts["profiles"] == 40


def test_manager_rebuild_now_redirects_to_the_run_progress_page(
    client, manager_user, history, django_capture_on_commit_callbacks
):
    from profiles.models import ProfileRun

    client.force_login(manager_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("profiles:run-create"), {"as_of": ""})
    run = ProfileRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("profiles:run-detail", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert "100%" in page and run.requested_by == manager_user
