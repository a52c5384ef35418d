"""django-mongodb-backend with the project's three fixes: decimals keep their scale, as on SQL databases,
a transaction committed inside Django's (no-op) ``atomic`` block runs its on-commit hooks, and primary
keys get a plain unique index that lookups and joins by id can use (``schema.py``).

``DATABASES["default"]["ENGINE"]`` is ``crm_site.mongodb_backend`` on MongoDB (see
``crm_site.settings.database``); everything else is django-mongodb-backend's own.
"""
