"""Demo customers: bilingual names, contact methods, addresses, tags, partners and relationships.

Fast enough for 1,000,000 customers: each chunk of ``ctx.batch_size`` customers is generated column by
column with numpy (no Faker, no ``full_clean``, no per-row query), then written in one transaction per
chunk. On PostgreSQL the chunk goes in through COPY (demo seeding only: ~10x faster than INSERT, and it
keeps the generated ``created_at`` that ``auto_now_add`` would overwrite); everywhere else through
``bulk_create`` with the generated timestamps (``crm_site.bulk.given_timestamps``). Everything derives
from ``ctx.numpy_rng`` and ``ctx.rng``, so the same seed gives the same data on every backend.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from crm_site.bulk import given_timestamps
from crm_site.db import atomic
from crm_site.demo import SeedContext
from customers import demo_copy
from customers.models import (
    Address,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ContactMethod,
    Customer,
    CustomerTag,
    Partner,
    PartnerContact,
    Relationship,
    Tag,
)
from customers.normalize import contact_grams, contact_hash, contact_tail

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = list("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红鹏辉建国晨雪琳浩宇欣怡子轩梓涵")
FIRST = "James Mary John Linda David Susan Michael Emma Daniel Olivia Lucas Mia Ethan Grace Henry Chloe Jack Sophie Leo Amelia".split()  # noqa: E501
LAST = "Smith Brown Taylor Wilson Johnson Lee Walker Wright Green Hall Clark Young King Scott Adams Baker".split()  # noqa: E501
PLACES = [
    ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区"]),
    ("北京市", "北京市", ["朝阳区", "海淀区", "东城区"]),
    ("广东省", "广州市", ["天河区", "越秀区"]),
    ("广东省", "深圳市", ["南山区", "福田区"]),
    ("浙江省", "杭州市", ["西湖区", "滨江区"]),
    ("江苏省", "南京市", ["鼓楼区", "玄武区"]),
    ("四川省", "成都市", ["武侯区", "锦江区"]),
    ("湖北省", "武汉市", ["江汉区", "洪山区"]),
]
# English names of the cities above, for the branch suffix of English company names.
CITY_EN = {
    "上海市": "Shanghai",
    "北京市": "Beijing",
    "广州市": "Guangzhou",
    "深圳市": "Shenzhen",
    "杭州市": "Hangzhou",
    "南京市": "Nanjing",
    "成都市": "Chengdu",
    "武汉市": "Wuhan",
}
# (province, city, district) flattened so one random index picks a consistent place.
DISTRICTS = [(province, city, district) for province, city, names in PLACES for district in names]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "Nanjing Road", "Century Avenue"]
COMPANIES = [
    "华为",
    "腾讯",
    "Acme Trading",
    "Blue River Ltd",
    "美的",
    "格力",
    "Sunrise Foods",
    "万科",
    "Northwind",
]
TAGS = ["VIP", "高价值", "Wholesale", "华东", "华南", "Newsletter", "回头客"]
STAGES = ["lead", "prospect", "customer", "customer", "customer", "churned"]
SOURCES = ["web", "app", "shop", "referral", "event", "phone", "wechat", "other"]
PARTNER_SUFFIX = ("分销", "Supply", "Affiliates")
GENDERS = ["male", "female", "female", "male", "unknown"]
# Demo customers were created over the three years before this date (fixed: same seed, same data).
END = np.datetime64("2026-01-01T00:00:00", "us")
SPAN_US = 3 * 365 * 24 * 3600 * 10**6
# From this many customers on, a PostgreSQL seed drops and rebuilds the secondary indexes (see demo_copy).
BULK_INDEX_THRESHOLD = 100_000


def _uuid(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _person_name(rng) -> tuple[str, str]:
    if rng.random() < 0.7:
        surname = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        return surname + given, f"{surname}{given}"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first}.{last}".lower()


def company_branch(firm: str, city: str, serial: int) -> str:
    """The name of a company customer: the firm plus its city and serial, so no two customers share it."""
    if firm.isascii():
        return f"{firm} ({CITY_EN[city]} #{serial})"
    return f"{firm}（{city.removesuffix('市')} #{serial}）"


def uuid_block(gen: np.random.Generator, size: int) -> np.ndarray:
    """``size`` random version-4 UUIDs as a (size, 16) byte array (one numpy call, not size calls)."""
    raw = gen.integers(0, 256, size=(size, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def as_uuids(raw: np.ndarray) -> list[uuid.UUID]:
    data = raw.tobytes()
    return [uuid.UUID(bytes=data[i : i + 16]) for i in range(0, len(data), 16)]


@dataclass
class Chunk:
    """One chunk of generated customers and their child rows, column by column."""

    ids: np.ndarray  # (n, 16) uint8
    serials: range
    owner_ids: list[Any]
    kind: list[str]
    name: list[str]
    gender: list[str]
    birth_date: np.ndarray  # datetime64[D], NaT when unknown
    company_name: list[str]
    notes: list[str]
    stage: list[str]
    source: list[str]
    consent: list[bool]
    created_at: np.ndarray  # datetime64[us], UTC
    updated_at: np.ndarray
    # child rows: (customer index, ...) tuples
    contacts: list[tuple[int, str, str, str, bool]]
    addresses: list[tuple[int, str, str, str, str, str]]
    tags: list[tuple[int, Any]]
    relations: list[tuple[int, int | None, Any, str]]  # (customer, related customer index, partner pk, kind)
    # primary keys of the child rows, in the order above (drawn here so both write paths agree)
    child_ids: dict[str, np.ndarray]


def generate_chunk(
    gen: np.random.Generator,
    *,
    first_serial: int,
    size: int,
    owners: list[Any],
    tag_ids: list,
    partner_ids: list,
) -> Chunk:
    """Generate ``size`` customers numbered from ``first_serial`` (pure: no database access)."""
    serials = range(first_serial, first_serial + size)
    chinese = gen.random(size) < 0.7
    surname = gen.integers(0, len(SURNAMES), size)
    given1 = gen.integers(0, len(GIVEN), size)
    given2 = np.where(gen.random(size) < 0.5, gen.integers(0, len(GIVEN), size), -1)
    first = gen.integers(0, len(FIRST), size)
    last = gen.integers(0, len(LAST), size)
    is_company = gen.random(size) < 0.12
    has_company = is_company | (gen.random(size) < 0.2)
    company = gen.integers(0, len(COMPANIES), size)
    gender = gen.integers(0, len(GENDERS), size)
    no_birth = is_company | (gen.random(size) < 0.2)
    birth = np.datetime64("2026-01-01", "D") - gen.integers(18 * 365, 75 * 365, size).astype("timedelta64[D]")
    birth = np.where(no_birth, np.datetime64("NaT", "D"), birth)
    stage = gen.integers(0, len(STAGES), size)
    source = gen.integers(0, len(SOURCES), size)
    consent = gen.random(size) < 0.6
    age_us = gen.integers(0, SPAN_US, size)
    created = END - age_us.astype("timedelta64[us]")
    # Last touched somewhere between creation and the end of the period.
    updated = created + (age_us * gen.random(size)).astype(np.int64).astype("timedelta64[us]")
    mobile_prefix = gen.integers(3, 10, size)
    mobile_number = gen.integers(0, 1_000_000_000, size)
    has_email = gen.random(size) < 0.6
    has_wechat = gen.random(size) < 0.4
    place = gen.integers(0, len(DISTRICTS), size)
    street = gen.integers(0, len(STREETS), size)
    house = gen.integers(1, 1000, size)
    postal = gen.integers(100000, 1000000, size)
    tagged = gen.random(size) < 0.15
    tag_pick = gen.integers(0, max(1, len(tag_ids)), size)
    relation_roll = gen.random(size)
    partner_roll = gen.random(size)
    partner_pick = gen.integers(0, max(1, len(partner_ids)), size)
    relation_kind = gen.random(size) < 0.5
    earlier = (gen.random(size) * np.arange(size)).astype(np.int64)

    names, companies, notes, contacts, addresses, tags = [], [], [], [], [], []
    relations: list[tuple[int, int | None, Any, str]] = []
    for i, serial in enumerate(serials):
        if chinese[i]:
            given = GIVEN[given1[i]] + (GIVEN[given2[i]] if given2[i] >= 0 else "")
            person, handle = SURNAMES[surname[i]] + given, f"zh{serial}"
        else:
            person = f"{FIRST[first[i]]} {LAST[last[i]]}"
            handle = f"{FIRST[first[i]]}.{LAST[last[i]]}{serial}".lower()
        firm = COMPANIES[company[i]] if has_company[i] else ""
        province, city, district = DISTRICTS[place[i]]
        companies.append(firm)
        if is_company[i]:
            # A company customer is the company; the generated person is who to ask for there.
            names.append(company_branch(firm, city, serial))
            notes.append(f"联系人 Contact: {person}")
        else:
            names.append(person)
            notes.append("")
        mobile = f"1{mobile_prefix[i]}{mobile_number[i]:09d}"
        contacts.append((i, "mobile", mobile, mobile, True))
        if has_email[i]:
            email = f"{handle}@example.com"
            contacts.append((i, "email", email, email, True))
        if has_wechat[i]:
            wechat = f"wx_{handle}"
            contacts.append((i, "wechat", wechat, wechat.lower(), False))
        addresses.append((i, province, city, district, f"{STREETS[street[i]]} {house[i]}", str(postal[i])))
        if tagged[i] and tag_ids:
            tags.append((i, tag_ids[tag_pick[i]]))
        if i and relation_roll[i] < 0.03:
            relations.append((i, int(earlier[i]), None, "household" if relation_kind[i] else "referral"))
        elif partner_ids and partner_roll[i] < 0.01:
            relations.append((i, None, partner_ids[partner_pick[i]], "reseller_of"))
    kinds = np.array(["person", "company"])[is_company.astype(int)].tolist()
    customer_ids = uuid_block(gen, size)
    child_ids = {
        name: uuid_block(gen, len(rows))
        for name, rows in (
            ("contacts", contacts),
            ("addresses", addresses),
            ("tags", tags),
            ("relations", relations),
        )
    }
    return Chunk(
        ids=customer_ids,
        child_ids=child_ids,
        serials=serials,
        owner_ids=[owners[serial % len(owners)] for serial in serials],
        kind=kinds,
        name=names,
        gender=["unknown" if is_company[i] else GENDERS[gender[i]] for i in range(size)],
        birth_date=birth,
        company_name=companies,
        notes=notes,
        stage=[STAGES[value] for value in stage],
        source=[SOURCES[value] for value in source],
        consent=consent.tolist(),
        created_at=created,
        updated_at=updated,
        contacts=contacts,
        addresses=addresses,
        tags=tags,
        relations=relations,
    )


def seed(ctx: SeedContext) -> None:
    owners = [user.pk for user in (ctx.sales_users() or list(ctx.users.values()))]
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    partners = _seed_partners(ctx, owners)
    tag_ids = [tags[name].pk for name in TAGS]
    partner_ids = [partner.pk for partner in partners]
    use_copy = connection.vendor == "postgresql"
    ids: list[uuid.UUID] = []
    owner_ids: list[Any] = []
    # Large PostgreSQL seeds rebuild the secondary indexes once at the end instead of row by row.
    with demo_copy.indexes_deferred(use_copy and ctx.customers >= BULK_INDEX_THRESHOLD):
        _seed_chunks(ctx, owners, tag_ids, partner_ids, use_copy, ids, owner_ids)
    ctx.shared["customer_ids"] = ids
    ctx.shared["customer_owner_ids"] = owner_ids


def _seed_chunks(
    ctx: SeedContext,
    owners: list[Any],
    tag_ids: list[Any],
    partner_ids: list[Any],
    use_copy: bool,
    ids: list[uuid.UUID],
    owner_ids: list[Any],
) -> int:
    serial = Customer.objects.count() + 1
    made = 0
    while made < ctx.customers:
        size = min(ctx.batch_size, ctx.customers - made)
        chunk = generate_chunk(
            ctx.numpy_rng,
            first_serial=serial,
            size=size,
            owners=owners,
            tag_ids=tag_ids,
            partner_ids=partner_ids,
        )
        with atomic():
            if use_copy:
                demo_copy.write_chunk(chunk)
            else:
                _write_orm(chunk, ctx.batch_size)
            _write_consents(chunk, use_copy=use_copy)
        ids.extend(as_uuids(chunk.ids))
        owner_ids.extend(chunk.owner_ids)
        made += size
        serial += size
        if made % max(ctx.batch_size * 10, 100_000) < size or made == ctx.customers:
            ctx.log(f"customers: {made}/{ctx.customers}")
    return made


DEMO_NOTICE_VERSION = "2026-01"
PROFILING_REFUSAL_EVERY = 25  # one demo customer in 25 has refused profiling


def consent_entries(chunk: Chunk) -> list[dict[str, Any]]:
    """The consent ledger behind each customer's ``marketing_consent`` summary (an email opt-in from the
    import the demo pretends to be), plus a few refusals of profiling; recorded when the customer was
    created. Derived from the chunk alone, so the same seed gives the same ledger."""
    pks, created = as_uuids(chunk.ids), _aware(chunk.created_at)
    entries: list[dict[str, Any]] = []
    for i, serial in enumerate(chunk.serials):
        common = {
            "customer_id": pks[i],
            "source": ConsentSource.IMPORT,
            "notice_version": DEMO_NOTICE_VERSION,
            "evidence": f"demo import row {serial}",
            "recorded_at": created[i],
        }
        if chunk.consent[i]:
            entries.append({**common, "purpose": ConsentPurpose.MARKETING_EMAIL, "granted": True})
        if serial % PROFILING_REFUSAL_EVERY == 0:
            entries.append({**common, "purpose": ConsentPurpose.PROFILING, "granted": False})
    return entries


def _write_consents(chunk: Chunk, *, use_copy: bool) -> None:
    """The ledger of a chunk of brand-new customers: its records and their current states written
    directly, two bulk writes a chunk (COPY on PostgreSQL). No state exists yet to compare with, and the
    customers' summary columns were written with the chunk (``consent_summary``), so what
    ``consent_record_many`` adds here is its summary UPDATE, one CASE arm per customer: that took the
    1,000,000-customer seed from 90 s to about an hour. ``consent_record_many`` stays the path of imports."""
    entries = consent_entries(chunk)
    if not entries:
        return
    records = [ConsentRecord(id=uuid.uuid4(), **entry) for entry in entries]
    states = [
        ConsentState(
            id=uuid.uuid4(),
            customer_id=record.customer_id,
            purpose=record.purpose,
            granted=record.granted,
            changed_at=record.recorded_at,
            record_id=record.id,
        )
        for record in records
    ]
    if use_copy:
        demo_copy.write_consents(records, states)
        return
    ConsentRecord.objects.bulk_create(records, batch_size=2_000)
    ConsentState.objects.bulk_create(states, batch_size=2_000)


def consent_summary(chunk: Chunk) -> tuple[list[datetime.datetime | None], list[str]]:
    """The customers' marketing-consent summary columns as ``marketing_summary_sync`` would write them
    from ``consent_entries``: the opt-in's date and the import channel, or nothing."""
    created = _aware(chunk.created_at)
    changed = [created[i] if given else None for i, given in enumerate(chunk.consent)]
    channels = [Customer.ConsentChannel.IMPORT.value if given else "" for given in chunk.consent]
    return changed, channels


