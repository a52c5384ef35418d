"""Models of the orders module, one file per area."""

from orders.models.catalog import Product, ProductCategory
from orders.models.history import StatusChange
from orders.models.imports import OrderImport
from orders.models.opportunities import Opportunity
from orders.models.projects import Milestone, Project, ProjectMember
from orders.models.rates import ExchangeRate
from orders.models.sales import OrderLine, SalesOrder
from orders.models.tickets import ServiceOrder

__all__ = [
    "ExchangeRate",
    "Milestone",
    "Opportunity",
    "OrderImport",
    "OrderLine",
    "Product",
    "ProductCategory",
    "Project",
    "ProjectMember",
    "SalesOrder",
    "ServiceOrder",
    "StatusChange",
]
