"""POST /api/v1/calls/ and /api/v1/chats/ (one record or a batch), GET/POST /api/v1/interactions/.

Thin views: the serializer checks each field, ``sessions_log.ingest`` stores; errors in the one shape of
``crm_site.rest``. See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.models import ApiToken
from crm_site.paging import decode_cursor
from crm_site.rest import BatchValidationError, batch_errors, batch_or_one
from crm_site.rest_schema import ERRORS
from customers.selectors import customer_get, visible_customer_by_key
from sessions_log import ingest
from sessions_log.api.serializers import (
    BatchReceiptSerializer,
    CallSerializer,
    ChatSerializer,
    InteractionCreateSerializer,
    InteractionFilterSerializer,
    InteractionSerializer,
    ReceiptSerializer,
)
from sessions_log.selectors import interactions_page


def _one_or_batch(name: str, serializer: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=f"{name}OneOrBatch",
        serializers=[serializer, serializer(many=True)],
        resource_type_field_name=None,
        many=False,
    )


RECEIPTS = PolymorphicProxySerializer(
    component_name="ReceiptOrBatch",
    serializers=[ReceiptSerializer, BatchReceiptSerializer],
    resource_type_field_name=None,
    many=False,
)


class BatchIngestView(APIView):
    """Store one record (answer: its receipt) or a batch (answer: counts and a receipt per record).

    201 when anything was stored, 200 when every record was a duplicate. A batch with any invalid
    record stores nothing: 400 with each invalid record's index and field errors.
    """

    serializer_class: type[serializers.Serializer]
    batch_key: str
    max_batch: int
    store: Callable[..., list[ingest.Receipt]]

    def post(self, request: Request) -> Response:
        records, is_batch = batch_or_one(request.data, key=self.batch_key, max_items=self.max_batch)
        checked = self.serializer_class(data=records, many=True)
        if not checked.is_valid():
            self._invalid(checked.errors, is_batch=is_batch, total=len(records))
        token: ApiToken = request.auth  # type: ignore[assignment]
        try:
            receipts = self.store(token, checked.validated_data)
        except ingest.RecordsInvalid as error:
            found = [error.errors.get(index, {}) for index in range(len(records))]
            self._invalid(found, is_batch=is_batch, total=len(records))
        created = sum(1 for receipt in receipts if receipt.status == "created")
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        if not is_batch:
            return Response(receipts[0].as_dict(), status=code)
        matched = sum(1 for receipt in receipts if receipt.status == "created" and receipt.matched)
        body = {
            "created": created,
            "duplicates": len(receipts) - created,
            "matched": matched,
            "unmatched": created - matched,
            "results": [receipt.as_dict() for receipt in receipts],
        }
        return Response(body, status=code)

    @staticmethod
    def _invalid(errors: list[Any], *, is_batch: bool, total: int) -> None:
        if is_batch:
            raise BatchValidationError(batch_errors(errors), total=total)
        raise serializers.ValidationError(errors[0])


def _calls_store(token: ApiToken, records: list[dict[str, Any]]) -> list[ingest.Receipt]:
    return ingest.calls_ingest(token=token, calls=records)


def _chats_store(token: ApiToken, records: list[dict[str, Any]]) -> list[ingest.Receipt]:
    return ingest.chats_ingest(token=token, chats=records)


CALL_EXAMPLE = {
    "number": "+86 138-0013-8000",
    "direction": "inbound",
    "started_at": "2026-12-01T09:30:00+08:00",
    "duration_seconds": 95,
    "agent": "sales1",
    "outcome": "reached",
    "recording_url": "https://pbx.example.com/rec/8812.mp3",
    "external_id": "pbx-8812",
}


class CallsView(BatchIngestView):
    required_scopes = {"POST": ApiToken.Scope.CALLS_WRITE}
    serializer_class = CallSerializer
    batch_key = "calls"
    max_batch = ingest.MAX_CALL_BATCH
    store = staticmethod(_calls_store)

    @extend_schema(
        operation_id="calls_create",
        summary="Post call records (one, or a batch of up to 500)",
        request=_one_or_batch("Call", CallSerializer),
        responses={201: RECEIPTS, 200: RECEIPTS, **ERRORS},
        examples=[OpenApiExample("One call", value=CALL_EXAMPLE, request_only=True)],
        tags=["calls"],
    )
    def post(self, request: Request) -> Response:
        """Each call is logged on the customer the token's user may see whose phone number it is (in any
        spelling), else parked in the unmatched inbox. The same ``external_id`` again (from the same
        token, or twice in one batch) is a duplicate of the first: not stored twice."""
        return super().post(request)


class ChatsView(BatchIngestView):
    required_scopes = {"POST": ApiToken.Scope.CHATS_WRITE}
    serializer_class = ChatSerializer
    batch_key = "chats"
    max_batch = ingest.MAX_CHAT_BATCH
    store = staticmethod(_chats_store)

    @extend_schema(
        operation_id="chats_create",
        summary="Post chat transcripts (one, or a batch of up to 100)",
        request=_one_or_batch("Chat", ChatSerializer),
        responses={201: RECEIPTS, 200: RECEIPTS, **ERRORS},
        tags=["chats"],
    )
    def post(self, request: Request) -> Response:
        """The customer is the one the token's user may see with this ``customer_external_id``, else this
        ``phone``, else this ``email``; otherwise the chat waits in the unmatched inbox."""
        return super().post(request)


INTERACTION_PAGE = inline_serializer(
    name="InteractionPage",
    fields={
        "results": InteractionSerializer(many=True),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    },
)


class InteractionsView(APIView):
    required_scopes = {"GET": ApiToken.Scope.INTERACTIONS_READ, "POST": ApiToken.Scope.INTERACTIONS_WRITE}

    @extend_schema(
        operation_id="interactions_list",
        summary="Interactions of the customers the token's user may see, newest first",
        parameters=[InteractionFilterSerializer],
        responses={
            200: INTERACTION_PAGE,
            **{code: ERRORS[code] for code in (400, 401, 403, 429)},
        },
        tags=["interactions"],
    )
    def get(self, request: Request) -> Response:
        """Keyset pages: follow ``next`` (and ``previous``) as given; they stay fast at any depth."""
        query = InteractionFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        cursor = wanted.get("cursor")
        if cursor and decode_cursor(cursor, kind="datetime") is None:
            raise serializers.ValidationError({"cursor": [_("This cursor is not one this API gave.")]})
        customer = None
        if "customer" in wanted:
            try:
                customer = customer_get(user=request.user, pk=wanted["customer"])
            except Http404:
                raise serializers.ValidationError(
                    {"customer": [_("No such customer (or not one you may see).")]}
                ) from None
        page = interactions_page(
            user=request.user,
            customer=customer,
            since=wanted.get("since"),
            cursor=cursor,
            limit=wanted["limit"],
        )

        def link(to: str | None) -> str | None:
            if to is None:
                return None
            params = {key: value for key, value in request.query_params.items() if key != "cursor"}
            return request.build_absolute_uri(f"{request.path}?{urlencode({**params, 'cursor': to})}")

        return Response(
            {
                "results": InteractionSerializer(page.rows, many=True, context={"request": request}).data,
                "next": link(page.next_cursor),
                "previous": link(page.prev_cursor),
            }
        )

    @extend_schema(
        operation_id="interactions_create",
        summary="Log one interaction on a customer the token's user may see",
        request=InteractionCreateSerializer,
        responses={201: ReceiptSerializer, 200: ReceiptSerializer, **ERRORS},
        tags=["interactions"],
    )
    def post(self, request: Request) -> Response:
        """Idempotent by ``external_id`` per token, as calls and chats."""
        checked = InteractionCreateSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        data = dict(checked.validated_data)
        user = request.user
        customer = None
        if data.get("customer"):
            try:
                customer = customer_get(user=user, pk=data["customer"])
            except Http404:
                customer = None
        elif data.get("customer_external_id"):
            customer = visible_customer_by_key(user=user, key=data["customer_external_id"])
        if customer is None:
            raise serializers.ValidationError({"customer": [_("No such customer (or not one you may see).")]})
        staff = user
        if data.get("agent"):
            found, _ambiguous = ingest.staff_by_name([data["agent"]])
            if data["agent"] not in found:
                raise serializers.ValidationError(
                    {"agent": [_("No active staff member has this username or email address.")]}
                )
            staff = found[data["agent"]]
        for key in ("customer", "customer_external_id", "agent"):
            data.pop(key, None)
        receipt = ingest.interaction_record(
            token=request.auth,
            customer=customer,
            staff=staff,
            external_id=data.pop("external_id", ""),
            **data,
        )
        code = status.HTTP_201_CREATED if receipt.status == "created" else status.HTTP_200_OK
        return Response(receipt.as_dict(), status=code)
