"""The masking rules (customers/masking.py): pure functions, no database."""

import datetime

import pytest

from customers.masking import (
    mask_contact,
    mask_date,
    mask_email,
    mask_id_number,
    mask_phone,
    mask_postal_code,
    mask_street,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        ("+86 10 6552 9988", "****9988"),
        ("010-65529988", "****9988"),
        ("12345", "****45"),
        ("12", "****"),
        ("", ""),
    ],
)
def test_mask_phone_keeps_first_3_and_last_4_of_a_mobile_and_the_last_digits_of_others(value, masked):
    assert mask_phone(value) == masked


def test_mask_email_keeps_the_first_character_and_the_domain():
    assert mask_email("amelia.hall@example.com") == "a***@example.com"
    assert mask_email("张伟@例子.中国") == "张***@例子.中国"
    assert mask_email("a@example.com") == "a***@example.com"
    assert mask_email("") == ""
    assert "@" not in mask_email("not-an-address")


def test_mask_id_number_keeps_the_first_and_the_last_two_characters():
    assert mask_id_number("11010519491231002X") == "1***************2X"
    assert mask_id_number("E1234") == "E****34"
    assert mask_id_number("123") == "****"
    assert mask_id_number("") == ""


def test_mask_date_keeps_the_year_only():
    assert mask_date(datetime.date(1990, 5, 17)) == "1990-**-**"
    assert mask_date("1990-05-17") == "1990-**-**"
    assert mask_date(None) == ""


def test_street_keeps_nothing_and_postal_code_its_province():
    assert mask_street("朝阳区建国路88号") == "***"
    assert mask_street("") == ""
    assert mask_postal_code("100022") == "10****"


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("mobile", "13800138000", "138****8000"),
        ("phone", "13800138000", "138****8000"),
        ("email", "amelia.hall@example.com", "a***@example.com"),
        ("wechat", "ZhangWei_88", "Z***"),
        ("qq", "123", "***"),
        ("weibo", "微博用户名", "微***"),
        ("birth_date", datetime.date(1990, 5, 17), "1990-**-**"),
        ("id_number", "11010519491231002X", "1***************2X"),
        ("street", "建国路88号", "***"),
        ("counterpart", "Amelia <amelia@example.com>", "a***@example.com"),
        ("counterpart", "+86 138 0013 8000", "138****8000"),
        ("other", "", ""),
    ],
)
def test_mask_contact_dispatches_on_the_kind(kind, value, masked):
    assert mask_contact(kind, value) == masked
