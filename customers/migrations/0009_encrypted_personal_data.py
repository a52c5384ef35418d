"""Personal data encrypted at rest (issue 13).

ContactMethod.value, Customer.birth_date / id_number and Address.street / postal_code become
``crm_site.fields`` encrypted fields (a Fernet token in a text column); the contact's clear
``value_normalized`` gives way to its blind index ``value_hash`` and the partial-search ``value_tail``.

This migration: the new columns and the text columns (on PostgreSQL ``USING column::text``; SQLite copies
the table; MongoDB has no column types). 0010 encrypts the rows, 0011 drops the clear normalised column:
three migrations, so PostgreSQL never alters a table in the transaction that updated its rows.
"""

from django.db import migrations, models

import crm_site.fields
from crm_site.db import substring_index_add, substring_index_remove


def add_grams_trigram(apps, schema_editor):
    substring_index_add(
        schema_editor,
        table="customers_contactmethod",
        column="value_grams",
        name="contact_grams_trgm",
        case_insensitive=False,
    )


def drop_grams_trigram(apps, schema_editor):
    substring_index_remove(schema_editor, name="contact_grams_trgm")


def drop_trigram(apps, schema_editor):
    substring_index_remove(schema_editor, name="contact_value_trgm")


def restore_trigram(apps, schema_editor):
    substring_index_add(
        schema_editor,
        table="customers_contactmethod",
        column="value_normalized",
        name="contact_value_trgm",
        case_insensitive=False,
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_privacy_ledger_requests_suppression")]

    operations = [
        migrations.RunPython(drop_trigram, restore_trigram, elidable=False),
        migrations.AlterModelOptions(
            name="contactmethod",
            options={
                "ordering": ["-is_primary", "kind", "created_at"],
                "verbose_name": "contact method",
                "verbose_name_plural": "contact methods",
            },
        ),
        migrations.AddField(
            model_name="contactmethod",
            name="value_hash",
            field=models.CharField(
                db_index=True, default="", editable=False, max_length=64, verbose_name="value hash"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="contactmethod",
            name="value_tail",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=200,
                verbose_name="value tail",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="contactmethod",
            name="value_grams",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="value digit runs"),
        ),
        # PostgreSQL: the digit-run search ("2493") through a trigram index, as 0005 did for the clear value.
        migrations.RunPython(add_grams_trigram, drop_grams_trigram, elidable=False),
        migrations.AlterField(
            model_name="address",
            name="postal_code",
            field=crm_site.fields.EncryptedTextField(blank=True, max_length=20, verbose_name="postal code"),
        ),
        migrations.AlterField(
            model_name="address",
            name="street",
            field=crm_site.fields.EncryptedTextField(blank=True, max_length=255, verbose_name="street"),
        ),
        migrations.AlterField(
            model_name="contactmethod",
            name="value",
            field=crm_site.fields.EncryptedTextField(max_length=200, verbose_name="value"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="birth_date",
            field=crm_site.fields.EncryptedDateField(blank=True, null=True, verbose_name="birth date"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="id_number",
            field=crm_site.fields.EncryptedTextField(blank=True, max_length=40, verbose_name="ID number"),
        ),
    ]
