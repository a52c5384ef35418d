"""Local settings (`make run`): DEBUG off unless DJANGO_DEBUG=1; a fixed development secret by default.

DEBUG stays off by default because `make run` is also the demo a team tries: Django's technical 404 page
lists every URL to anonymous visitors and its 500 page shows the settings.
"""

from crm_site.settings.base import *  # noqa: F403
from crm_site.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
# Serve static files from the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
