"""share_customer_ids: one sorted categorical id dtype across frames, whatever each frame brought."""

import numpy as np
import pandas as pd

from profiles.pipeline.frames import share_customer_ids


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
