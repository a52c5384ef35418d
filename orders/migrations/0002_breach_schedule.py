from django.db import migrations


def create_schedule(apps, schema_editor):
    from orders.services.schedule import ensure_breach_schedule

    ensure_breach_schedule(
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
