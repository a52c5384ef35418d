"""Frame helpers: shared customer ids; timestamps that never raise; the as-of cutoff and local days."""

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline.frames import as_of_cutoff, as_of_day, local_days, share_customer_ids, to_utc


def test_mixed_categorical_and_plain_ids_share_one_sorted_dtype_and_keep_missing_values():
    plain = pd.DataFrame({"customer_id": pd.Series(["c", "a", None], dtype="str"), "x": [1, 2, 3]})
    coded = pd.DataFrame({"customer_id": pd.Categorical(["b", "c", "c", None]), "y": [4, 5, 6, 7]})
    empty = pd.DataFrame({"customer_id": pd.Categorical([], categories=[]), "z": []})
    out = share_customer_ids(plain, coded, empty)
    dtypes = [frame["customer_id"].dtype for frame in out]
    assert list(dtypes[0].categories) == ["a", "b", "c"]
    assert all(dtype == dtypes[0] for dtype in dtypes)
    assert out[0]["customer_id"].cat.codes.tolist() == [2, 0, -1]
    assert out[1]["customer_id"].cat.codes.tolist() == [1, 2, 2, -1]
    assert out[0]["x"].tolist() == [1, 2, 3] and len(out[2]) == 0
    assert out[1]["customer_id"].astype(object).where(out[1]["customer_id"].notna()).tolist()[:3] == [
        "b",
        "c",
        "c",
    ]


def test_frames_that_already_share_a_dtype_are_returned_as_they_are():
    dtype = pd.CategoricalDtype(["a", "b"])
    first = pd.DataFrame({"customer_id": pd.Categorical(["a"], dtype=dtype)})
    second = pd.DataFrame({"customer_id": pd.Categorical(["b", "a"], dtype=dtype)})
    out = share_customer_ids(first, second)
    assert out[0] is first and out[1] is second
    assert np.array_equal(out[1]["customer_id"].cat.codes, [1, 0])


def test_to_utc_turns_what_datetime64_ns_cannot_hold_into_missing_values_instead_of_raising():
    values = pd.Series(
        [
            datetime(1500, 1, 1, tzinfo=UTC),
            "1677-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "not a date",
            None,
            datetime(1690, 3, 1, 8, tzinfo=UTC),
            "2024-06-30T23:59:59+08:00",
        ],
        dtype=object,
    )
    parsed = to_utc(values)
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert parsed.isna().tolist() == [True, True, True, True, True, False, False]
    assert parsed.iloc[6] == pd.Timestamp("2024-06-30 15:59:59", tz="UTC")
    # Already-typed timestamps in a coarser unit (what pandas 3 infers for Python datetimes) too.
    typed = pd.Series([datetime(1500, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC)])
    assert to_utc(typed).isna().tolist() == [True, False]


def test_as_of_a_date_is_the_start_of_the_next_day_in_the_given_zone_and_an_instant_is_itself():
    cutoff = as_of_cutoff(date(2024, 6, 30), timezone="Asia/Shanghai")
    assert cutoff == pd.Timestamp("2024-06-30 16:00", tz="UTC")
    assert as_of_cutoff(date(2024, 6, 30)) == pd.Timestamp("2024-07-01", tz="UTC")
    moment = datetime(2024, 6, 30, 10, tzinfo=UTC)
    assert as_of_cutoff(moment, timezone="Asia/Shanghai") == pd.Timestamp(moment)
    # The as-of day of a cutoff at the start of D+1 is D, of any instant during D also D.
    june_30 = (pd.Timestamp("2024-06-30") - pd.Timestamp("1970-01-01")).days
    assert as_of_day(cutoff, "Asia/Shanghai") == june_30
    assert as_of_day(cutoff - pd.Timedelta(hours=1), "Asia/Shanghai") == june_30
    assert as_of_day(cutoff + pd.Timedelta(seconds=1), "Asia/Shanghai") == june_30 + 1


def test_local_days_put_a_morning_in_shanghai_on_its_own_day_not_the_previous_utc_one():
    stamps = to_utc(pd.Series(["2024-06-21T07:00:00+08:00", "1690-01-01T00:30:00+08:00"]))
    utc_days = local_days(stamps)
    shanghai_days = local_days(stamps, "Asia/Shanghai")
    assert (shanghai_days - utc_days).tolist() == [1, 1]
    june_21 = (pd.Timestamp("2024-06-21") - pd.Timestamp("1970-01-01")).days
    assert shanghai_days[0] == june_21


def test_an_as_of_outside_datetime64_ns_is_a_value_error_naming_the_limits():
    for day in (date(9999, 12, 31), date(3000, 1, 1), date(1, 1, 1)):
        with pytest.raises(ValueError, match="1677"):
            as_of_cutoff(day, timezone="Asia/Shanghai")
