"""Settings shared by every environment, configured from environment variables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from crm_site.settings.database import backend_of, database_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL = env("DATABASE_URL", default="")
DATABASES = {"default": database_config(DATABASE_URL, BASE_DIR)}
DB_BACKEND = "sqlite" if not DATABASE_URL else backend_of(DATABASE_URL)
IS_MONGODB = DB_BACKEND == "mongodb"

PROJECT_APPS = ["customers", "sessions_log", "marketing", "orders", "profiles", "knowledge"]

if IS_MONGODB:
    DJANGO_APPS = [
        "crm_site.apps.MongoAdminConfig",
        "crm_site.apps.MongoAuthConfig",
        "crm_site.apps.MongoContentTypesConfig",
    ]
    BEAT_APP = "crm_site.apps.MongoBeatConfig"
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
    # Contrib and third-party apps get migrations that use ObjectIdAutoField on MongoDB only.
    MIGRATION_MODULES = {
        "admin": "mongo_migrations.admin",
        "auth": "mongo_migrations.auth",
        "contenttypes": "mongo_migrations.contenttypes",
        "django_celery_beat": "mongo_migrations.django_celery_beat",
    }
else:
    DJANGO_APPS = ["crm_site.apps.CRMAdminConfig", "django.contrib.auth", "django.contrib.contenttypes"]
    BEAT_APP = "django_celery_beat"
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    *DJANGO_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    BEAT_APP,
    "crm_site.apps.CRMSiteConfig",
    *PROJECT_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below) and Permissions-Policy on every response.
    "csp.middleware.CSPMiddleware",
    "crm_site.security.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Entries of the audit trail name the request's user (crm_site/audit).
    "crm_site.audit.trail.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle (30 min) and absolute (12 h) session timeouts; then the second-factor gate (crm_site/security).
    "crm_site.security.middleware.SessionTimeoutMiddleware",
    "crm_site.security.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Headers (docs/security.md "Headers"). Scripts and styles only from our own static files: no inline
# <script>, on...= handler, <style> block or style="" attribute anywhere (a test in a real browser counts
# the violations on every role's pages); images also as data: URIs (Bootstrap's form icons, the QR code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of the CRM uses, off for every page (crm_site/security/headers.py).
CRM_PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "serial",
        "bluetooth",
        "hid",
        "browsing-topics",
    )
}

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_site.context_processors.navigation",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    # Refuses every password check for a locked-out username or address (crm_site/security/lockout.py).
    "crm_site.security.lockout.LockoutBackend",
    # On MongoDB, Django's ModelBackend reading permissions without a join (crm_site/auth.py).
    "crm_site.auth.ModelBackend" if IS_MONGODB else "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Logins (crm_site/security, docs/security.md "Logins"). Lockout: CRM_LOGIN_FAILURE_LIMIT failures for a
# username or from an address lock both out for CRM_LOGIN_LOCKOUT_SECONDS; counters are in the cache
# (Redis in production, shared by every process). CRM_TRUSTED_PROXY_COUNT: how many proxies of ours sit in
# front of Django and append to X-Forwarded-For (0: the header is ignored, REMOTE_ADDR is the client).
CRM_LOGIN_FAILURE_LIMIT = env.int("CRM_LOGIN_FAILURE_LIMIT", default=5)
CRM_LOGIN_LOCKOUT_SECONDS = env.int("CRM_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
CRM_TRUSTED_PROXY_COUNT = env.int("CRM_TRUSTED_PROXY_COUNT", default=0)
CRM_LOCKOUT_CACHE = "default"
# A session ends after 30 minutes without a request or 12 hours after its login, whichever comes first.
CRM_SESSION_IDLE_SECONDS = env.int("CRM_SESSION_IDLE_SECONDS", default=30 * 60)
CRM_SESSION_ABSOLUTE_SECONDS = env.int("CRM_SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_COOKIE_AGE = CRM_SESSION_ABSOLUTE_SECONDS
# TOTP second factor, compulsory for managers and superusers while on. CRM_TWO_FACTOR_KEYS: Fernet keys
# (comma-separated; the first encrypts, all decrypt) for the TOTP secrets; unset: derived from SECRET_KEY.
CRM_REQUIRE_2FA = env.bool("CRM_REQUIRE_2FA", default=True)
CRM_TWO_FACTOR_KEYS = env.list("CRM_TWO_FACTOR_KEYS", default=[])
# Personal data at rest (crm_site/crypto.py, docs/security.md "Personal data at rest"): Fernet keys for the
# encrypted fields (comma-separated; the first encrypts, all decrypt; `manage.py rotate_keys` re-encrypts)
# and the key of the keyed hashes (blind indexes) that exact search, duplicates and suppression match on.
# Unset: derived from SECRET_KEY (fine for a demo; production sets both, `check --deploy` warns otherwise).
CRM_FIELD_ENCRYPTION_KEYS = env.list("CRM_FIELD_ENCRYPTION_KEYS", default=[])
CRM_BLIND_INDEX_KEY = env("CRM_BLIND_INDEX_KEY", default="")
# Data-subject requests: days to answer by the law the request falls under (PIPL Art. 50 / GDPR Art. 12).
CRM_DSR_DUE_DAYS = {
    "pipl": env.int("CRM_DSR_DUE_DAYS_PIPL", default=15),
    "gdpr": env.int("CRM_DSR_DUE_DAYS_GDPR", default=30),
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
# The project's and its apps' own catalogues come first, so they win over a third-party app's translation
# of the same msgid (django_celery_beat, listed before our apps, translates "Name" as "任务名", "task name").
LOCALE_PATHS = [
    BASE_DIR / "locale",
    *(path for app in ["crm_site", *PROJECT_APPS] if (path := BASE_DIR / app / "locale").is_dir()),
]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Asia/Shanghai")
# Money and counts grouped by three with a comma in both languages (crm_site/formats overrides zh_Hans).
FORMAT_MODULE_PATH = ["crm_site.formats"]
# The currency totals are converted into (orders.ExchangeRate, dated, kept by managers in the admin) and
# the profile pipeline's spend and CLV are in: one of orders.models.common.Currency.
CRM_BASE_CURRENCY = env("CRM_BASE_CURRENCY", default="CNY").strip().upper()
# Marketing (issue 15): at most MARKETING_FREQUENCY_CAP marketing deliveries per customer in any
# MARKETING_FREQUENCY_DAYS days across campaigns (more reads as spam and drives unsubscribes), and no
# sends inside the quiet hours "start-end" (24 h clock, server time zone; across midnight when start > end).
MARKETING_FREQUENCY_CAP = env.int("MARKETING_FREQUENCY_CAP", default=2)
MARKETING_FREQUENCY_DAYS = env.int("MARKETING_FREQUENCY_DAYS", default=7)
MARKETING_QUIET_HOURS = env("MARKETING_QUIET_HOURS", default="21-8")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Counts a request's fields, not its files (Django leaves file parts out): a too-big file is the form's
# error (sessions_log.attachments), never this limit's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Files on interactions (sessions_log.attachments): at most this many bytes each (10 MB); past it the
# upload's bytes are not kept and the form names the file.
CRM_ATTACHMENT_MAX_BYTES = env.int("CRM_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Retention (crm_site/retention.py, docs/security.md "Retention"): days each kind is kept before the nightly
# purge (03:30) deletes or empties it; 0 keeps it for ever. Raw behaviour events are deleted (profiles
# already computed keep their figures), email bodies and quoted text emptied (subject, date and parties
# stay), attachments deleted with their files, call recording links and transcripts emptied.
CRM_RETENTION_DAYS = {
    "events": env.int("CRM_RETENTION_EVENTS_DAYS", default=730),
    "email_bodies": env.int("CRM_RETENTION_EMAIL_BODIES_DAYS", default=730),
    "attachments": env.int("CRM_RETENTION_ATTACHMENTS_DAYS", default=730),
    "call_recordings": env.int("CRM_RETENTION_CALL_RECORDINGS_DAYS", default=180),
    # The zip of a completed or refused data-subject request, counted from completed_at: the customer has
    # had their copy, a second one kept here is only more personal data to protect (customers/retention.py).
    "dsr_archives": env.int("CRM_RETENTION_DSR_ARCHIVES_DAYS", default=30),
}
# Customer and order import files (crm_site.uploads.import_format): at most this many bytes (50 MB); CSV
# or XLSX is told by the file's bytes, not its name.
CRM_IMPORT_MAX_BYTES = env.int("CRM_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Profile pipeline: orders and events before PROFILES_HISTORY_START (an ISO date, a day in TIME_ZONE) are
# left out of every profile run and counted on its run page; empty (the default) keeps all history
# (back to 1677, the limit of pandas' timestamps). A malformed date stops start-up here, not a run.
PROFILES_HISTORY_START = env("PROFILES_HISTORY_START", default="").strip() or None
if PROFILES_HISTORY_START:
    date.fromisoformat(PROFILES_HISTORY_START)

# Email out (sessions_log.mail): SMTP when EMAIL_HOST is set, else the console (mail is printed, not
# sent). DJANGO_EMAIL_BACKEND names another backend outright. EMAIL_TIMEOUT bounds a stuck server.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Email in (sessions_log.mail_in): the address replies come back to, one of the mailboxes the CRM reads.
# Outgoing mail carries it with plus addressing and a signed thread code (crm+<code>.<sig>@example.com)
# as Reply-To, so a reply threads even when a provider rewrites Message-ID; empty: Reply-To is the staff
# member. A message bigger than CRM_MAIL_MAX_MESSAGE_BYTES is logged on the fetch run and not read.
CRM_REPLY_ADDRESS = env("CRM_REPLY_ADDRESS", default="")
CRM_MAIL_MAX_MESSAGE_BYTES = env.int("CRM_MAIL_MAX_MESSAGE_BYTES", default=40 * 1024 * 1024)
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# The site's address as staff open it, for links in mail sent by background jobs (the follow-up digest),
# which have no request to take the host from.
CRM_SITE_URL = env("CRM_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Celery: with no broker configured, tasks run in-process so the app needs nothing else to run.
# CELERY_BROKER_URL=filesystem:// (what `make run` sets) is the embedded mode: kombu's filesystem
# transport keeps the queue as files under CELERY_EMBEDDED_DIR (default .run/celery/), results go to
# files beside it and the cache to a folder there, so a worker and beat on the same machine (`manage.py
# run_demo`) need no Redis. For one machine only; production settings refuse it.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_EMBEDDED = CELERY_BROKER_URL.startswith("filesystem:")
CELERY_EMBEDDED_DIR = Path(env("CELERY_EMBEDDED_DIR", default=str(BASE_DIR / ".run" / "celery")))
if CELERY_EMBEDDED:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder both ways: every process on this machine sends and reads the same queue files.
        "data_folder_in": str(CELERY_EMBEDDED_DIR / "queue"),
        "data_folder_out": str(CELERY_EMBEDDED_DIR / "queue"),
        "control_folder": str(CELERY_EMBEDDED_DIR / "control"),
        "processed_folder": str(CELERY_EMBEDDED_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.25,
    }
    for _folder in ("queue", "control", "processed", "results", "cache"):
        (CELERY_EMBEDDED_DIR / _folder).mkdir(parents=True, exist_ok=True)
    del _folder
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND",
    default=f"file://{CELERY_EMBEDDED_DIR / 'results'}" if CELERY_EMBEDDED else CELERY_BROKER_URL or None,
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Customer profiles: forecast horizons in days (expected purchases and spend per horizon on every
# profile); 90 and 365 are always computed, these are added, e.g. PROFILES_FORECAST_HORIZONS=90,365,30.
PROFILES_FORECAST_HORIZONS = env.list("PROFILES_FORECAST_HORIZONS", default=["90", "365"])
# Behavioural clusters (profiles.pipeline.clusters): k is chosen by silhouette within this range, "min,max"
# inclusive (a handful of audiences marketing can brief); clusters holding under this share of the customers
# are merged into their nearest neighbour. Both are checked when a run reads them (ImproperlyConfigured).
PROFILES_CLUSTER_K_RANGE = env("PROFILES_CLUSTER_K_RANGE", default="4,8")
PROFILES_CLUSTER_MIN_SHARE = env.float("PROFILES_CLUSTER_MIN_SHARE", default=0.02)

# The cache carries progress between worker and web processes, so it must be shared when workers run:
# Redis (CACHE_URL, or the broker's Redis by default); an in-process cache when tasks run in-process.
CACHE_URL = env("CACHE_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "crm"}
        if CACHE_URL
        # The embedded mode's processes share a folder of cache files.
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(CELERY_EMBEDDED_DIR / "cache"),
        }
        if CELERY_EMBEDDED
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Seconds the customer list keeps its rendered filter sidebar (a template fragment per language and query
# string; rendering it is a third of the page's CPU).
CUSTOMER_FILTER_CACHE_SECONDS = env.int("CUSTOMER_FILTER_CACHE_SECONDS", default=60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"forbidden_one_line": {"()": "crm_site.log_filters.ForbiddenWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["forbidden_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The REST API under /api/v1/ (crm_site/rest.py, docs/api.md): bearer tokens with scopes only (no session,
# so no CSRF), JSON only, one error shape, requests per token limited to API_TOKEN_THROTTLE_RATE.
API_TOKEN_THROTTLE_RATE = env("API_TOKEN_THROTTLE_RATE", default="1200/minute")
# A new API token expires this many days after it is made (the admin may set another date, or none);
# 0: new tokens never expire. An expired token is answered 401 saying so.
API_TOKEN_LIFETIME_DAYS = env.int("API_TOKEN_LIFETIME_DAYS", default=365)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["crm_site.rest.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["crm_site.rest.TokenScopePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["crm_site.rest.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["crm_site.rest.CrmJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "crm_site.rest_schema.CrmAutoSchema",
    "EXCEPTION_HANDLER": "crm_site.rest.api_exception_handler",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Call records, chat transcripts, interactions and behaviour events. See docs/api.md.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Staff read the schema and its docs page logged in; other systems with any live token.
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "crm_site.rest.ApiTokenAuthentication",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from drf-spectacular-sidecar, served from our own static files (no CDN: works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No online validator badge: the page would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share a field name (a call's two directions, an interaction's three...).
    "ENUM_NAME_OVERRIDES": {
        "CallDirectionEnum": "sessions_log.api.serializers.DIRECTIONS",
        "InteractionDirectionEnum": "sessions_log.models.Interaction.Direction",
        "OutcomeEnum": "sessions_log.api.serializers.OUTCOMES",
        "InteractionOutcomeEnum": "sessions_log.models.Interaction.Outcome",
    },
}

# Production settings set this; demo commands (seed_demo, bootstrap_demo_users) refuse to run there.
CRM_PRODUCTION = False
