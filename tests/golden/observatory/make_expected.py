"""Independent reference values for the observatory CLI golden tests.

Standalone on purpose: Python standard library (fractions, math, csv) plus numpy.percentile
(default 'linear' method) for the percentile thresholds. It never imports clusteratlas.
All shares, LQs and shift-share terms are exact fractions, turned into floats only on output.
Every percentile is also computed exactly (same linear rule) and checked against numpy, and
every threshold comparison is checked to be either an exact order-statistic tie or clear of
the threshold by a wide margin, so float noise in the CLI cannot flip a flag.

Run from anywhere:  python tests/golden/observatory/make_expected.py [OUTDIR]
(OUTDIR defaults to this folder; the inputs are always read from this folder.)
"""

from __future__ import annotations

import csv
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

F = Fraction
HERE = Path(__file__).resolve().parent
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
MARGIN = F(1, 10**6)  # minimum relative distance from any non-exact threshold


# ---------------------------------------------------------------- input
def read_panel(name):
    cells = {}  # (year, region, industry) -> (employment, establishments, payroll)
    with open(HERE / name, newline="") as f:
        for row in csv.DictReader(f):
            key = (int(row["year"]), row["region"], row["industry"])
            cells[key] = (int(row["employment"]), int(row["establishments"]), int(row["payroll"]))
    return cells


def read_definitions(name):
    with open(HERE / name, newline="") as f:
        return {
            r["industry"]: (r["cluster"], r["cluster_name"], r["type"]) for r in csv.DictReader(f)
        }


# ---------------------------------------------------------------- percentiles
def exact_percentile(values, q):
    """numpy's default 'linear' rule, exactly: position (n-1)*q/100 between order statistics."""
    v = sorted(F(x) for x in values)
    pos = F(q, 100) * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    # exact_ok: the threshold is itself one of the values (integer position, or all values
    # equal), so a value equal to it is a genuine tie that float noise cannot break.
    return v[lo] + (v[hi] - v[lo]) * (pos - lo), pos.denominator == 1 or v[0] == v[-1]


def pct(values, q, what):
    p, at_order_stat = exact_percentile(values, q)
    p_np = float(np.percentile([float(x) for x in values], q))
    assert math.isclose(p_np, float(p), rel_tol=1e-12, abs_tol=1e-15), (what, p_np, p)
    return p, at_order_stat


def check(value, threshold, exact_ok, what):
    """Refuse comparisons that float rounding could decide."""
    if value == threshold and exact_ok:
        return
    scale = max(abs(threshold), F(1))
    assert abs(value - threshold) > MARGIN * scale, f"near-tie: {what}: {value} vs {threshold}"


def ge(value, threshold, exact_ok, what):
    check(value, threshold, exact_ok, what)
    return value >= threshold


def gt(value, threshold, exact_ok, what):
    check(value, threshold, exact_ok, what)
    return value > threshold


# ---------------------------------------------------------------- aggregation
def aggregate(cells, defs):
    """-> emp[(y, r, c)], est, pay; industry totals tot[(y, r)] incl. unmapped; meta[c]."""
    emp, est, pay, tot, meta = {}, {}, {}, {}, {}
    for (y, r, i), (e, s, p) in cells.items():
        tot[(y, r)] = tot.get((y, r), 0) + e
        if defs is None:
            c, name, typ = i, i, ""
        elif i in defs:
            c, name, typ = defs[i]
        else:
            continue  # unmapped industry: only in the totals
        meta[c] = (name, typ)
        emp[(y, r, c)] = emp.get((y, r, c), 0) + e
        est[(y, r, c)] = est.get((y, r, c), 0) + s
        pay[(y, r, c)] = pay.get((y, r, c), 0) + p
    return emp, est, pay, tot, meta


