"""Computed cluster and segment names are shown in the active language."""

import pytest
from django.utils import translation

from profiles.labels import cluster_label, segment_label
from profiles.models import Segment


@pytest.mark.parametrize(
    ("name", "chinese"),
    [
        ("dormant one-off customers", "沉睡、一次性的客户"),
        ("high-spend multi-category customers", "高消费、多品类的客户"),
        ("frequent app users and coupon users (2)", "高频的App 用户和用券用户 (2)"),
        ("search users", "搜索用户"),
        ("average customers", "普通客户"),
    ],
)
def test_cluster_names_from_the_pipeline_vocabulary_are_translated(name, chinese):
    with translation.override("zh-hans"):
        assert cluster_label(name) == chinese
    with translation.override("en"):
        assert cluster_label(name) == name


def test_a_cluster_name_outside_the_vocabulary_is_shown_as_stored():
    with translation.override("zh-hans"):
        assert cluster_label("very special people") == "very special people"
        assert cluster_label("") == ""


def test_automatic_segment_names_follow_the_language_and_manual_names_do_not():
    rfm = Segment(name="At risk", key="rfm:at_risk", kind=Segment.Kind.RFM)
    cluster = Segment(name="#3 dormant one-off customers", key="cluster:3", kind=Segment.Kind.CLUSTER)
    manual = Segment(name="VIP Shanghai", kind=Segment.Kind.MANUAL)
    with translation.override("zh-hans"):
        assert segment_label(rfm) == "流失风险客户"
        assert segment_label(cluster) == "#3 沉睡、一次性的客户"
        assert segment_label(manual) == "VIP Shanghai"


def test_preferred_channel_codes_are_shown_by_name_and_unknown_ones_as_stored():
    from profiles.models import CustomerProfile

    with translation.override("zh-hans"):
        assert CustomerProfile(preferred_channel="app").preferred_channel_label == "移动应用"
        assert CustomerProfile(preferred_channel="kiosk").preferred_channel_label == "kiosk"
    with translation.override("en"):
        assert CustomerProfile(preferred_channel="wechat").preferred_channel_label == "WeChat"
        assert CustomerProfile(preferred_channel="").preferred_channel_label == ""


def test_every_rfm_segment_key_has_a_label_in_english_and_chinese():
    from profiles.pipeline.rfm import _GRID, RFM_SEGMENT_LABELS, RFM_SEGMENTS

    assert {key for row in _GRID.values() for key in row} == set(RFM_SEGMENTS) == set(RFM_SEGMENT_LABELS)
    for key in RFM_SEGMENTS:
        with translation.override("en"):
            english = str(RFM_SEGMENT_LABELS[key])
        with translation.override("zh-hans"):
            chinese = str(RFM_SEGMENT_LABELS[key])
            shown = segment_label(Segment(name=english, key=f"rfm:{key}", kind=Segment.Kind.RFM))
        assert english.strip() and chinese.strip() and chinese != english, key
        assert shown == chinese


@pytest.mark.django_db
def test_automatic_rfm_segments_store_the_english_name_of_their_key():
    from profiles.pipeline.rfm import RFM_SEGMENT_LABELS
    from profiles.services.segments import segments_refresh
    from profiles.tests.factories import ProfileRunFactory

    with translation.override("zh-hans"):  # a manager's Chinese session starts the run
        segments_refresh(run=ProfileRunFactory(is_active=True))
    stored = dict(Segment.objects.filter(kind=Segment.Kind.RFM).values_list("key", "name"))
    with translation.override("en"):
        assert stored == {f"rfm:{key}": str(label) for key, label in RFM_SEGMENT_LABELS.items()}
