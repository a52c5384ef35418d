from django.urls import path

from customers.views import (
    choices,
    consent,
    customers,
    exports,
    imports,
    links,
    merge,
    partners,
    pii,
    privacy,
    timeline,
)

app_name = "customers"

urlpatterns = [
    path("", customers.CustomerListView.as_view(), name="index"),
    path("new/", customers.CustomerCreateView.as_view(), name="customer-create"),
    path("choices/", choices.CustomerChoicesView.as_view(), name="customer-choices"),
    path("export.<str:file_format>", exports.customer_export, name="customer-export"),
    path("duplicates/", merge.DuplicateListView.as_view(), name="duplicate-list"),
    path("imports/", imports.ImportListView.as_view(), name="import-list"),
    path("imports/new/", imports.ImportCreateView.as_view(), name="import-create"),
    path("imports/<uuid:pk>/", imports.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<uuid:pk>/commit/", imports.ImportCommitView.as_view(), name="import-commit"),
    path("partners/", partners.PartnerListView.as_view(), name="partner-list"),
    path("partners/new/", partners.PartnerFormView.as_view(), name="partner-create"),
    path("partners/<uuid:pk>/", partners.PartnerDetailView.as_view(), name="partner-detail"),
    path("partners/<uuid:pk>/edit/", partners.PartnerFormView.as_view(), name="partner-update"),
    path("privacy/requests/", privacy.DataRequestListView.as_view(), name="privacy-request-list"),
    path("privacy/requests/new/", privacy.DataRequestCreateView.as_view(), name="privacy-request-create"),
    path(
        "privacy/requests/<uuid:pk>/", privacy.DataRequestDetailView.as_view(), name="privacy-request-detail"
    ),
    path(
        "privacy/requests/<uuid:pk>/archive/",
        privacy.DataRequestDownloadView.as_view(),
        name="privacy-request-download",
    ),
    path(
        "privacy/requests/<uuid:pk>/export/",
        privacy.DataRequestExportView.as_view(),
        name="privacy-request-export",
    ),
    path(
        "privacy/requests/<uuid:pk>/erase/",
        privacy.DataRequestEraseView.as_view(),
        name="privacy-request-erase",
    ),
    path(
        "privacy/requests/<uuid:pk>/refuse/",
        privacy.DataRequestRefuseView.as_view(),
        name="privacy-request-refuse",
    ),
    path(
        "privacy/requests/<uuid:pk>/complete/",
        privacy.DataRequestCompleteView.as_view(),
        name="privacy-request-complete",
    ),
    path("<uuid:pk>/", customers.CustomerDetailView.as_view(), name="customer-detail"),
    path("<uuid:pk>/edit/", customers.CustomerUpdateView.as_view(), name="customer-update"),
    path("<uuid:pk>/timeline/", timeline.CustomerTimelineView.as_view(), name="customer-timeline"),
    path("<uuid:pk>/consent/", consent.ConsentHistoryView.as_view(), name="customer-consent"),
    path("<uuid:pk>/consent/record/", consent.ConsentRecordView.as_view(), name="customer-consent-record"),
    path("<uuid:pk>/reveal/", pii.CustomerRevealView.as_view(), name="customer-reveal"),
    path("<uuid:pk>/delete/", customers.CustomerDeleteView.as_view(), name="customer-delete"),
    path("<uuid:pk>/duplicates/", merge.CustomerDuplicatesView.as_view(), name="customer-duplicates"),
    path("<uuid:pk>/merge/<uuid:other>/", merge.CustomerMergeView.as_view(), name="customer-merge"),
    path("<uuid:pk>/sharing/", links.CustomerSharingView.as_view(), name="customer-sharing"),
    path(
        "<uuid:pk>/sharing/<str:kind>/<str:target>/remove/",
        links.CustomerUnshareView.as_view(),
        name="customer-unshare",
    ),
    path("<uuid:pk>/relationships/new/", links.RelationshipCreateView.as_view(), name="relationship-create"),
    path(
        "<uuid:pk>/relationships/<uuid:relationship_pk>/delete/",
        links.RelationshipDeleteView.as_view(),
        name="relationship-delete",
    ),
]
