"""manage.py sync_roles: create the role groups and give them their permissions (idempotent)."""

from django.core.management.base import BaseCommand

from crm_site.roles import sync_roles


class Command(BaseCommand):
    help = "Create the Sales, Manager, Marketing, Service and KnowledgeEditor groups with their permissions."

    def handle(self, *args, **options):
        for role, count in sync_roles().items():
            self.stdout.write(f"{role}: {count} permissions")
