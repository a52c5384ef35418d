"""JSON API for other systems: POST /api/events/ with a batch of up to 1,000 behaviour events."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.api import api_error, json_body, token_required
from profiles.services.events import MAX_BATCH, events_ingest


@token_required
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
