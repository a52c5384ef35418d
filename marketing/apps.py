"""The marketing module: campaigns on segments, variants and a holdout, sends, tracking and evaluation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"
