"""Production settings: everything secret or host-specific comes from the environment."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from crm_site.settings.base import *  # noqa: F403
from crm_site.settings.base import BASE_DIR, CELERY_EMBEDDED, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random string of at least 50 characters.")
DEBUG = False
CRM_PRODUCTION = True
if CELERY_EMBEDDED:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL=filesystem:// is the single-machine demo broker of `make run`; "
        "production needs a real broker, e.g. redis://host:6379/0."
    )

# Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto and strips any
# client-sent copy, DJANGO_BEHIND_TLS_PROXY=1 makes Django trust that header for "is this request
# secure?". Off by default: without such a proxy a client could send the header itself.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