class Economy:
    def __init__(self, panel, defs=None, ref=None):
        cells = read_panel(panel)
        self.defs = read_definitions(defs) if defs else None
        self.emp, self.est, self.pay, self.tot, self.meta = aggregate(cells, self.defs)
        self.ref = ref
        self.years = sorted({k[0] for k in cells})
        self.regions = sorted({k[1] for k in cells} - {ref})
        self.clusters = sorted(self.meta)
        self.typed = self.defs is not None and any(t for _, t in self.meta.values())

    def emp_at(self, y, r, c):
        return self.emp.get((y, r, c), 0)

    def emp_c_ref(self, y, c):
        if self.ref:
            return self.emp_at(y, self.ref, c)
        return sum(self.emp_at(y, r, c) for r in self.regions)

    def emp_r(self, y, r, c, base):
        """Region denominator for cluster c: all industries ('total') or clusters of c's type."""
        if base == "total":
            return self.tot.get((y, r), 0)
        typ = self.meta[c][1]
        return sum(self.emp_at(y, r, k) for k in self.clusters if self.meta[k][1] == typ)

    def emp_ref(self, y, c, base):
        if self.ref:
            return self.emp_r(y, self.ref, c, base)
        return sum(self.emp_r(y, r, c, base) for r in self.regions)

    def mapped(self, y, r):
        return sum(self.emp_at(y, r, c) for c in self.clusters)

    def mapped_ref(self, y):
        if self.ref:
            return self.mapped(y, self.ref)
        return sum(self.mapped(y, r) for r in self.regions)


# ---------------------------------------------------------------- clusters
def lq_of(eco, y, r, c, base):
    return F(eco.emp_at(y, r, c), eco.emp_r(y, r, c, base)) / F(
        eco.emp_c_ref(y, c), eco.emp_ref(y, c, base)
    )


def clusters(eco, base="total", base_year=None):
    out = []
    for y in eco.years:
        for c in eco.clusters:
            name, typ = eco.meta[c]
            present = [r for r in eco.regions if eco.emp_at(y, r, c) > 0]
            rows_for = [
                r
                for r in eco.regions
                if eco.emp_at(y, r, c) > 0
                or (base_year is not None and eco.emp_at(base_year, r, c) > 0)
            ]
            share = {r: F(eco.emp_at(y, r, c), eco.emp_c_ref(y, c)) for r in rows_for}
            rshare = {r: F(eco.emp_at(y, r, c), eco.emp_r(y, r, c, base)) for r in rows_for}
            lq = {r: lq_of(eco, y, r, c, base) for r in rows_for}
            tag = f"{y} {c}"
            p90_share = pct([share[r] for r in present], 90, tag)
            p90_rshare = pct([rshare[r] for r in present], 90, tag)
            plq = {q: pct([lq[r] for r in present], q, tag) for q in (25, 50, 75, 90)}
            pE = pct([eco.emp_at(y, r, c) for r in present], 25, tag)
            pS = pct([eco.est[(y, r, c)] for r in present], 25, tag)
            for r in rows_for:
                e = eco.emp_at(y, r, c)
                e0 = eco.emp_at(base_year, r, c) if base_year is not None else 0
                what = f"{tag} {r}"
                size = ge(share[r], p90_share[0], p90_share[1], what + " size")
                spec = ge(lq[r], F(2), False, what + " spec")
                focus = ge(rshare[r], p90_rshare[0], p90_rshare[1], what + " focus")
                flags = [None] * 4
                if not eco.typed or typ == "traded":
                    sz = gt(F(e), pE[0], pE[1], what + " E") and gt(
                        F(eco.est.get((y, r, c), 0)), pS[0], pS[1], what + " est"
                    )
                    ge1 = ge(lq[r], F(1), False, what + " lq>=1")
                    flags = [
                        gt(lq[r], *plq[25], what + " q") and sz,
                        gt(lq[r], *plq[50], what + " s") and sz,
                        ge(lq[r], *plq[75], what + " st") and ge1 and sz,
                        ge(lq[r], *plq[90], what + " st10") and ge1 and sz,
                    ]
                p = eco.pay.get((y, r, c), 0)
                # fmt: off
                row = {
                    "year": y, "region": r, "cluster": c, "cluster_name": name, "type": typ,
                    "employment": e, "establishments": eco.est.get((y, r, c), 0), "payroll": p,
                    "wage": F(p, e) if e else None, "region_share": rshare[r],
                    "cluster_share": share[r], "lq": lq[r], "size_star": size,
                    "specialisation_star": spec, "focus_star": focus,
                    "stars": int(size) + int(spec) + int(focus), "qualifying": flags[0],
                    "significant": flags[1], "strong": flags[2], "strong10": flags[3],
                }
                # fmt: on
                if base_year is not None:
                    row.update(change=None, growth_cagr=None, lq_change=None, quadrant=None)
                    if y > base_year:
                        lq0 = lq_of(eco, base_year, r, c, base)
                        d = lq[r] - lq0
                        hi = gt(lq[r], F(1), False, what + " quad lq")
                        up = gt(d, F(0), False, what + " quad d")
                        row["change"] = e - e0
                        row["growth_cagr"] = (e / e0) ** (1 / (y - base_year)) - 1 if e0 else None
                        row["lq_change"] = d
                        row["quadrant"] = {
                            (True, True): "Star",
                            (True, False): "Mature",
                            (False, True): "Emerging",
                            (False, False): "Transforming",
                        }[(hi, up)]
                out.append(row)
    return out


