from django.db import migrations


def create_schedules(apps, schema_editor):
    from sessions_log.schedule import ensure_sessions_log_schedules

    ensure_sessions_log_schedules(
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_log", "0003_inbox_api_mail_attachments"),
        ("django_celery_beat", "__latest__"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
