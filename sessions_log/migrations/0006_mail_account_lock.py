from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_log", "0004_schedules"),
    ]

    operations = [
        migrations.AddField(
            model_name="mailaccount",
            name="lock_token",
            field=models.CharField(blank=True, editable=False, max_length=36, verbose_name="being read by"),
        ),
        migrations.AddField(
            model_name="mailaccount",
            name="locked_until",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="locked until"),
        ),
    ]
