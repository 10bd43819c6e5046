"""Reproduce the US Cluster Mapping Project's published 2016 LQs and strong-cluster flags for the
917 metropolitan and micropolitan areas (``../shared/data/cmp_api_msa_clusters_2016.csv.gz``).

The published file gives each area's employment, establishments and payroll by benchmark cluster
(51 traded, 16 local). National cluster totals are not in the file but follow from it:
``emp_tl / cluster_emp_per_tf`` is the same for every area of a cluster. The panel therefore has
one extra reference region ``US`` holding those national totals, and the LQs are taken with the
type base (shares of traded or of local employment), as the Cluster Mapping Project does.
"""

import numpy as np
import pandas as pd
import pytest

from clusteratlas.observatory import ClusterDefinitions, Panel, cluster_table

pytestmark = [pytest.mark.integration, pytest.mark.golden]

FLAGS = ["qualifying", "significant", "strong", "strong10"]


@pytest.fixture(scope="module")
def published(shared_data):
    path = shared_data / "cmp_api_msa_clusters_2016.csv.gz"
    if not path.exists():
        pytest.skip(f"US Cluster Mapping reference data not found at {path}")
    return pd.read_csv(path, dtype={"region_code_t": str, "cluster_code_t": str})


@pytest.fixture(scope="module")
def computed(published):
    national = (
        (published["emp_tl"] / published["cluster_emp_per_tf"])
        .groupby(published["cluster_code_t"])
        .median()
        .round()
    )
    areas = pd.DataFrame(
        {
            "year": published["year_t"],
            "region": published["region_code_t"],
            "industry": published["cluster_code_t"],
            "employment": published["emp_tl"],
            "establishments": published["est_tl"],
            "payroll": published["ap_tl"],
        }
    )
    us = pd.DataFrame(
        {
            "year": 2016,
            "region": "US",
            "industry": national.index,
            "employment": national.to_numpy(),
            "establishments": 0,
            "payroll": 0,
        }
    )
    clusters = published.drop_duplicates("cluster_code_t")
    definitions = ClusterDefinitions.from_frame(
        pd.DataFrame(
            {
                "industry": clusters["cluster_code_t"],
                "cluster": clusters["cluster_code_t"],
                "cluster_name": clusters["cluster_name_t"],
                "type": np.where(clusters["traded_b"], "traded", "local"),
            }
        )
    )
    panel = Panel.from_frame(pd.concat([areas, us], ignore_index=True))
    table = cluster_table(panel, definitions, reference_region="US", lq_base="type")
    return table.assign(region=table["region"].astype(str), cluster=table["cluster"].astype(str))


def test_national_totals_recovered_from_the_file_agree_across_areas(published):
    implied = published["emp_tl"] / published["cluster_emp_per_tf"]

    spread = implied.groupby(published["cluster_code_t"]).agg(lambda s: s.max() / s.min() - 1)

    assert spread.max() < 1e-6
    traded = published["traded_b"]
    national = implied.groupby(published["cluster_code_t"]).median().round()
    by_type = national.groupby(
        published.drop_duplicates("cluster_code_t").set_index("cluster_code_t")["traded_b"]
    ).sum()
    assert by_type[True] == 45_242_109  # national traded employment, shared/data/README.md
    assert by_type[False] == 81_486_213  # national local employment
    assert traded.sum() > 0


def test_cmp_2016_lq_and_shares_match_published(published, computed):
    present = published[published["emp_tl"] > 0]

    merged = present.merge(
        computed,
        left_on=["region_code_t", "cluster_code_t"],
        right_on=["region", "cluster"],
        how="left",
        validate="1:1",
    )

    assert len(merged) == len(present) == len(computed)
    np.testing.assert_allclose(merged["lq"], merged["lq_tf"], rtol=1e-6)
    np.testing.assert_allclose(merged["region_share"], merged["region_emp_per_tf"], rtol=1e-6)
    np.testing.assert_allclose(merged["cluster_share"], merged["cluster_emp_per_tf"], rtol=1e-6)


@pytest.mark.parametrize("flag", FLAGS)
def test_cmp_2016_flags_match_published_with_no_mismatch(published, computed, flag):
    merged = published.merge(
        computed,
        left_on=["region_code_t", "cluster_code_t"],
        right_on=["region", "cluster"],
        how="left",
    )
    traded = merged["traded_b"].to_numpy()

    ours = merged[flag].astype("boolean").fillna(False).to_numpy(dtype=bool)
    theirs = merged[f"{flag}_b"].astype("boolean").fillna(False).to_numpy(dtype=bool)

    mismatches = merged.loc[traded & (ours != theirs), ["region_code_t", "cluster_code_t"]]
    assert mismatches.empty, f"{len(mismatches)} {flag} mismatches, e.g. {mismatches.head(5)}"
    assert theirs[traded].sum() > 1000  # the comparison is not vacuous
    # local clusters carry no flags, in the published file and in ours
    assert merged.loc[~traded, f"{flag}_b"].isna().all()
    assert merged.loc[~traded & merged["lq"].notna(), flag].isna().all()
