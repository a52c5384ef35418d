"""JSON API for other systems: a batch of up to 1,000 behaviour events.

``POST /api/v1/events/`` (``EventsView``, in the OpenAPI schema, the v1 error shape of ``crm_site.rest``)
and the older ``POST /api/events/`` (``events_create``, errors as ``{"error": ...}``) are one service,
``events_ingest``, with the same answer for a readable batch.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import api_error, json_body, token_required
from crm_site.models import ApiToken
from crm_site.rest import PayloadTooLarge
from profiles.models import Event
from profiles.services.events import MAX_BATCH, events_ingest


@token_required(scope=ApiToken.Scope.EVENTS_WRITE)
@require_POST
def events_create(request: HttpRequest) -> JsonResponse:
    """Store the valid events; answer 200 with counts and each invalid event's index and reasons.

    The status is 200 when at least the request was well formed (even if some events were rejected),
    400 when nothing could be read (empty, not UTF-8, not JSON, nested too deeply, not a list), 413 for a
    body or batch over the limit, 415 for a body that is not application/json.
    """
    body, error = json_body(request)
    if error is not None:
        return error
    events = body.get("events") if isinstance(body, dict) else body
    if not isinstance(events, list):
        return api_error(_("Send a JSON list of events (or an object with an “events” list)."), 400)
    try:
        result = events_ingest(events=events, user=request.user)
    except ValidationError as exc:
        return api_error(" ".join(exc.messages), 413 if len(events) > MAX_BATCH else 400)
    return JsonResponse(result.as_dict(), status=200)


class EventSerializer(serializers.Serializer):
    """One behaviour event (the schema's description; ``events_ingest`` checks each field)."""

    customer_id = serializers.UUIDField(
        required=False, help_text="The customer's id (or customer_external_id)."
    )
    customer_external_id = serializers.CharField(required=False, max_length=100)
    event_type = serializers.ChoiceField(choices=Event.EventType.choices)
    occurred_at = serializers.DateTimeField(help_text=_l("ISO 8601; without an offset it is UTC."))
    channel = serializers.CharField(required=False, max_length=30)
    properties = serializers.DictField(required=False, help_text=_l("JSON object; a search needs its query."))
    idempotency_key = serializers.CharField(
        required=False, max_length=100, help_text=_l("Sent again by the same user: not stored twice.")
    )


class EventErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.CharField())


class EventResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = EventErrorSerializer(many=True, help_text=_l("Each rejected event's index and reasons."))


class EventsView(APIView):
    required_scopes = {"POST": ApiToken.Scope.EVENTS_WRITE}

    @extend_schema(
        operation_id="events_create",
        summary="Post behaviour events (a batch of up to 1,000)",
        request=EventSerializer(many=True),
        responses={
            200: EventResultSerializer,
            400: OpenApiResponse(description="Not a readable batch."),
            401: OpenApiResponse(description="Missing, unknown or revoked token."),
            403: OpenApiResponse(description="The token lacks the scope."),
            413: OpenApiResponse(description="The body or the batch is too large."),
            429: OpenApiResponse(description="Too many requests for this token."),
        },
        examples=[
            OpenApiExample(
                "Two events",
                request_only=True,
                value=[
                    {"customer_external_id": "C-1001", "event_type": "page_view",
                     "occurred_at": "2026-12-01T09:30:00Z", "channel": "web"},
                    {"customer_external_id": "C-1001", "event_type": "search", "occurred_at":
                     "2026-12-01T09:31:00Z", "properties": {"query": "手机"}, "idempotency_key": "w-77"},
                ],
            )
        ],
        tags=["events"],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        """The valid events are stored (200 even when some were rejected: each one's index and reasons);
        the same ``idempotency_key`` from the same user again is a duplicate. Also ``POST /api/events/``."""
        body = request.data
        events = body.get("events") if isinstance(body, dict) else body
        if not isinstance(events, list):
            raise exceptions.ParseError(_("Send a JSON list of events (or an object with an “events” list)."))
        if len(events) > MAX_BATCH:
            raise PayloadTooLarge(
                _("A batch holds at most %(max)s events; this one has %(n)s.")
                % {"max": MAX_BATCH, "n": len(events)}
            )
        return Response(events_ingest(events=events, user=request.user).as_dict())