# ---------------------------------------------------------------- shift-share
def shiftshare(eco, y0, y1):
    # G over the whole reference economy; the example is built so that mapped-only totals
    # give the same G (asserted), so the test does not depend on that reading.
    G = F(eco.emp_ref(y1, None, "total"), eco.emp_ref(y0, None, "total")) - 1
    assert F(eco.mapped_ref(y1), eco.mapped_ref(y0)) - 1 == G
    out = []
    for r in eco.regions:
        for c in eco.clusters:
            e0, e1 = eco.emp_at(y0, r, c), eco.emp_at(y1, r, c)
            if e0 == 0 and e1 == 0:
                continue
            g = F(eco.emp_c_ref(y1, c), eco.emp_c_ref(y0, c)) - 1
            nat, mix = e0 * G, e0 * (g - G)
            # fmt: off
            out.append(
                {
                    "region": r, "cluster": c, "cluster_name": eco.meta[c][0],
                    "type": eco.meta[c][1], "employment_base": e0, "employment": e1,
                    "change": e1 - e0, "national_growth": nat, "industry_mix": mix,
                    "regional_shift": (e1 - e0) - nat - mix,
                }
            )
            # fmt: on
    return out


# ---------------------------------------------------------------- regions
def regions(eco, cl):
    flags = {(row["year"], row["region"], row["cluster"]): row for row in cl}
    out = []
    for y in eco.years:
        s_c = {c: F(eco.emp_c_ref(y, c), eco.mapped_ref(y)) for c in eco.clusters}
        for r in eco.regions:
            Er = eco.mapped(y, r)
            s = {c: F(eco.emp_at(y, r, c), Er) for c in eco.clusters}
            kr = sum(abs(s[c] - s_c[c]) for c in eco.clusters)
            traded = [c for c in eco.clusters if not eco.typed or eco.meta[c][1] == "traded"]
            rows = [flags.get((y, r, c)) for c in eco.clusters]
            rows = [x for x in rows if x is not None and x["employment"] > 0]
            strong_emp = sum(
                x["employment"] for x in rows if x["strong"] and x["cluster"] in traded
            )
            traded_emp = sum(eco.emp_at(y, r, c) for c in traded)
            # fmt: off
            out.append(
                {
                    "year": y, "region": r, "employment": Er, "krugman": kr, "hoover": kr / 2,
                    "herfindahl": sum(v * v for v in s.values()),
                    "entropy": -math.fsum(float(v) * math.log(v) for v in s.values() if v > 0),
                    "cluster_strength": F(strong_emp, traded_emp) if traded_emp else None,
                    "n_strong": sum(1 for x in rows if x["strong"]),
                    "n_three_star": sum(1 for x in rows if x["stars"] == 3),
                }
            )
            # fmt: on
    return out


