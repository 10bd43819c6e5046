import pandas as pd
import pytest

from clusteratlas.observatory import Panel
from clusteratlas.sources.synthetic import demo_panel_frame, random_panel, random_panel_frame

pytestmark = pytest.mark.unit


def test_random_panel_matches_its_long_table():
    direct = random_panel(40, 12, 3, seed=5)
    via_frame = Panel.from_frame(random_panel_frame(40, 12, 3, seed=5))

    pd.testing.assert_frame_equal(direct.to_frame(), via_frame.to_frame())


def test_random_panel_has_the_asked_share_of_zero_cells():
    panel = random_panel(200, 50, 2, zero_share=0.6, seed=1)

    nnz = panel.matrix("employment", 2010).nnz

    assert 0.37 < nnz / (200 * 50) < 0.43


def test_demo_panel_is_deterministic():
    assert demo_panel_frame(7).equals(demo_panel_frame(7))
    assert not demo_panel_frame(7).equals(demo_panel_frame(8))
