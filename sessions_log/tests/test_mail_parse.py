"""Reading hostile or odd mail without a server: what ``mail_parse`` makes of it (no database)."""

from __future__ import annotations

import pytest

from sessions_log.mail_parse import MailParseError, decode_bytes, fold_quoted, mail_parse


def test_an_html_only_mail_is_read_as_text_with_its_blockquote_folded():
    raw = (
        b"From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Yes&nbsp;please</p><script>x()</script>"
        b"<blockquote>the old offer</blockquote></body></html>"
    )
    parsed = mail_parse(raw)
    assert parsed.body == "Yes\xa0please" and parsed.quoted == "> the old offer"


def test_raw_8bit_gbk_headers_and_an_rfc2231_file_name_are_decoded():
    raw = (
        b"From: " + "王芳".encode("gbk") + b" <w@x.example>\r\n"
        b"Subject: " + "发票".encode("gbk") + b"\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf\r\n\r\n"
        b"%PDF-1.4\r\n--B--\r\n"
    )
    parsed = mail_parse(raw)
    assert (parsed.from_name, parsed.subject, parsed.body) == ("王芳", "发票", "see file")
    assert [(part.name, part.content_type) for part in parsed.attachments] == [
        ("发票.pdf", "application/pdf")
    ]


def test_a_chinese_reply_header_and_a_sign_off_are_folded():
    text = "好的，明天发货。\n\n祝好，\n李伟\n\n在 2026年1月5日 10:00，Anna 写道：\n> 请确认"
    body, quoted = fold_quoted(text)
    assert body == "好的，明天发货。" and "> 请确认" in quoted


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("报价".encode("gbk"), "gb2312", "报价"),
        ("报价".encode(), "iso-8859-1", "报价"),  # mislabelled UTF-8
        (b"caf\xe9", "iso-8859-1", "café"),
        ("报价".encode("gb18030"), "x-unknown-charset", "报价"),
        (b"plain", None, "plain"),
    ],
)
def test_charsets_fall_back_sensibly(data, charset, text):
    assert decode_bytes(data, charset) == text


def test_a_message_without_any_sender_is_refused_with_the_reason():
    with pytest.raises(MailParseError, match="no sender address"):
        mail_parse(b"From: undisclosed\r\nSubject: x\r\n\r\nbody")
    with pytest.raises(MailParseError, match="empty message"):
        mail_parse(b"  \r\n")
