"""The explicit registry of observatory indicators: what each column means and where it is
documented. The CLI (``clusteratlas indicators``), the docs test and, later, the web app read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REGISTRY", "IndicatorSpec"]


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    table: str  # clusters | regions | industries | shiftshare
    description: str
    unit: str
    page: str  # docs/indicators/<page>.md
    citation: str


_DPS = "Delgado, Porter & Stern (2016), J. Econ. Geogr. 16(1)"
_ATLAS = "Hidalgo et al. (2007), Science 317; Hausmann et al. (2014), Atlas of Complexity"
_ECO = "European Cluster Observatory star methodology (Ketels & Protsiv 2014)"

REGISTRY: dict[str, IndicatorSpec] = {
    s.name: s
    for s in [
        IndicatorSpec(
            "region_share",
            "clusters",
            "E_cr / E_r: the cluster's share of the region's employment",
            "share",
            "lq",
            "Isard (1960)",
        ),
        IndicatorSpec(
            "cluster_share",
            "clusters",
            "E_cr / E_c,ref: the region's share of the cluster's reference employment",
            "share",
            "lq",
            "Isard (1960)",
        ),
        IndicatorSpec(
            "lq",
            "clusters",
            "location quotient: region_share / (E_c,ref / E_ref)",
            "ratio",
            "lq",
            "Isard (1960)",
        ),
        IndicatorSpec(
            "wage",
            "clusters",
            "payroll / employment (sums, not a mean of means)",
            "payroll unit per employee",
            "wage",
            "US Cluster Mapping Project",
        ),
        IndicatorSpec(
            "size_star",
            "clusters",
            "cluster_share ≥ p90 among regions with the cluster",
            "bool",
            "stars",
            _ECO,
        ),
        IndicatorSpec("specialisation_star", "clusters", "lq ≥ 2", "bool", "stars", _ECO),
        IndicatorSpec(
            "focus_star",
            "clusters",
            "region_share ≥ p90 among regions with the cluster",
            "bool",
            "stars",
            _ECO,
        ),
        IndicatorSpec("stars", "clusters", "number of stars (0–3)", "count", "stars", _ECO),
        IndicatorSpec(
            "qualifying", "clusters", "lq > p25 and size tests", "bool", "strong-clusters", _DPS
        ),
        IndicatorSpec(
            "significant", "clusters", "lq > p50 and size tests", "bool", "strong-clusters", _DPS
        ),
        IndicatorSpec(
            "strong", "clusters", "lq ≥ p75, lq ≥ 1 and size tests", "bool", "strong-clusters", _DPS
        ),
        IndicatorSpec(
            "strong10",
            "clusters",
            "lq ≥ p90, lq ≥ 1 and size tests",
            "bool",
            "strong-clusters",
            _DPS,
        ),
        IndicatorSpec("change", "clusters", "E_t − E_base", "employees", "dynamics", "standard"),
        IndicatorSpec(
            "growth_cagr",
            "clusters",
            "(E_t / E_base)^(1/(t − base)) − 1",
            "rate per year",
            "dynamics",
            "standard",
        ),
        IndicatorSpec("lq_change", "clusters", "lq_t − lq_base", "ratio", "dynamics", "standard"),
        IndicatorSpec(
            "quadrant",
            "clusters",
            "Star / Mature / Emerging / Transforming",
            "category",
            "dynamics",
            "European Cluster Observatory portfolio charts",
        ),
        IndicatorSpec(
            "flag",
            "clusters",
            "union of the input flags of the cells behind the row (only when the input has flags)",
            "codes",
            "flags",
            "source flags, e.g. Eurostat and Census",
        ),
        IndicatorSpec(
            "national_growth",
            "shiftshare",
            "E_cr(base) · G",
            "employees",
            "shift-share",
            "Dunn (1960)",
        ),
        IndicatorSpec(
            "industry_mix",
            "shiftshare",
            "E_cr(base) · (g_c − G)",
            "employees",
            "shift-share",
            "Dunn (1960)",
        ),
        IndicatorSpec(
            "regional_shift",
            "shiftshare",
            "change − national − mix",
            "employees",
            "shift-share",
            "Dunn (1960)",
        ),
        IndicatorSpec(
            "krugman",
            "regions",
            "Σ|s_cr − s_c| (Krugman dissimilarity)",
            "index 0–2",
            "specialisation",
            "Krugman (1991)",
        ),
        IndicatorSpec(
            "hoover",
            "regions",
            "Hoover coefficient of specialisation = krugman / 2",
            "index 0–1",
            "specialisation",
            "Hoover (1936)",
        ),
        IndicatorSpec(
            "herfindahl", "regions", "Σ s_cr²", "index 0–1", "specialisation", "Herfindahl (1950)"
        ),
        IndicatorSpec(
            "entropy", "regions", "−Σ s_cr ln s_cr", "nats", "specialisation", "Shannon (1948)"
        ),
        IndicatorSpec(
            "cluster_strength",
            "regions",
            "share of traded employment in strong clusters",
            "share",
            "specialisation",
            _DPS,
        ),
        IndicatorSpec(
            "n_strong", "regions", "number of strong clusters", "count", "specialisation", _DPS
        ),
        IndicatorSpec(
            "n_three_star", "regions", "number of 3-star clusters", "count", "specialisation", _ECO
        ),
        IndicatorSpec(
            "hoover_localisation",
            "industries",
            "½Σ|y_r − x_r| (column `hoover`)",
            "index 0–1",
            "localisation",
            "Hoover (1936)",
        ),
        IndicatorSpec(
            "gini",
            "industries",
            "locational Gini from the Lorenz curve",
            "index 0–1",
            "localisation",
            "Krugman (1991)",
        ),
        IndicatorSpec(
            "eg_raw",
            "industries",
            "Ellison–Glaeser raw G = Σ(y_r − x_r)²",
            "index",
            "localisation",
            "Ellison & Glaeser (1997), JPE 105(5)",
        ),
        IndicatorSpec(
            "rca",
            "complexity",
            "revealed comparative advantage: the location quotient of employment",
            "index",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "mcp",
            "complexity",
            "presence: rca ≥ threshold (default 1)",
            "bool",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "diversity",
            "complexity",
            "number of industries the region is specialised in",
            "count",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "ubiquity",
            "complexity",
            "number of regions specialised in the industry",
            "count",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "eci",
            "complexity",
            "economic complexity index of the region (standardised)",
            "index",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "pci",
            "complexity",
            "product (industry) complexity index, on the ECI scale",
            "index",
            "complexity",
            "Hidalgo & Hausmann (2009), PNAS 106(26)",
        ),
        IndicatorSpec(
            "density",
            "complexity",
            "relatedness density of the region around the industry (0–1)",
            "index",
            "complexity",
            _ATLAS,
        ),
        IndicatorSpec(
            "coi",
            "complexity",
            "complexity outlook index of the region",
            "index",
            "complexity",
            _ATLAS,
        ),
        IndicatorSpec(
            "cog",
            "complexity",
            "complexity outlook gain of the region from the industry",
            "index",
            "complexity",
            _ATLAS,
        ),
        IndicatorSpec(
            "fitness",
            "complexity",
            "fitness of the region (Tacchella et al. 2012)",
            "index",
            "complexity",
            "Tacchella et al. (2012), Sci. Rep. 2",
        ),
        IndicatorSpec(
            "product_complexity",
            "complexity",
            "complexity of the industry (Tacchella et al. 2012)",
            "index",
            "complexity",
            "Tacchella et al. (2012), Sci. Rep. 2",
        ),
    ]
}
