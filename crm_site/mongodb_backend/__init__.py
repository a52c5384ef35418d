"""django-mongodb-backend with the project's two fixes: decimals keep their scale, as on SQL databases,
and a transaction committed inside Django's (no-op) ``atomic`` block runs its on-commit hooks.

``DATABASES["default"]["ENGINE"]`` is ``crm_site.mongodb_backend`` on MongoDB (see
``crm_site.settings.database``); everything else is django-mongodb-backend's own.
"""
