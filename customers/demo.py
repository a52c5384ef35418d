"""Demo customers: bilingual names, contact methods, addresses, partners and relationships.

Generated chunk by chunk (``ctx.batch_size`` rows) so that 1,000,000 customers fit in bounded memory,
with no per-row query. Everything derives from ``ctx.rng`` so the same seed gives the same data.
"""

from __future__ import annotations

import datetime
import uuid

from crm_site.demo import SeedContext
from customers.models import (
    Address,
    ContactMethod,
    Customer,
    CustomerTag,
    Partner,
    PartnerContact,
    Relationship,
    Tag,
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红鹏辉建国晨雪琳浩宇欣怡子轩梓涵"
FIRST = [
    "James",
    "Mary",
    "John",
    "Linda",
    "David",
    "Susan",
    "Michael",
    "Emma",
    "Daniel",
    "Olivia",
    "Lucas",
    "Mia",
    "Ethan",
    "Grace",
    "Henry",
    "Chloe",
    "Jack",
    "Sophie",
    "Leo",
    "Amelia",
]
LAST = [
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Johnson",
    "Lee",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Clark",
    "Young",
    "King",
    "Scott",
    "Adams",
    "Baker",
]
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


def _uuid(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _age(rng) -> datetime.timedelta:
    return datetime.timedelta(days=rng.randint(18 * 365, 75 * 365))


def _person_name(rng) -> tuple[str, str]:
    if rng.random() < 0.7:
        surname = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        return surname + given, f"{surname}{given}"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first}.{last}".lower()


def seed(ctx: SeedContext) -> None:
    rng = ctx.rng
    owners = ctx.sales_users() or list(ctx.users.values())
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    partners = _seed_partners(ctx, owners)
    ids: list[uuid.UUID] = []
    owner_ids: list = []
    today = datetime.date(2026, 1, 1)
    serial = Customer.objects.count()
    made = 0
    while made < ctx.customers:
        size = min(ctx.batch_size, ctx.customers - made)
        customers, contacts, addresses, links, relations = [], [], [], [], []
        for _ in range(size):
            serial += 1
            owner = owners[serial % len(owners)]
            name, handle = _person_name(rng)
            is_company = rng.random() < 0.12
            company = rng.choice(COMPANIES) if is_company or rng.random() < 0.2 else ""
            customer = Customer(
                id=_uuid(rng),
                kind="company" if is_company else "person",
                name=f"{company}{name}" if is_company else name,
                gender="unknown" if is_company else rng.choice(GENDERS),
                birth_date=None if is_company or rng.random() < 0.2 else today - _age(rng),
                company_name=company,
                lifecycle_stage=rng.choice(STAGES),
                source=rng.choice(SOURCES),
                owner=owner,
                external_id=f"DEMO-{serial:07d}",
                marketing_consent=rng.random() < 0.6,
            )
            customers.append(customer)
            mobile = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
            contacts.append(
                ContactMethod(
                    customer=customer, kind="mobile", value=mobile, value_normalized=mobile, is_primary=True
                )
            )
            if rng.random() < 0.6:
                email = f"{handle}{serial}@example.com"
                contacts.append(
                    ContactMethod(
                        customer=customer, kind="email", value=email, value_normalized=email, is_primary=True
                    )
                )
            if rng.random() < 0.4:
                wechat = f"wx_{handle}{serial}"
                contacts.append(
                    ContactMethod(
                        customer=customer, kind="wechat", value=wechat, value_normalized=wechat.lower()
                    )
                )
            province, city, districts = rng.choice(PLACES)
            addresses.append(
                Address(
                    customer=customer,
                    label="家 Home",
                    province=province,
                    city=city,
                    district=rng.choice(districts),
                    street=f"{rng.choice(STREETS)} {rng.randint(1, 999)}",
                    postal_code=f"{rng.randint(100000, 999999)}",
                    is_default=True,
                )
            )
            if rng.random() < 0.15:
                links.append(CustomerTag(customer=customer, tag=tags[rng.choice(TAGS)]))
            if customers[:-1] and rng.random() < 0.03:
                relations.append(
                    Relationship(
                        customer=customer,
                        related_customer=rng.choice(customers[:-1]),
                        kind=rng.choice(["household", "referral"]),
                    )
                )
            elif partners and rng.random() < 0.01:
                relations.append(
                    Relationship(customer=customer, partner=rng.choice(partners), kind="reseller_of")
                )
        Customer.objects.bulk_create(customers, batch_size=ctx.batch_size)
        ContactMethod.objects.bulk_create(contacts, batch_size=ctx.batch_size)
        Address.objects.bulk_create(addresses, batch_size=ctx.batch_size)
        CustomerTag.objects.bulk_create(links, batch_size=ctx.batch_size)
        Relationship.objects.bulk_create(relations, batch_size=ctx.batch_size)
        ids.extend(customer.pk for customer in customers)
        owner_ids.extend(customer.owner_id for customer in customers)
        made += size
        if made % (ctx.batch_size * 20) == 0 or made == ctx.customers:
            ctx.log(f"customers: {made}/{ctx.customers}")
    ctx.shared["customer_ids"] = ids
    ctx.shared["customer_owner_ids"] = owner_ids


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
            owner=owners[index % len(owners)] if owners else None,
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