# ---------------------------------------------------------------- industries
def industries(eco):
    out = []
    for y in eco.years:
        E_tot = sum(eco.tot.get((y, r), 0) for r in eco.regions)
        x = {r: F(eco.tot.get((y, r), 0), E_tot) for r in eco.regions}  # incl. unmapped
        for c in eco.clusters:
            Ec = sum(eco.emp_at(y, r, c) for r in eco.regions)
            if Ec == 0:
                continue
            yy = {r: F(eco.emp_at(y, r, c), Ec) for r in eco.regions}
            order = sorted((r for r in eco.regions if x[r] > 0), key=lambda r: yy[r] / x[r])
            X = Y = area = F(0)  # X_0 = Y_0 = 0
            for r in order:
                X_k, Y_k = X + x[r], Y + yy[r]
                area += (X_k - X) * (Y_k + Y)
                X, Y = X_k, Y_k
            # fmt: off
            out.append(
                {
                    "year": y, "cluster": c, "cluster_name": eco.meta[c][0],
                    "type": eco.meta[c][1], "employment": Ec,
                    "hoover": sum(abs(yy[r] - x[r]) for r in eco.regions) / 2, "gini": 1 - area,
                    "eg_raw": sum((yy[r] - x[r]) ** 2 for r in eco.regions),
                }
            )
            # fmt: on
    return out


# ---------------------------------------------------------------- output
# fmt: off
CLUSTER_COLS = [
    "year", "region", "cluster", "cluster_name", "type", "employment", "establishments",
    "payroll", "wage", "region_share", "cluster_share", "lq", "size_star",
    "specialisation_star", "focus_star", "stars", "qualifying", "significant", "strong",
    "strong10",
]
CHANGE_COLS = ["change", "growth_cagr", "lq_change", "quadrant"]
SHIFT_COLS = [
    "region", "cluster", "cluster_name", "type", "employment_base", "employment", "change",
    "national_growth", "industry_mix", "regional_shift",
]
REGION_COLS = [
    "year", "region", "employment", "krugman", "hoover", "herfindahl", "entropy",
    "cluster_strength", "n_strong", "n_three_star",
]
INDUSTRY_COLS = [
    "year", "cluster", "cluster_name", "type", "employment", "hoover", "gini", "eg_raw",
]
# fmt: on


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, F):
        return str(v.numerator) if v.denominator == 1 else repr(float(v))
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write(name, cols, rows):
    with open(OUT / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for row in rows:
            w.writerow([fmt(row[k]) for k in cols])


def main():
    P, PR, D = "panel.csv", "panel_ref.csv", "definitions.csv"
    eco = Economy(P, D)
    cl = clusters(eco, "total", base_year=2015)
    write("expected_clusters.csv", CLUSTER_COLS + CHANGE_COLS, cl)
    write("expected_clusters_type.csv", CLUSTER_COLS, clusters(eco, "type"))
    nodefs = Economy(P)
    cl_nd = clusters(nodefs, "total")
    write("expected_clusters_nodefs.csv", CLUSTER_COLS, cl_nd)
    write("expected_shiftshare.csv", SHIFT_COLS, shiftshare(eco, 2015, 2020))
    write("expected_regions.csv", REGION_COLS, regions(eco, cl))
    write("expected_regions_nodefs.csv", REGION_COLS, regions(nodefs, cl_nd))
    write("expected_industries.csv", INDUSTRY_COLS, industries(eco))
    write("expected_industries_nodefs.csv", INDUSTRY_COLS, industries(nodefs))

    ref = Economy(PR, D, ref="EU")
    cl_ref = clusters(ref, "total", base_year=2015)
    write("expected_clusters_ref.csv", CLUSTER_COLS + CHANGE_COLS, cl_ref)
    write("expected_shiftshare_ref.csv", SHIFT_COLS, shiftshare(ref, 2015, 2020))
    write("expected_regions_ref.csv", REGION_COLS, regions(ref, cl_ref))
    # industries with --reference-region EU only drop EU: same numbers as expected_industries.csv
    assert industries(ref) == industries(eco)


if __name__ == "__main__":
    main()
