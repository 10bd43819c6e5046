"""A one-file HTML summary of an analysis, with charts drawn as inline SVG (no scripts, no
network): readable offline, printable, and safe to e-mail."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from clusteratlas.observatory import ClusterDefinitions, Panel

__all__ = ["bar_chart", "bubble_chart", "line_chart", "render_summary"]

PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def _num(v: float, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 640, bar: int = 22
) -> Markup:
    """Horizontal bar chart."""
    left, right, top = 230, 60, 30
    height = top + bar * len(labels) + 10
    vmax = max([float(v) for v in values] + [1e-9])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="0" y="18" class="title">{escape(title)}</text>',
    ]
    for k, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = top + k * bar
        w = (width - left - right) * float(v) / vmax
        parts.append(
            f'<text x="{left - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{escape(str(lab))[:38]}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar - 6}" '
            f'fill="{PALETTE[0]}" data-value="{float(v)}"/>'
        )
        parts.append(
            f'<text x="{left + w + 4:.1f}" y="{y + bar * 0.7:.1f}">{_num(float(v), 0)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bubble_chart(
    points: pd.DataFrame, *, title: str, width: int = 640, height: int = 420
) -> Markup:
    """Cluster portfolio: x = lq_change, y = lq, area ∝ employment; quadrants labelled."""
    m = {"l": 60, "r": 20, "t": 30, "b": 45}
    xs, ys = points["x"].astype(float), points["y"].astype(float)
    xr = max(abs(xs).max(), 1e-3) * 1.15
    ymax = max(ys.max() * 1.1, 1.5)
    pw, ph = width - m["l"] - m["r"], height - m["t"] - m["b"]

    def px(x: float) -> float:
        return m["l"] + (x + xr) / (2 * xr) * pw

    def py(y: float) -> float:
        return m["t"] + ph - y / ymax * ph

    smax = max(points["size"].max(), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="0" y="18" class="title">{escape(title)}</text>',
        f'<rect x="{m["l"]}" y="{m["t"]}" width="{pw}" height="{ph}" class="frame"/>',
        f'<line x1="{px(0):.1f}" x2="{px(0):.1f}" y1="{m["t"]}" y2="{m["t"] + ph}" class="axis"/>',
        f'<line x1="{m["l"]}" x2="{m["l"] + pw}" y1="{py(1):.1f}" y2="{py(1):.1f}" class="axis"/>',
    ]
    for label, x, y, anchor in (
        ("Star", m["l"] + pw - 6, m["t"] + 16, "end"),
        ("Mature", m["l"] + 6, m["t"] + 16, "start"),
        ("Emerging", m["l"] + pw - 6, m["t"] + ph - 8, "end"),
        ("Transforming", m["l"] + 6, m["t"] + ph - 8, "start"),
    ):
        parts.append(
            f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="quadrant">{label}</text>'
        )
    for k, row in enumerate(points.itertuples()):
        r = 4 + 26 * math.sqrt(float(row.size) / smax)
        parts.append(
            f'<circle cx="{px(float(row.x)):.1f}" cy="{py(float(row.y)):.1f}" '
            f'r="{r:.1f}" fill="{PALETTE[k % len(PALETTE)]}" fill-opacity="0.6" '
            f'data-label="{escape(str(row.label))}"><title>{escape(str(row.label))}: '
            f"LQ {float(row.y):.2f}, change {float(row.x):+.2f}, "
            f"{float(row.size):,.0f} employees</title></circle>"
        )
        parts.append(
            f'<text x="{px(float(row.x)):.1f}" y="{py(float(row.y)) + 3:.1f}" '
            f'text-anchor="middle" class="small">{escape(str(row.label))[:18]}</text>'
        )
    parts.append(
        f'<text x="{m["l"] + pw / 2}" y="{height - 8}" text-anchor="middle">'
        "change in location quotient</text>"
    )
    parts.append(
        f'<text x="14" y="{m["t"] + ph / 2}" transform="rotate(-90 14 '
        f'{m["t"] + ph / 2})" text-anchor="middle">location quotient</text>'
    )
    for tick in (0.0, 1.0, 2.0, 3.0, 4.0):
        if tick <= ymax:
            parts.append(
                f'<text x="{m["l"] - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                f'class="small">{tick:g}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    series: Mapping[str, pd.Series], *, title: str, width: int = 640, height: int = 360
) -> Markup:
    """Lines of values by year (index of each series: years)."""
    m = {"l": 50, "r": 190, "t": 30, "b": 30}
    years = sorted({int(y) for s in series.values() for y in s.index})
    values = [float(v) for s in series.values() for v in s.to_numpy()]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    pw, ph = width - m["l"] - m["r"], height - m["t"] - m["b"]

    def px(y: int) -> float:
        return m["l"] + (y - years[0]) / max(1, years[-1] - years[0]) * pw

    def py(v: float) -> float:
        return m["t"] + ph - (v - lo) / (hi - lo) * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="0" y="18" class="title">{escape(title)}</text>',
        f'<rect x="{m["l"]}" y="{m["t"]}" width="{pw}" height="{ph}" class="frame"/>',
    ]
    for y in years:
        parts.append(
            f'<text x="{px(y):.1f}" y="{height - 10}" text-anchor="middle" class="small">{y}</text>'
        )
    for v in (lo + pad, (lo + hi) / 2, hi - pad):
        parts.append(
            f'<text x="{m["l"] - 6}" y="{py(v) + 4:.1f}" text-anchor="end" '
            f'class="small">{v:.0f}</text>'
        )
    for k, (name, s) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{px(int(y)):.1f},{py(float(v)):.1f}" for y, v in s.items())
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" '
            f'data-series="{escape(name)}"/>'
        )
        parts.append(
            f'<text x="{m["l"] + pw + 8}" y="{m["t"] + 14 + 16 * k}" fill="{colour}" '
            f'class="small">{escape(name)[:30]}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def render_summary(
    tables: Mapping[str, pd.DataFrame],
    *,
    panel: Panel,
    definitions: ClusterDefinitions,
    region_names: pd.DataFrame | None = None,
    industry_titles: pd.DataFrame | None = None,
    notice: str = "",
) -> str:
    """Render the HTML summary of the clusters/regions/industries/shiftshare tables."""
    names = (
        {}
        if region_names is None
        else dict(zip(region_names["region"], region_names["name"], strict=True))
    )
    clusters, regions = tables["clusters"], tables["regions"]
    industries, shift = tables["industries"], tables["shiftshare"]
    last, first = panel.years[-1], panel.years[0]

    def label(code: object) -> str:
        code = str(code)
        return f"{names[code]} ({code})" if code in names else code

    reg_last = regions[regions["year"] == last].sort_values(
        ["n_strong", "n_three_star", "employment"], ascending=False
    )
    top_regions = reg_last.head(15)
    cl_last = clusters[clusters["year"] == last]
    top_region = str(reg_last.iloc[0]["region"]) if len(reg_last) else None
    bubble = None
    if top_region is not None:
        pts = cl_last[cl_last["region"].astype(str) == top_region]
        pts = pts[pts["type"].astype(str) != "local"].dropna(subset=["lq_change"])
        bubble = bubble_chart(
            pd.DataFrame(
                {
                    "x": pts["lq_change"],
                    "y": pts["lq"],
                    "size": pts["employment"],
                    "label": pts["cluster_name"].astype(str),
                }
            ),
            title=f"Cluster portfolio of {label(top_region)}, {first}–{last}",
        )
    by_cluster = clusters.groupby(["cluster_name", "year"], observed=True)["employment"].sum()
    biggest = by_cluster.xs(last, level="year").sort_values(ascending=False).head(8).index
    trend = {
        str(c): by_cluster.xs(c, level="cluster_name")
        / by_cluster.xs(c, level="cluster_name").iloc[0]
        * 100
        for c in biggest
    }
    three = cl_last[cl_last["stars"] == 3].sort_values("employment", ascending=False).head(20)
    unmapped = definitions.unmapped(panel)
    complexity = tables.get("complexity")
    eci_rows: list[dict[str, object]] = []
    pci_rows: list[dict[str, object]] = []
    if complexity is not None and len(complexity):
        by_region = (
            complexity.groupby("region", observed=True)[["eci", "diversity"]]
            .first()
            .sort_values("eci", ascending=False)
        )
        eci_rows = [
            {"label": label(r), "eci": float(v.eci), "diversity": int(v.diversity)}
            for r, v in by_region.head(10).iterrows()
        ]
        by_cluster = (
            complexity.groupby("industry", observed=True)[["pci", "ubiquity"]]
            .first()
            .sort_values("pci", ascending=False)
        )
        cluster_names = dict(
            zip(
                definitions.clusters.index.astype(str),
                definitions.clusters["cluster_name"],
                strict=True,
            )
        )
        pci_rows = [
            {
                "name": cluster_names.get(str(c), str(c)),
                "pci": float(v.pci),
                "ubiquity": int(v.ubiquity),
            }
            for c, v in by_cluster.head(10).iterrows()
        ]
    env = Environment(
        loader=PackageLoader("clusteratlas.cli", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template("summary.html.j2").render(
        notice=notice,
        panel=panel,
        n_regions=len(panel.regions) - len(panel.aggregates),
        first=first,
        last=last,
        n_clusters=len(definitions.clusters),
        total_employment=float(regions.loc[regions["year"] == last, "employment"].sum()),
        unmapped=unmapped,
        unmapped_share=unmapped.share.get(last, 0.0),
        strong_chart=bar_chart(
            [label(r) for r in top_regions["region"]],
            list(top_regions["n_strong"]),
            title=f"Strong clusters per region, {last}",
        ),
        bubble=bubble,
        trend=line_chart(trend, title=f"Employment in the largest clusters ({first} = 100)"),
        top_regions=[
            {**row._asdict(), "label": label(row.region)}
            for row in top_regions.itertuples(index=False)
        ],
        three_star=[
            {**row._asdict(), "label": label(row.region)} for row in three.itertuples(index=False)
        ],
        localisation=industries[industries["year"] == last]
        .sort_values("gini", ascending=False)
        .head(10)
        .to_dict("records"),
        shift=shift.groupby("region", as_index=False)[
            ["change", "national_growth", "industry_mix", "regional_shift"]
        ]
        .sum()
        .sort_values("regional_shift", ascending=False)
        .head(10)
        .assign(label=lambda d: d["region"].map(label))
        .to_dict("records"),
        eci_rows=eci_rows,
        pci_rows=pci_rows,
        num=_num,
    )
