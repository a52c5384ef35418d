"""App configs: the project app, the admin site, and MongoDB variants of contrib/third-party apps."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from django_celery_beat.apps import BeatConfig

MONGO_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"


class CRMSiteConfig(AppConfig):
    name = "crm_site"
    verbose_name = _("CRM site")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm_site import checks  # noqa: F401  (registers system checks)
        from crm_site.audit.trail import connect_signals
        from crm_site.retention import ensure_retention_schedule_after_migrate
        from crm_site.roles import sync_roles_after_migrate
        from crm_site.security import lockout, middleware  # noqa: F401  (connect the login signals)

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="crm_site.sync_roles")
        post_migrate.connect(ensure_retention_schedule_after_migrate, dispatch_uid="crm_site.retention")
        # Each app's retention rules (<app>/retention.py), without crm_site importing a higher app.
        autodiscover_modules("retention")
        # Each app's personal-data handlers (<app>/personal_data.py): data-subject requests (issue 13).
        autodiscover_modules("personal_data")
        connect_signals()


class CRMAdminConfig(AdminConfig):
    default_site = "crm_site.admin_site.CRMAdminSite"


class MongoAdminConfig(CRMAdminConfig):
    default_auto_field = MONGO_AUTO_FIELD


class MongoAuthConfig(AuthConfig):
    default_auto_field = MONGO_AUTO_FIELD


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = MONGO_AUTO_FIELD


class MongoBeatConfig(BeatConfig):
    default_auto_field = MONGO_AUTO_FIELD
