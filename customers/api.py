"""The consent ledger over the REST API (crm_site.rest): POST /api/v1/consents/ records one consent given or
withdrawn through ``consent_record``; GET /api/v1/customers/<external_id>/consents/ answers the current state
of every purpose. The customer is named by its external id (else its id), as the other endpoints do, and
must be one the token's user may change: any other is a 404 that says nothing about it. docs/api.md.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.models import ApiToken
from crm_site.rest_schema import ERRORS
from crm_site.visibility import CHANGE
from customers.models import ConsentPurpose, ConsentSource, Customer
from customers.selectors.consent import customer_consents
from customers.selectors.visibility import visible_customer_by_key
from customers.services.consent import consent_record


class ConsentCreateSerializer(serializers.Serializer):
    customer = serializers.CharField(
        max_length=100, help_text=gettext_lazy("The customer's external id (or, failing that, its id).")
    )
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    granted = serializers.BooleanField(help_text=gettext_lazy("true: given; false: withdrawn or refused."))
    source = serializers.ChoiceField(choices=ConsentSource.choices, default=ConsentSource.API)
    notice_version = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    evidence = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    recorded_at = serializers.DateTimeField(
        required=False, help_text=gettext_lazy("When it was given or withdrawn (default: now).")
    )


class ConsentRecordSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer = serializers.CharField()
    purpose = serializers.CharField()
    granted = serializers.BooleanField()
    source = serializers.CharField()
    notice_version = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class CurrentConsentSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    granted = serializers.BooleanField()
    is_default = serializers.BooleanField(
        help_text=gettext_lazy("Never asked: the purpose's default applies.")
    )
    source = serializers.CharField(allow_null=True)
    notice_version = serializers.CharField(allow_null=True)
    recorded_at = serializers.DateTimeField(allow_null=True)


class CustomerConsentsSerializer(serializers.Serializer):
    customer = serializers.CharField()
    consents = CurrentConsentSerializer(many=True)


NOT_FOUND = OpenApiResponse(
    ERRORS[400].response, description="No such customer, or not one the token's user may change."
)


def _changeable_customer(user: Any, key: str) -> Customer:
    customer = visible_customer_by_key(user=user, key=key, action=CHANGE)
    if customer is None:
        raise exceptions.NotFound(_("No such customer (or not one you may change)."))
    return customer


class ConsentCreateView(APIView):
    required_scopes = {"POST": ApiToken.Scope.CONSENTS_WRITE}

    @extend_schema(
        operation_id="consents_create",
        summary="Record one consent given or withdrawn for a customer the token's user may change",
        request=ConsentCreateSerializer,
        responses={201: ConsentRecordSerializer, 404: NOT_FOUND, **ERRORS},
        tags=["consents"],
    )
    def post(self, request: Request) -> Response:
        """Appends to the customer's consent ledger (never edits it); the current answer follows."""
        checked = ConsentCreateSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        data = dict(checked.validated_data)
        customer = _changeable_customer(request.user, data.pop("customer"))
        record = consent_record(customer=customer, by=request.user, **data)
        body = {
            "id": record.pk,
            "customer": customer.external_id or str(customer.pk),
            "purpose": record.purpose,
            "granted": record.granted,
            "source": record.source,
            "notice_version": record.notice_version,
            "recorded_at": record.recorded_at,
        }
        return Response(ConsentRecordSerializer(body).data, status=status.HTTP_201_CREATED)


class CustomerConsentsView(APIView):
    required_scopes = {"GET": ApiToken.Scope.CONSENTS_READ}

    @extend_schema(
        operation_id="customer_consents_list",
        summary="The current answer of every consent purpose for a customer the token's user may change",
        responses={
            200: CustomerConsentsSerializer,
            404: NOT_FOUND,
            **{code: ERRORS[code] for code in (401, 403, 429)},
        },
        tags=["consents"],
    )
    def get(self, request: Request, external_id: str) -> Response:
        customer = _changeable_customer(request.user, external_id)
        rows = []
        for current in customer_consents(customer=customer):
            record = current.record
            rows.append(
                {
                    "purpose": current.purpose,
                    "granted": current.granted,
                    "is_default": current.is_default,
                    "source": record.source if record is not None else None,
                    "notice_version": record.notice_version if record is not None else None,
                    "recorded_at": record.recorded_at if record is not None else None,
                }
            )
        body = {"customer": customer.external_id or str(customer.pk), "consents": rows}
        return Response(CustomerConsentsSerializer(body).data)
