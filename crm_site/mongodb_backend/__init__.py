"""django-mongodb-backend with the project's one fix: decimals keep their scale, as on SQL databases.

``DATABASES["default"]["ENGINE"]`` is ``crm_site.mongodb_backend`` on MongoDB (see
``crm_site.settings.database``); everything else is django-mongodb-backend's own.
"""
