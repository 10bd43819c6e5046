"""The region report as a PDF, drawn on the server with fpdf2 (pure Python) from the same
tables as the HTML report: key figures, a bar chart of the top clusters' location quotients
(rectangles drawn from the data, not a screenshot), the clusters table, the specialisation
indices over time, peer regions and the platform's organisations in the region.

Text needs a Unicode TrueType font (region names such as “Małopolskie”): the first of
:data:`FONT_CANDIDATES` that exists is embedded (DejaVu Sans comes with Debian's
``fonts-dejavu-core``, which Chromium pulls in). Without one the report falls back to the PDF
core font Helvetica, with text folded to Latin-1 (``ł`` → ``l``), still legible.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from clusteratlas.collaboration.models import Organisation
    from clusteratlas.web.pages.observatory import RegionProfile

__all__ = ["FONT_CANDIDATES", "region_pdf"]

#: (regular, bold) TrueType fonts tried in turn
FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
    (Path("/Library/Fonts/Arial Unicode.ttf"), Path("/Library/Fonts/Arial Unicode.ttf")),
    (Path("C:/Windows/Fonts/arial.ttf"), Path("C:/Windows/Fonts/arialbd.ttf")),
)
#: the bars of the chart, and the LQ = 1 line
BAR_RGB = (31, 95, 174)
STAR_BAR_RGB = (214, 120, 30)
GRID_RGB = (160, 166, 178)
_FOLD = str.maketrans(
    {"ł": "l", "Ł": "L", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
    | {"★": "*", "☆": "-", "…": "...", "·": "-", "≥": ">=", "≤": "<=", "\u2009": " "}
)


def _font() -> tuple[Path, Path] | None:
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Text:
    """Text as the chosen font can show it."""

    def __init__(self, unicode: bool) -> None:
        self.unicode = unicode

    def __call__(self, value: Any) -> str:
        text = str(value)
        if self.unicode:
            return text
        text = text.translate(_FOLD)
        out = []
        for ch in text:
            if ord(ch) < 256:
                out.append(ch)
            else:
                folded = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode()
                out.append(folded or "?")
        return "".join(out)


def region_pdf(
    p: RegionProfile,
    *,
    organisations: Sequence[Organisation],
    fmt: Callable[[Any, str], str],
) -> bytes:
    """The report of the region profile ``p`` as PDF bytes."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    font = _font()
    t = _Text(unicode=font is not None)
    family = "ReportSans" if font is not None else "Helvetica"
    generated = datetime.now(UTC)

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.set_text_color(*GRID_RGB)
            self.cell(
                0,
                5,
                t(
                    f"Cluster Atlas · {p.ds.info.title} · generated "
                    f"{generated:%Y-%m-%d} · page {self.page_no()}/{{nb}}"
                ),
                align="C",
            )

    pdf = Report(orientation="P", unit="mm", format="A4")
    pdf.set_title(t(f"{p.name} ({p.code}): cluster profile {p.year}"))
    pdf.set_subject(t(f"Clusters of {p.name}, {p.year}, dataset {p.ds.info.title}"))
    pdf.set_author("Cluster Atlas")
    pdf.set_creator("Cluster Atlas (fpdf2)")
    pdf.set_creation_date(generated)
    if font is not None:
        pdf.add_font(family, "", str(font[0]))
        pdf.add_font(family, "B", str(font[1]))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: float = 13) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", size)
        pdf.set_text_color(29, 36, 51)
        pdf.multi_cell(0, size * 0.5, t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        pdf.set_font(family, "", 9)

    def paragraph(text: str) -> None:
        pdf.set_font(family, "", 9)
        pdf.set_text_color(91, 100, 117)
        pdf.multi_cell(0, 4.5, t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(29, 36, 51)

    def table(headers: list[str], rows: list[list[str]], widths: Sequence[float]) -> None:
        pdf.set_font(family, "", 8.5)
        pdf.set_fill_color(255, 255, 255)  # the bars' colour must not fill the cells
        aligns = ["LEFT" if i <= 1 else "RIGHT" for i in range(len(headers))]
        with pdf.table(
            col_widths=tuple(widths),
            text_align=tuple(aligns),
            line_height=5,
            first_row_as_headings=True,
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 243)),
        ) as tbl:
            row = tbl.row()
            for h in headers:
                row.cell(t(h))
            for values in rows:
                row = tbl.row()
                for v in values:
                    row.cell(t(v))

    # ---- title and key figures
    heading(f"{p.name} ({p.code})", 18)
    paragraph(
        f"Cluster profile, {p.year}. Dataset: {p.ds.info.title}"
        + (f" (source: {p.ds.info.source})" if p.ds.info.source else "")
        + "."
    )
    this_year = p.indices[p.indices["year"] == p.year]
    if len(this_year):
        row = this_year.iloc[0]
        figures = [
            ("Employment", fmt(row.get("employment"), "int")),
            ("Clusters present", str(len(p.clusters))),
            ("Strong clusters", fmt(row.get("n_strong"), "int")),
            ("3-star clusters", fmt(row.get("n_three_star"), "int")),
            ("Cluster strength", fmt(row.get("cluster_strength"), "share")),
        ]
        pdf.ln(2)
        table([f for f, _ in figures], [[v for _, v in figures]], [1] * len(figures))

    # ---- bar chart of the top clusters
    top = p.clusters.head(10)
    heading("Top clusters: most stars, then highest location quotient")
    _bars(pdf, top, family, t, width)
    paragraph(
        "Bars show the location quotient (LQ); the grey line marks LQ = 1, the share the "
        "cluster has in the reference area. Orange bars are clusters with three stars."
    )

    # ---- clusters table
    heading(f"Clusters of {p.name}, {p.year}")
    rows = [
        [
            str(r["rank"]),
            str(r["cluster_name"]),
            fmt(r.get("employment"), "int"),
            fmt(r.get("lq"), "ratio"),
            fmt(r.get("stars"), "stars"),
            fmt(r.get("growth_cagr"), "rate"),
            fmt(r.get("quadrant"), "text"),
        ]
        for r in p.clusters.head(25).to_dict("records")
    ]
    table(
        ["#", "Cluster", "Employment", "LQ", "Stars", "Growth/yr", "Quadrant"],
        rows,
        [6, 52, 20, 12, 14, 16, 20],
    )
    if len(p.clusters) > 25:
        paragraph(f"The 25 first of {len(p.clusters)} clusters; the web page lists all.")

    # ---- specialisation over time
    heading("Specialisation over time")
    columns = [
        (k, label, kind)
        for k, label, kind in (
            ("employment", "Employment", "int"),
            ("krugman", "Krugman", "index"),
            ("hoover", "Hoover", "index"),
            ("herfindahl", "Herfindahl", "index"),
            ("entropy", "Entropy", "index"),
            ("n_strong", "Strong", "int"),
        )
        if k in p.indices
    ]
    rows = [
        [str(int(r["year"])), *(fmt(r.get(k), kind) for k, _, kind in columns)]
        for r in p.indices.to_dict("records")
    ]
    table(["Year", *(label for _, label, _ in columns)], rows, [1] * (len(columns) + 1))

    # ---- peers and organisations
    peers = p.extras.get("peers")
    if peers is not None and len(peers) and "peer" in peers:
        heading("Peer regions (most similar industry profile)")
        names = p.ds.region_names
        rows = [
            [
                str(r.get("rank", "")),
                f"{names.get(str(r['peer']), str(r['peer']))} ({r['peer']})",
                fmt(r.get("similarity_rca"), "index"),
            ]
            for r in peers.head(10).to_dict("records")
        ]
        table(["#", "Region", "Similarity (RCA)"], rows, [8, 70, 30])
    heading("Organisations of the platform in the region")
    if organisations:
        rows = [[o.name, o.city or "", ", ".join(s.code for s in o.sectors)] for o in organisations]
        table(["Organisation", "City", "Sectors"], rows, [80, 40, 40])
    else:
        paragraph("No published organisation profile is located in this region yet.")
    return bytes(pdf.output())


