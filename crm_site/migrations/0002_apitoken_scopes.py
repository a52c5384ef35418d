from django.db import migrations, models


def existing_tokens_send_events(apps, schema_editor):
    """Tokens made before scopes existed were for POST /api/events/: they keep exactly that."""
    apps.get_model("crm_site", "ApiToken").objects.update(scopes=["events:write"])


class Migration(migrations.Migration):
    dependencies = [
        ("crm_site", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(blank=True, default=list, verbose_name="scopes"),
        ),
        migrations.RunPython(existing_tokens_send_events, migrations.RunPython.noop),
    ]
