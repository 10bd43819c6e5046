import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from clusteratlas.observatory import masked_percentiles

pytestmark = pytest.mark.unit

PCTS = [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 33.3, 100.0]


@settings(max_examples=200, deadline=None)
@given(
    values=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        # few distinct values, so ties and equal neighbours are common
        elements=st.sampled_from([0.0, 0.1, 0.3, 1.0, 1.0 / 3, 2.5, 7.0, 1e6]) | st.floats(0, 1e9),
    ),
    data=st.data(),
)
def test_masked_percentiles_equal_numpy_percentile_bit_for_bit(values, data):
    mask = data.draw(hnp.arrays(bool, values.shape))

    got = masked_percentiles(values, mask, PCTS)

    for j in range(values.shape[1]):
        selected = values[mask[:, j], j]
        if len(selected) == 0:
            assert np.isnan(got[:, j]).all()
        else:
            expected = np.percentile(selected, PCTS)
            assert got[:, j].tolist() == expected.tolist()


def test_masked_percentiles_empty_column_is_nan():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [True, False]])

    got = masked_percentiles(values, mask, [50])

    assert got[0, 0] == 2.0
    assert np.isnan(got[0, 1])
