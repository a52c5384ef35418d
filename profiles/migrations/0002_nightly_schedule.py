from django.db import migrations


def create_schedule(apps, schema_editor):
    from profiles.services.schedule import ensure_profile_schedule

    ensure_profile_schedule(
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0001_initial"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
