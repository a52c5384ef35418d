"""What the sessions log API accepts and answers: each field checked with its own message."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.selectors.pii import shown
from sessions_log.ingest import MAX_CHAT_MESSAGES, check_moment
from sessions_log.models import MAX_DURATION_SECONDS, ExternalReference, Interaction


def _max(model: Any, name: str) -> int:
    return model._meta.get_field(name).max_length


EXTERNAL_ID_MAX = _max(ExternalReference, "external_id")
OUTCOMES = [value for value in Interaction.Outcome.values if value]
DIRECTIONS = [Interaction.Direction.INBOUND, Interaction.Direction.OUTBOUND]


class MomentField(serializers.DateTimeField):
    """An ISO 8601 time (without an offset it is UTC), from 1900 up to a day ahead; stored in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        moment = super().to_internal_value(value)
        try:
            return check_moment(moment)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class RecordSerializer(serializers.Serializer):
    """The fields calls and chats share."""

    direction = serializers.ChoiceField(choices=DIRECTIONS, default=Interaction.Direction.INBOUND)
    agent = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text=_("Username or email address of the staff member; default: the token's user."),
    )
    outcome = serializers.ChoiceField(choices=OUTCOMES, required=False, allow_blank=True)
    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Your id of the record: sent again with the same token, it is not stored twice."),
    )
    notes = serializers.CharField(max_length=_max(Interaction, "body"), required=False, allow_blank=True)


class CallSerializer(RecordSerializer):
    """One call from a telephony system."""

    number = serializers.CharField(
        max_length=64, help_text=_("The other side's phone number, in any spelling (+86 138-0013-8000).")
    )
    started_at = MomentField(source="occurred_at")
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_DURATION_SECONDS, required=False, allow_null=True
    )
    recording_url = serializers.URLField(
        max_length=_max(Interaction, "recording_url"), required=False, allow_blank=True
    )


class ChatMessageSerializer(serializers.Serializer):
    at = MomentField()
    speaker = serializers.CharField(max_length=100, help_text=_("agent, customer, or a name."))
    text = serializers.CharField(max_length=10_000, trim_whitespace=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        # Stored as JSON: the time as ISO text.
        return {"at": value["at"].isoformat(), "speaker": value["speaker"], "text": value["text"]}


class ChatSerializer(RecordSerializer):
    """One chat or online consultation with its transcript; the customer named by at least one key."""

    customer_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=_("The name the customer gave.")
    )
    subject = serializers.CharField(max_length=_max(Interaction, "subject"), required=False, allow_blank=True)
    started_at = MomentField(required=False, help_text=_("Default: the first message's time."))
    messages = ChatMessageSerializer(many=True, min_length=1, max_length=MAX_CHAT_MESSAGES)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(attrs.get(key) for key in ("customer_external_id", "phone", "email")):
            raise serializers.ValidationError(
                {"customer_external_id": [_("Name the customer: customer_external_id, phone or email.")]}
            )
        attrs["messages"] = sorted(attrs["messages"], key=lambda message: message["at"])
        if "started_at" in attrs:
            attrs["occurred_at"] = attrs.pop("started_at")
        else:
            attrs["occurred_at"] = serializers.DateTimeField().to_internal_value(attrs["messages"][0]["at"])
        return attrs


class ReceiptSerializer(serializers.Serializer):
    """What became of one record."""

    index = serializers.IntegerField(help_text=_("The record's position in the batch (0 for one record)."))
    status = serializers.ChoiceField(choices=["created", "duplicate"])
    external_id = serializers.CharField()
    matched = serializers.BooleanField(help_text=_("Logged on a customer (else parked as unmatched)."))
    interaction = serializers.UUIDField(allow_null=True)
    unmatched = serializers.UUIDField(allow_null=True)


class BatchReceiptSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    matched = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    results = ReceiptSerializer(many=True)


class InteractionSerializer(serializers.ModelSerializer):
    """An interaction as the API shows it (the staff member by username)."""

    staff = serializers.SlugRelatedField(slug_field="username", read_only=True)
    customer = serializers.UUIDField(source="customer_id", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "subject",
            "body",
            "occurred_at",
            "duration_seconds",
            "outcome",
            "place",
            "staff",
            "counterpart",
            "recording_url",
            "transcript",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Interaction) -> dict[str, Any]:
        """The other side's number or address masked for a token whose user lacks view_pii (issue 13)."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        data["counterpart"] = shown(
            data.get("counterpart") or "", "counterpart", user=getattr(request, "user", None)
        )
        return data


class InteractionCreateSerializer(serializers.Serializer):
    """One interaction to log on a customer the token's user may see."""

    customer = serializers.UUIDField(
        required=False, help_text=_("The customer's id (or customer_external_id).")
    )
    customer_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Interaction.Channel.choices)
    direction = serializers.ChoiceField(
        choices=Interaction.Direction.choices, default=Interaction.Direction.OUTBOUND
    )
    subject = serializers.CharField(max_length=_max(Interaction, "subject"), required=False, allow_blank=True)
    body = serializers.CharField(max_length=_max(Interaction, "body"), required=False, allow_blank=True)
    occurred_at = MomentField(required=False, help_text=_("Default: now."))
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_DURATION_SECONDS, required=False, allow_null=True
    )
    outcome = serializers.ChoiceField(choices=OUTCOMES, required=False, allow_blank=True)
    place = serializers.CharField(max_length=_max(Interaction, "place"), required=False, allow_blank=True)
    agent = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text=_("Username or email address of the staff member; default: the token's user."),
    )
    external_id = serializers.CharField(max_length=EXTERNAL_ID_MAX, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("customer") and not attrs.get("customer_external_id"):
            raise serializers.ValidationError({"customer": [_("Give customer or customer_external_id.")]})
        return attrs


class InteractionFilterSerializer(serializers.Serializer):
    """The query of GET /api/v1/interactions/."""

    customer = serializers.UUIDField(required=False, help_text=_("Only this customer's interactions."))
    since = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text=_("Only those that happened at or after this time.")
    )
    cursor = serializers.CharField(
        required=False, max_length=500, help_text=_("The next or previous link's.")
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
