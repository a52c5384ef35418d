"""The clear normalised contact value goes (its blind index ``value_hash`` replaces it, issue 13)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_encrypt_existing_rows")]

    operations = [migrations.RemoveField(model_name="contactmethod", name="value_normalized")]
