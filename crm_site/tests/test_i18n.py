"""The Simplified Chinese catalogues are complete (no empty or fuzzy entry) and their .mo matches."""

import gettext
import re
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    path for path in BASE_DIR.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in path.parts
)


def unescape(quoted: list[str]) -> str:
    return "".join(quoted).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def entries(po_text: str) -> list[tuple[str, str, bool, str | None]]:
    """(msgid, msgstr, fuzzy, context) for every entry but the header and plural forms."""
    found = []
    for block in re.split(r"\n\s*\n", po_text):
        if block.lstrip().startswith("#~"):
            continue
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        context = re.search(r'^msgctxt "(.*)"', block, re.M)
        text_id = unescape(re.findall(r'"(.*)"', msgid.group(1)))
        text_str = unescape(re.findall(r'"(.*)"', msgstr.group(1)))
        if text_id and "msgid_plural" not in block:
            fuzzy = bool(re.search(r"^#,.*fuzzy", block, re.M))
            found.append((text_id, text_str, fuzzy, context.group(1) if context else None))
    return found


def test_there_is_a_project_catalogue_and_one_for_the_crm_site_app():
    names = {path.relative_to(BASE_DIR).parts[0] for path in CATALOGUES}
    assert {"locale", "crm_site"} <= names


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_every_message_has_a_chinese_translation(po):
    problems = [
        f"{'fuzzy' if fuzzy else 'empty'}: {msgid!r}"
        for msgid, msgstr, fuzzy, _context in entries(po.read_text(encoding="utf-8"))
        if fuzzy or not msgstr
    ]
    assert problems == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_every_catalogue_is_compiled_from_its_current_source(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"run `make messages` to compile {po}"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, msgstr, _fuzzy, context in entries(po.read_text(encoding="utf-8"))
        if (compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)) != msgstr
    ]
    assert stale == [], "the .mo is older than the .po: run `make messages`"


def test_our_translations_win_over_third_party_catalogues():
    """A msgid that a third-party app also translates shows our translation (LOCALE_PATHS order).

    django_celery_beat comes before our apps in INSTALLED_APPS and translates "Name" as "任务名" ("task
    name"), which the customer, product and project lists showed as their column header.
    """
    from django.utils import translation

    ours: dict[str, set[str]] = {}
    for po in CATALOGUES:
        with open(po.with_suffix(".mo"), "rb") as compiled:
            catalogue = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        for msgid, msgstr in catalogue.items():
            if isinstance(msgid, str) and msgid and "\x04" not in msgid:
                ours.setdefault(msgid, set()).add(msgstr)
    agreed = {msgid: strs.pop() for msgid, strs in ours.items() if len(strs) == 1}
    with translation.override("zh-hans"):
        assert translation.gettext("Name") == "名称"
        lost = {msgid: (mine, translation.gettext(msgid)) for msgid, mine in agreed.items()}
    lost = {msgid: pair for msgid, pair in lost.items() if pair[0] != pair[1]}
    assert not lost, f"another catalogue wins over ours for: {lost}"


def test_words_that_mean_different_things_in_different_apps_carry_a_context():
    """The first catalogue with a msgid wins, so homonyms across apps need a msgctxt to keep their meaning."""
    from django.utils.translation import gettext, override, pgettext

    with override("zh-hans"):
        assert pgettext("order or ticket number", "Number") == "编号"  # not the custom-field type 数字
        assert gettext("Number") == "数字"
        assert pgettext("count", "Orders") == "订单数"  # a count column, not the module name
        assert gettext("Orders") == "订单"
        assert pgettext("count", "Customers") == "客户数"
        assert pgettext("count", "Profiles") == "画像数"
