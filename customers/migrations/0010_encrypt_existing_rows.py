"""Encrypt the personal data still in clear (issue 13; the columns are made in 0009).

In batches of ``BATCH`` rows by primary key, through the historical models, so the same code runs on
SQLite, PostgreSQL and MongoDB. A row that already reads with the key ring is skipped, so an interrupted
run simply runs again. The contact's blind index and tail are computed from the clear value here too.
"""

from django.db import migrations

import crm_site.fields

BATCH = 2000
FERNET_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, then the timestamp)

# model name -> the encrypted fields of this migration
ENCRYPTED = {
    "customer": ("birth_date", "id_number"),
    "contactmethod": ("value",),
    "address": ("street", "postal_code"),
}


def _clear(value):
    """The clear text a historical encrypted field read from a row still in clear, else None.

    The historical field decrypts as the real one does: a clear value is no token, so it reads as an
    ``Unreadable`` marker carrying the stored text. A value that reads (already encrypted) or that looks
    like a token no key opens is left alone.
    """
    if isinstance(value, crm_site.fields.Unreadable) and not value.token.startswith(FERNET_PREFIX):
        return value.token
    return None


def encrypt_rows(apps, schema_editor):
    import datetime

    from customers.normalize import contact_grams, contact_hash, contact_tail, normalize_contact

    for model_name, names in ENCRYPTED.items():
        model = apps.get_model("customers", model_name)
        last = None
        while True:
            page = model.objects.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            rows = list(page[:BATCH])
            if not rows:
                break
            last = rows[-1].pk
            changed = []
            for row in rows:
                dirty = False
                for name in names:
                    clear = _clear(getattr(row, name))
                    if clear is None:
                        continue
                    if name == "birth_date":
                        try:
                            clear = datetime.date.fromisoformat(clear[:10])
                        except ValueError:
                            continue
                    setattr(row, name, clear)
                    dirty = True
                if model_name == "contactmethod" and (dirty or not row.value_hash):
                    value = row.value if isinstance(row.value, str) else ""
                    if not isinstance(value, crm_site.fields.Unreadable):
                        normalised = normalize_contact(row.kind, value)
                        row.value_hash = contact_hash(normalised)
                        row.value_tail = contact_tail(row.kind, normalised)
                        row.value_grams = contact_grams(row.kind, normalised)
                        dirty = True
                if dirty:
                    changed.append(row)
            fields = list(names) + (
                ["value_hash", "value_tail", "value_grams"] if model_name == "contactmethod" else []
            )
            if changed:
                model.objects.bulk_update(changed, fields, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_encrypted_personal_data")]

    operations = [migrations.RunPython(encrypt_rows, migrations.RunPython.noop, elidable=False)]
