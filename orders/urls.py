"""Pages of the orders module, under /orders/."""

from django.urls import path

from orders.views import misc, opportunities, projects, sales, tickets

app_name = "orders"

urlpatterns = [
    path("", sales.SalesOrderListView.as_view(), name="index"),
    path("sales/", sales.SalesOrderListView.as_view(), name="salesorder-list"),
    path("sales/new/", sales.SalesOrderCreateView.as_view(), name="salesorder-create"),
    path("sales/<uuid:pk>/", sales.SalesOrderDetailView.as_view(), name="salesorder-detail"),
    path("sales/<uuid:pk>/edit/", sales.SalesOrderUpdateView.as_view(), name="salesorder-edit"),
    path("sales/<uuid:pk>/status/", sales.SalesOrderTransitionView.as_view(), name="salesorder-transition"),
    path("sales/<uuid:pk>/lines/", sales.OrderLineAddView.as_view(), name="orderline-add"),
    path(
        "sales/<uuid:pk>/lines/<uuid:line_pk>/delete/",
        sales.OrderLineRemoveView.as_view(),
        name="orderline-remove",
    ),
    path("tickets/", tickets.ServiceOrderListView.as_view(), name="serviceorder-list"),
    path("tickets/new/", tickets.ServiceOrderCreateView.as_view(), name="serviceorder-create"),
    path("tickets/<uuid:pk>/", tickets.ServiceOrderDetailView.as_view(), name="serviceorder-detail"),
    path("tickets/<uuid:pk>/edit/", tickets.ServiceOrderUpdateView.as_view(), name="serviceorder-edit"),
    path(
        "tickets/<uuid:pk>/status/",
        tickets.ServiceOrderTransitionView.as_view(),
        name="serviceorder-transition",
    ),
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path("projects/new/", projects.ProjectCreateView.as_view(), name="project-create"),
    path("projects/<uuid:pk>/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<uuid:pk>/edit/", projects.ProjectUpdateView.as_view(), name="project-edit"),
    path("projects/<uuid:pk>/milestones/", projects.MilestoneCreateView.as_view(), name="milestone-create"),
    path("opportunities/", opportunities.OpportunityListView.as_view(), name="opportunity-list"),
    path("opportunities/board/", opportunities.OpportunityBoardView.as_view(), name="opportunity-board"),
    path("opportunities/new/", opportunities.OpportunityCreateView.as_view(), name="opportunity-create"),
    path(
        "opportunities/<uuid:pk>/", opportunities.OpportunityDetailView.as_view(), name="opportunity-detail"
    ),
    path(
        "opportunities/<uuid:pk>/edit/",
        opportunities.OpportunityUpdateView.as_view(),
        name="opportunity-edit",
    ),
    path(
        "opportunities/<uuid:pk>/move/", opportunities.OpportunityMoveView.as_view(), name="opportunity-move"
    ),
    path("products/", misc.ProductListView.as_view(), name="product-list"),
    path("products/new/", misc.ProductCreateView.as_view(), name="product-create"),
    path("products/<uuid:pk>/edit/", misc.ProductUpdateView.as_view(), name="product-edit"),
    path("imports/new/", misc.OrderImportCreateView.as_view(), name="import-create"),
    path("imports/<uuid:pk>/", misc.OrderImportDetailView.as_view(), name="import-detail"),
    path("reports/", misc.ReportsView.as_view(), name="reports"),
]
