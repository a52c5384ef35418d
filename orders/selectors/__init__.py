"""Selectors: every read of the orders module, with per-user scoping and joins baked in."""

from orders.selectors.details import (
    import_list,
    order_line_get,
    product_get,
    project_member_ids,
    project_memberships,
    project_milestones,
    sales_order_lines,
    status_history,
)
from orders.selectors.lists import (
    import_get,
    import_write_progress,
    opportunity_board,
    opportunity_get,
    opportunity_list,
    product_list,
    project_get,
    project_list,
    sales_order_get,
    sales_order_list,
    service_order_get,
    service_order_list,
)
from orders.selectors.purchases import purchased_lines, purchased_orders
from orders.selectors.summaries import customer_orders_summary, dashboard_summary

__all__ = [
    "customer_orders_summary",
    "dashboard_summary",
    "import_get",
    "import_list",
    "import_write_progress",
    "opportunity_board",
    "opportunity_get",
    "opportunity_list",
    "order_line_get",
    "product_get",
    "product_list",
    "project_get",
    "project_list",
    "project_member_ids",
    "project_memberships",
    "project_milestones",
    "purchased_lines",
    "purchased_orders",
    "sales_order_get",
    "sales_order_lines",
    "sales_order_list",
    "service_order_get",
    "service_order_list",
    "status_history",
]