def _bars(pdf: Any, top: pd.DataFrame, family: str, t: _Text, width: float) -> None:
    """Horizontal bars of the LQ of ``top``'s clusters, with the LQ = 1 line."""
    rows = [r for r in top.to_dict("records") if not pd.isna(r.get("lq"))]
    if not rows:
        pdf.set_font(family, "", 9)
        pdf.cell(0, 6, t("No cluster has an LQ this year."), new_x="LMARGIN", new_y="NEXT")
        return
    label_w, value_w, bar_h, gap = 62.0, 14.0, 5.0, 2.0
    plot_w = width - label_w - value_w
    top_lq = max(max(float(r["lq"]) for r in rows), 1.0)
    scale = plot_w / top_lq
    x0 = pdf.l_margin + label_w
    height = len(rows) * (bar_h + gap)
    if pdf.will_page_break(height + 4):
        pdf.add_page()
    y = pdf.get_y() + 1
    pdf.set_font(family, "", 8.5)
    for k, r in enumerate(rows):
        yk = y + k * (bar_h + gap)
        pdf.set_text_color(29, 36, 51)
        pdf.set_xy(pdf.l_margin, yk)
        pdf.cell(label_w - 2, bar_h, t(str(r["cluster_name"]))[:40], align="R")
        colour = STAR_BAR_RGB if int(r.get("stars") or 0) == 3 else BAR_RGB
        pdf.set_fill_color(*colour)
        pdf.rect(x0, yk, max(float(r["lq"]) * scale, 0.3), bar_h, style="F")
        pdf.set_xy(x0 + float(r["lq"]) * scale + 1, yk)
        pdf.cell(value_w, bar_h, f"{float(r['lq']):.2f}")
    pdf.set_draw_color(*GRID_RGB)
    pdf.set_line_width(0.4)
    pdf.line(x0 + scale, y - 1, x0 + scale, y + height)
    pdf.set_xy(x0 + scale - 8, y + height)
    pdf.set_text_color(*GRID_RGB)
    pdf.cell(16, 4, "LQ = 1", align="C")
    pdf.set_text_color(29, 36, 51)
    pdf.set_xy(pdf.l_margin, y + height + 5)
