"""Words that mean different things in different apps carry a context, so one app's Chinese never wins
over another's (all catalogues merge into one per language)."""

from django.utils import translation

from customers.models.partner import Partner
from orders.models import Product
from profiles.models import ProfileRun


def test_active_reads_right_in_each_app():
    with translation.override("zh-hans"):
        assert str(Product._meta.get_field("active").verbose_name) == "在售"  # on sale
        assert str(ProfileRun._meta.get_field("is_active").verbose_name) == "生效中"  # the run in force
        assert str(Partner._meta.get_field("is_active").verbose_name) == "启用"  # enabled


def test_product_list_header_uses_the_product_sense():
    from django.template import Context, Template

    with translation.override("zh-hans"):
        rendered = Template('{% load i18n %}{% translate "Active" context "product" %}').render(Context())
    assert rendered == "在售"
