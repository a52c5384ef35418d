"""The project's number formats per language (``FORMAT_MODULE_PATH``), over Django's own.

Only what differs from Django's locale files: its ``zh_Hans`` has no thousands separator and groups by
four, so "¥777000" stood beside "¥4,896.00" (the regex path of ``intcomma``). Chinese business documents
group money and counts by three with a comma, as English does.
"""
