"""Segment rules are typed and shown the way pages show the values: percentages and names, not raw keys."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from profiles.forms import SegmentForm
from profiles.models import Segment
from profiles.rules import describe_rule, rule_from_entry, validate_rule


def _form(**rows):
    data = {"name": "Test"}
    for number, (field, op, value) in enumerate(rows.values(), start=1):
        data |= {f"field_{number}": field, f"op_{number}": op, f"value_{number}": value}
    return SegmentForm(data)


def test_percent_and_names_are_stored_as_the_columns_hold_them():
    form = _form(
        a=("churn_risk", "gte", "70"),
        b=("rfm_segment", "in", "At risk, champions"),
        c=("preferred_weekday", "eq", "Monday"),
        d=("p_alive", "lt", "25%"),
        e=("preferred_channel", "eq", "Mobile app"),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["rule"] == [
        {"field": "churn_risk", "op": "gte", "value": 0.7},
        {"field": "rfm_segment", "op": "in", "value": ["at_risk", "champions"]},
        {"field": "preferred_weekday", "op": "eq", "value": 0.0},
        {"field": "p_alive", "op": "lt", "value": 0.25},
        {"field": "preferred_channel", "op": "eq", "value": "app"},
    ]


def test_names_are_accepted_in_chinese_too():
    with translation.override("zh-hans"):
        rule = rule_from_entry([{"field": "rfm_segment", "op": "eq", "value": "已流失客户"}])
    assert rule == [{"field": "rfm_segment", "op": "eq", "value": "lost"}]


def test_an_unknown_name_is_an_error_that_lists_the_names():
    form = _form(a=("rfm_segment", "eq", "Sleepy"))
    assert not form.is_valid()
    message = " ".join(form.non_field_errors())
    assert "Condition 1" in message and "Sleepy" in message and "At risk" in message


def test_a_rule_reads_as_it_was_typed():
    rule = validate_rule(
        [
            {"field": "churn_risk", "op": "gte", "value": 0.7},
            {"field": "rfm_segment", "op": "eq", "value": "at_risk"},
            {"field": "preferred_weekday", "op": "eq", "value": 6},
        ]
    )
    with translation.override("en"):
        assert describe_rule(rule) == [
            "Churn risk at least 70%",
            "RFM segment equals At risk",
            "Preferred weekday equals Sunday",
        ]


def test_the_edit_form_shows_the_stored_rule_as_typed():
    form = SegmentForm(
        initial_rule=[
            {"field": "churn_risk", "op": "gte", "value": 0.7},
            {"field": "rfm_segment", "op": "in", "value": ["at_risk", "lost"]},
        ]
    )
    with translation.override("en"):
        assert str(form.initial["value_1"]) == "70%"
        assert str(form.initial["value_2"]) == "At risk, Lost"
    # and saving that form unchanged keeps the rule
    data = {"name": "Same", "field_1": "churn_risk", "op_1": "gte", "value_1": "70%"}
    data |= {"field_2": "rfm_segment", "op_2": "in", "value_2": "At risk, Lost"}
    again = SegmentForm(data)
    assert again.is_valid(), again.errors
    assert again.cleaned_data["rule"][0]["value"] == 0.7
    assert again.cleaned_data["rule"][1]["value"] == ["at_risk", "lost"]


def test_a_percentage_out_of_words_names_the_condition():
    with pytest.raises(ValidationError) as error:
        rule_from_entry([{"field": "churn_risk", "op": "gte", "value": "lots"}])
    assert "Condition 1" in " ".join(error.value.messages)


@pytest.mark.django_db
def test_the_segment_page_shows_the_rule_in_words(client, manager_user):
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-create"),
        {"name": "Risky", "field_1": "churn_risk", "op_1": "gte", "value_1": "70"},
    )
    segment = Segment.objects.get(name="Risky")
    assert response.status_code == 302
    assert segment.rule == [{"field": "churn_risk", "op": "gte", "value": 0.7}]
    page = client.get(reverse("profiles:segment-detail", args=[segment.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Churn risk at least 70%" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1e309", "-1e309"])
def test_a_number_too_big_for_a_float_is_a_form_error(client, manager_user, value):
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-create"),
        {"name": "Huge", "field_1": "monetary", "op_1": "gte", "value_1": value},
    )
    assert response.status_code == 200
    assert "finite" in " ".join(response.context["form"].non_field_errors())
    assert not Segment.objects.filter(name="Huge").exists()