def _aware(values: np.ndarray) -> list[datetime.datetime]:
    """UTC datetimes of generated timestamps (never NaT: every customer has both times)."""
    return [value.replace(tzinfo=datetime.UTC) for value in values.astype(datetime.datetime)]


def _write_orm(chunk: Chunk, batch_size: int) -> None:
    """The portable path (SQLite, MongoDB): bulk_create with the generated timestamps."""
    pks = as_uuids(chunk.ids)
    births = chunk.birth_date.astype(object)
    created, updated = _aware(chunk.created_at), _aware(chunk.updated_at)
    consent_changed, consent_channels = consent_summary(chunk)
    customers = [
        Customer(
            id=pks[i],
            kind=chunk.kind[i],
            name=chunk.name[i],
            gender=chunk.gender[i],
            birth_date=births[i],
            company_name=chunk.company_name[i],
            notes=chunk.notes[i],
            lifecycle_stage=chunk.stage[i],
            source=chunk.source[i],
            owner_id=chunk.owner_ids[i],
            external_id=f"DEMO-{serial:07d}",
            marketing_consent=chunk.consent[i],
            consent_changed_at=consent_changed[i],
            consent_channel=consent_channels[i],
            created_at=created[i],
            updated_at=updated[i],
        )
        for i, serial in enumerate(chunk.serials)
    ]
    with given_timestamps(Customer):
        Customer.objects.bulk_create(customers, batch_size=batch_size)
    child = {name: as_uuids(raw) for name, raw in chunk.child_ids.items()}
    ContactMethod.objects.bulk_create(
        [
            ContactMethod(
                id=pk,
                customer_id=pks[i],
                kind=kind,
                value=value,
                value_hash=contact_hash(normalized),
                value_tail=contact_tail(kind, normalized),
                value_grams=contact_grams(kind, normalized),
                is_primary=primary,
            )
            for pk, (i, kind, value, normalized, primary) in zip(
                child["contacts"], chunk.contacts, strict=True
            )
        ],
        batch_size=batch_size,
    )
    Address.objects.bulk_create(
        [
            Address(
                id=pk,
                customer_id=pks[i],
                label="家 Home",
                province=province,
                city=city,
                district=district,
                street=street,
                postal_code=postal,
                is_default=True,
            )
            for pk, (i, province, city, district, street, postal) in zip(
                child["addresses"], chunk.addresses, strict=True
            )
        ],
        batch_size=batch_size,
    )
    CustomerTag.objects.bulk_create(
        [
            CustomerTag(id=pk, customer_id=pks[i], tag_id=tag)
            for pk, (i, tag) in zip(child["tags"], chunk.tags, strict=True)
        ],
        batch_size=batch_size,
    )
    Relationship.objects.bulk_create(
        [
            Relationship(
                id=pk,
                customer_id=pks[i],
                related_customer_id=None if other is None else pks[other],
                partner_id=partner,
                kind=kind,
            )
            for pk, (i, other, partner, kind) in zip(child["relations"], chunk.relations, strict=True)
        ],
        batch_size=batch_size,
    )


def _seed_partners(ctx: SeedContext, owners: list) -> list[Partner]:
    rng = ctx.rng
    partners = []
    contacts = []
    for index in range(max(3, min(50, ctx.customers // 200))):
        kind = ("reseller", "supplier", "affiliate")[index % 3]
        partner = Partner(
            id=_uuid(rng),
            kind=kind,
            name=f"{rng.choice(COMPANIES)} {PARTNER_SUFFIX[index % 3]} {index + 1}",
            owner_id=owners[index % len(owners)] if owners else None,
            city=rng.choice(PLACES)[1],
            phone=f"021-{rng.randint(10000000, 99999999)}",
            email=f"partner{index + 1}@example.com",
        )
        partners.append(partner)
        name, _handle = _person_name(rng)
        contacts.append(PartnerContact(partner=partner, name=name, job_title="Account manager 客户经理"))
    Partner.objects.bulk_create(partners)
    PartnerContact.objects.bulk_create(contacts)
    return partners
