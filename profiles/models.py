"""Behaviour events in, profile runs and their published outputs (profiles, segments, rules) out."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet
from profiles.pipeline.rfm import RFM_SEGMENT_LABELS

# Display names of the channels events and orders arrive through (stored lower-case, free text).
CHANNEL_LABELS = {
    "web": pgettext_lazy("channel", "Web"),
    "app": pgettext_lazy("channel", "Mobile app"),
    "store": pgettext_lazy("channel", "Store"),
    "wechat": pgettext_lazy("channel", "WeChat"),
    "mini_program": pgettext_lazy("channel", "Mini program"),
    "phone": pgettext_lazy("channel", "Phone"),
    "email": pgettext_lazy("channel", "Email"),
    "sms": pgettext_lazy("channel", "SMS"),
}


# Display names of the models a run fits (ProfileRun.model_fits keys).
MODEL_LABELS = {
    "bgnbd": pgettext_lazy("model", "BG/NBD (repeat purchases)"),
    "gamma_gamma": pgettext_lazy("model", "Gamma-Gamma (spend per purchase)"),
    "churn": pgettext_lazy("model", "Churn classifier"),
}


class Event(BaseModel):
    """One behaviour event a web site, app or shop reported about a customer."""

    class EventType(models.TextChoices):
        PAGE_VIEW = "page_view", _("Page view")
        APP_OPEN = "app_open", _("App open")
        SEARCH = "search", _("Search")
        ADD_TO_CART = "add_to_cart", _("Add to cart")
        PURCHASE = "purchase", _("Purchase")
        COUPON_USE = "coupon_use", _("Coupon use")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="events", verbose_name=_("customer")
    )
    event_type = models.CharField(_("type"), max_length=20, choices=EventType.choices)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    channel = models.CharField(_("source channel"), max_length=30, blank=True)
    # Whose API token or CSV import sent it: idempotency keys are the sender's own namespace.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    # Senders retry; the key makes a repeated delivery by the same sender a no-op.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["customer", "occurred_at"], name="profiles_event_cust_time")]
        constraints = [
            models.UniqueConstraint(fields=["sent_by", "idempotency_key"], name="profiles_event_sender_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} @ {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"


class ProfileRun(BaseModel):
    """One rebuild of every profile; readers only ever see the single active, complete run."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Rebuild now")
        SCHEDULE = "schedule", _("Nightly schedule")
        COMMAND = "command", _("Command line")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    as_of = models.DateTimeField(_("as of"))
    is_active = models.BooleanField(pgettext_lazy("profile run", "active"), default=False, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    fitted_at = models.DateTimeField(_("models fitted"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    fitted = models.JSONField(_("fitted parameters"), default=dict, blank=True)
    metrics = models.JSONField(_("model metrics"), default=dict, blank=True)
    cleaning = models.JSONField(_("cleaning counts"), default=dict, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)
    # Per fitted model (bgnbd, gamma_gamma, churn; null when skipped): n_customers, n_repeat_transactions,
    # log_likelihood, converged, and for the CLV models params and standard_errors.
    model_fits = models.JSONField(_("model fits"), default=dict, blank=True)
    # The churn model, scaler and k-means live in a pickle under MEDIA_ROOT (BinaryField is awkward on
    # MongoDB, and every worker of one deployment shares MEDIA_ROOT).
    models_path = models.CharField(_("fitted models file"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("profile run")
        verbose_name_plural = _("profile runs")
        ordering = ["-created_at"]
        permissions = [("rebuild_profiles", _("Can start a profile rebuild"))]

    def __str__(self) -> str:
        # In the server time zone, as every page shows times (as_of is stored in UTC).
        return f"{timezone.localtime(self.as_of):%Y-%m-%d %H:%M} · {self.get_status_display()}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.chunks_total:
            return 5 if self.status == self.Status.RUNNING else 0
        # Fitting is the first half of the work, writing the chunks the second.
        return 50 + int(45 * self.chunks_done / self.chunks_total)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def model_fit_rows(self) -> list[dict]:
        """model_fits for display, in a fixed order: key, label, report (None if skipped), parameters."""
        fits = self.model_fits or {}
        rows = []
        for key, label in MODEL_LABELS.items():
            if key not in fits:
                continue
            report = fits[key] if isinstance(fits[key], dict) else None
            errors = (report or {}).get("standard_errors") or {}
            parameters = [
                {"name": name, "value": value, "se": errors.get(name)}
                for name, value in ((report or {}).get("params") or {}).items()
            ]
            rows.append({"key": key, "label": label, "report": report, "parameters": parameters})
        return rows


class ProfileRunChunk(BaseModel):
    """Marks one customer chunk of a run as written, so a retried run redoes only what is missing."""

    run = models.ForeignKey(ProfileRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(_("chunk"))
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("profile run chunk")
        verbose_name_plural = _("profile run chunks")
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="profiles_chunk_once")]


class RebuildLock(BaseModel):
    """A named lock row: two schedulers never rebuild at once; an expired lock can be taken over."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    run = models.ForeignKey(ProfileRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("rebuild lock")
        verbose_name_plural = _("rebuild locks")

    def __str__(self) -> str:
        return self.name


class CustomerProfileQuerySet(VisibleQuerySet):
    """A profile is visible to whoever may see its customer."""

    visibility_via = ("customer",)


class ChurnStatus(models.TextChoices):
    SCORED = "scored", _("Scored")
    TOO_NEW = "too_new", _("Too new to tell")
    NEVER_BOUGHT = "never_bought", _("Never bought")


class ChurnBand(models.TextChoices):
    LOW = "low", pgettext_lazy("churn risk", "Low")
    MEDIUM = "medium", pgettext_lazy("churn risk", "Medium")
    HIGH = "high", pgettext_lazy("churn risk", "High")


class CustomerProfile(BaseModel):
    """A customer's portrait as computed by one run (and refreshed since by new activity)."""

    run = models.ForeignKey(ProfileRun, on_delete=models.CASCADE, related_name="profiles")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="profiles", verbose_name=_("customer")
    )
    chunk = models.PositiveIntegerField(_("chunk"), default=0)
    r_score = models.PositiveSmallIntegerField(_("R"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M"), null=True, blank=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=40, blank=True, db_index=True)
    recency_days = models.FloatField(_("days since last purchase"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("orders"), default=0)
    monetary = models.DecimalField(_("total spend"), max_digits=14, decimal_places=2, default=0)
    expected_purchases_90d = models.FloatField(_("expected purchases (90 days)"), null=True, blank=True)
    expected_purchases_365d = models.FloatField(_("expected purchases (365 days)"), null=True, blank=True)
    # Every configured horizon (PROFILES_FORECAST_HORIZONS): {"<days>": {"purchases": x, "spend": y}}.
    forecast = models.JSONField(_("forecast per horizon"), default=dict, blank=True)
    # What BG/NBD used: repeat purchase days (distinct purchase days - 1), first to last purchase day,
    # and first purchase day to the as-of day, in calendar days of the server time zone.
    model_frequency = models.PositiveIntegerField(_("repeat purchase days"), null=True, blank=True)
    model_recency_days = models.FloatField(_("first to last purchase (days)"), null=True, blank=True)
    model_age_days = models.FloatField(_("customer age T (days)"), null=True, blank=True)
    p_alive = models.FloatField(_("probability alive"), null=True, blank=True)
    expected_avg_value = models.DecimalField(
        _("expected order value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    clv_12m = models.DecimalField(
        _("CLV (12 months)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    clv_bucket = models.PositiveSmallIntegerField(_("CLV band"), null=True, blank=True)
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    churn_bucket = models.PositiveSmallIntegerField(_("churn band"), null=True, blank=True)
    # Whether the risk was judged at all: a customer whose tenure is shorter than the churn window is
    # "too new to tell" (shown grey, not red); one who never bought has nothing to judge.
    churn_status = models.CharField(_("churn status"), max_length=12, choices=ChurnStatus.choices, blank=True)
    # The band the card paints (profiles.pipeline.churn.CHURN_BANDS after its consistency rules), not
    # the raw number: a purchase yesterday is never "high" whatever the classifier said.
    churn_band = models.CharField(_("churn risk band"), max_length=6, choices=ChurnBand.choices, blank=True)
    # Why: {"churn_factors": [{"feature", "value", "typical", "effect"}, ...], "offer_reasons": [{"category",
    # "because", "lift", "confidence", "source"}, ...]} as the pipeline explained them (issue 14).
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    cluster = models.SmallIntegerField(_("cluster"), null=True, blank=True)
    cluster_name = models.CharField(_("cluster name"), max_length=80, blank=True)
    interests = models.JSONField(_("interests"), default=dict, blank=True)
    # "|a|b|" copies of the JSON lists so that segment rules can match with a portable icontains.
    interests_text = models.CharField(_("interest categories"), max_length=255, blank=True)
    next_best_offers = models.JSONField(_("next best offers"), default=list, blank=True)
    offers_text = models.CharField(_("next best offer categories"), max_length=255, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=30, blank=True)
    preferred_hour = models.PositiveSmallIntegerField(_("preferred hour"), null=True, blank=True)
    preferred_weekday = models.PositiveSmallIntegerField(_("preferred weekday"), null=True, blank=True)
    age_band = models.CharField(_("age band"), max_length=20, blank=True)
    region = models.CharField(_("region"), max_length=60, blank=True)
    gender = models.CharField(_("gender"), max_length=20, blank=True)
    computed_at = models.DateTimeField(_("computed"))
    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)

    objects = CustomerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="profiles_one_per_run")]
        indexes = [models.Index(fields=["run", "chunk"], name="profiles_run_chunk")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.rfm_segment or '-'}"

    @property
    def rfm_segment_label(self) -> str:
        return str(RFM_SEGMENT_LABELS.get(self.rfm_segment, self.rfm_segment))

    @property
    def preferred_channel_label(self) -> str:
        return str(CHANNEL_LABELS.get(self.preferred_channel, self.preferred_channel))

    @property
    def updated_on(self):
        return self.refreshed_at or self.computed_at

    @property
    def forecast_rows(self) -> list[dict]:
        """The stored horizons, shortest first: [{"days": 30, "purchases": 0.4, "spend": 12.5}, ...]."""
        rows = []
        for key, values in (self.forecast or {}).items():
            try:
                days = int(key)
            except (TypeError, ValueError):
                continue
            values = values if isinstance(values, dict) else {}
            rows.append({"days": days, "purchases": values.get("purchases"), "spend": values.get("spend")})
        return sorted(rows, key=lambda row: row["days"])


class ProfileChangeQuerySet(VisibleQuerySet):
    """A profile change is visible to whoever may see its customer."""

    visibility_via = ("customer",)


class ProfileChange(BaseModel):
    """A move in a customer's portrait worth telling its owner (segment, churn risk, value tier)."""

    class Kind(models.TextChoices):
        SEGMENT_MOVED = "segment_moved", _("Segment moved")
        CHURN_RISK_UP = "churn_risk_up", _("Churn risk up")
        VALUE_TIER_CHANGED = "value_tier_changed", _("Value tier changed")

    class Source(models.TextChoices):
        REBUILD = "rebuild", _("Profile rebuild")
        REFRESH = "refresh", _("Refresh after new activity")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="profile_changes",
        verbose_name=_("customer"),
    )
    # Runs are pruned (KEEP_RUNS); the customer's history stays.
    run = models.ForeignKey(
        ProfileRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    source = models.CharField(_("found by"), max_length=10, choices=Source.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The segment key or value band before and after; the churn risk or CLV as numbers.
    before = models.CharField(_("before"), max_length=40, blank=True)
    after = models.CharField(_("after"), max_length=40, blank=True)
    before_value = models.FloatField(_("value before"), null=True, blank=True)
    after_value = models.FloatField(_("value after"), null=True, blank=True)

    objects = ProfileChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")
        ordering = ["-occurred_at"]
        # The customer timeline's keyset stream (newest first, id breaks ties).
        indexes = [models.Index(fields=["customer", "occurred_at", "id"], name="profiles_change_timeline")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.get_kind_display()}"


class Segment(BaseModel):
    """A set of customers: a manager's rule over profile fields, or an automatic RFM/cluster group."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Rule (manual)")
        RFM = "rfm", _("RFM segment")
        CLUSTER = "cluster", _("Cluster")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    # Automatic segments are found again by key on every run, so their ids stay stable for marketing.
    key = models.CharField(_("key"), max_length=100, blank=True, db_index=True)
    description = models.TextField(_("description"), blank=True)
    rule = models.JSONField(_("rule"), default=list, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    counted_at = models.DateTimeField(_("counted"), null=True, blank=True)
    run = models.ForeignKey(
        ProfileRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="segments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from profiles.rules import validate_rule

        try:
            self.rule = validate_rule(self.rule)
        except ValidationError as error:
            raise ValidationError({"rule": error.messages}) from error


class AssociationRule(BaseModel):
    """Customers who bought the antecedent categories also bought the consequent (from one run)."""

    run = models.ForeignKey(ProfileRun, on_delete=models.CASCADE, related_name="rules")
    antecedent = models.JSONField(_("antecedent"), default=list)
    antecedent_text = models.CharField(_("if bought"), max_length=255)
    consequent = models.CharField(_("then also"), max_length=100)
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    count = models.PositiveIntegerField(_("orders"), default=0)

    class Meta:
        verbose_name = _("association rule")
        verbose_name_plural = _("association rules")
        ordering = ["-lift"]

    def __str__(self) -> str:
        return f"{self.antecedent_text} → {self.consequent}"
