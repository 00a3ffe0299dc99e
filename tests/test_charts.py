"""The SVG charts: well-formed, accessible, proportional and readable without colour."""

import xml.etree.ElementTree as ET

import pytest

from portal.domain.charts import (
    Bar,
    BarGroup,
    Series,
    StackRow,
    bar_chart,
    grey_shades,
    line_chart,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(svg: ET.Element) -> list[str]:
    return [node.text for node in svg.iter(f"{SVG}text")]


def test_bar_chart_is_accessible_svg():
    svg = parse(
        bar_chart("c1", "Titel & meer", "Beschrijving 3,12", [BarGroup(None, [Bar("A", 3.12)])], 4)
    )
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-titel c1-beschrijving"
    assert svg.find(f"{SVG}title").text == "Titel & meer"
    assert svg.find(f"{SVG}title").get("id") == "c1-titel"
    assert svg.find(f"{SVG}desc").text == "Beschrijving 3,12"
    assert svg.find(f"{SVG}desc").get("id") == "c1-beschrijving"


@pytest.mark.parametrize("values", [[3.12, 2.5, 1.0], [4.0, 0.5, 2.25]])
def test_bar_lengths_proportional_to_values(values):
    bars = [Bar(f"balk {index}", value) for index, value in enumerate(values)]
    svg = parse(bar_chart("c", "t", "d", [BarGroup(None, bars)], axis_max=4))
    rects = svg.findall(f".//{SVG}rect[@class='chart__bar']")
    widths = [float(rect.get("width")) for rect in rects]
    assert len(widths) == len(values)
    for width, value in zip(widths, values, strict=True):
        assert width / widths[0] == pytest.approx(value / values[0], rel=1e-3)


def test_bar_at_axis_max_fills_plot():
    svg = parse(bar_chart("c", "t", "d", [BarGroup(None, [Bar("vol", 4.0), Bar("half", 2.0)])], 4))
    full, half = (float(r.get("width")) for r in svg.findall(f".//{SVG}rect[@class='chart__bar']"))
    grid = svg.findall(f".//{SVG}line[@class='chart__grid']")
    assert full == pytest.approx(float(grid[-1].get("x1")) - float(grid[0].get("x1")), abs=0.01)
    assert half == pytest.approx(full / 2, abs=0.01)


def test_bar_values_labelled_in_dutch():
    groups = [BarGroup(None, [Bar("Veiligheid", 3.125, reference=2.9)])]
    svg = parse(bar_chart("c", "t", "d", groups, 4, reference_label="landelijk"))
    # 3.125 rounds half to even: 3,12.
    assert "3,12 (landelijk 2,90)" in texts(svg)
    assert "Veiligheid" in texts(svg)


def test_reference_marker_at_value():
    groups = [BarGroup(None, [Bar("a", 2.0, reference=3.0)])]
    svg = parse(bar_chart("c", "t", "d", groups, 4, reference_label="landelijk"))
    bar = svg.find(f".//{SVG}rect[@class='chart__bar']")
    # The first dashed line is the legend's sample, the last the bar's marker.
    marker = svg.findall(f".//{SVG}line[@class='chart__reference']")[-1]
    left, width = float(bar.get("x")), float(bar.get("width"))
    assert float(marker.get("x1")) - left == pytest.approx(width * 3.0 / 2.0, abs=0.01)
    assert marker.get("stroke-dasharray")
    assert "landelijk" in texts(svg)  # the legend names the dashed line


def test_group_note_replaces_bars():
    groups = [
        BarGroup("groep 7", [Bar("Welbevinden", 3.0)]),
        BarGroup("groep 8", note="te weinig respondenten"),
    ]
    svg = parse(bar_chart("c", "t", "d", groups, 4))
    assert len(svg.findall(f".//{SVG}rect[@class='chart__bar']")) == 1
    assert "te weinig respondenten" in texts(svg)


def test_missing_bar_value_shows_note():
    svg = parse(bar_chart("c", "t", "d", [BarGroup(None, [Bar("a", None, note="geen")])], 4))
    assert svg.findall(f".//{SVG}rect[@class='chart__bar']") == []
    assert "geen" in texts(svg)


def test_text_is_escaped():
    svg = parse(bar_chart("c", "<t>", "a < b", [BarGroup(None, [Bar("x & <y>", 1.0)])], 4))
    assert svg.find(f"{SVG}title").text == "<t>"
    assert "x & <y>" in texts(svg)


def test_line_chart_series_differ_without_colour():
    series = [Series("Veiligheid", [3.0, 3.1]), Series("Welbevinden", [2.8, None]),
              Series("Aantasting", [3.3, 3.2])]  # fmt: skip
    svg = parse(line_chart("c", "t", "d", ["2016-2017", "2017-2018"], series, 1, 4))
    lines = svg.findall(f".//{SVG}path[@class='chart__line']")
    dashes = [line.get("stroke-dasharray") for line in lines]
    assert len(set(dashes)) == 3
    shapes = {}
    for marker in svg.findall(".//*[@class='chart__marker']"):
        shapes.setdefault(marker.get("fill"), set()).add(marker.get("data-shape"))
    assert len(shapes) == 3
    assert all(len(found) == 1 for found in shapes.values())
    assert len({shape for found in shapes.values() for shape in found}) == 3


def test_line_chart_legend_names_series():
    series = [Series("Veiligheid", [3.0]), Series("Welbevinden", [2.5])]
    svg = parse(line_chart("c", "t", "d", ["2017-2018"], series, 1, 4))
    assert "Veiligheid" in texts(svg)
    assert "Welbevinden" in texts(svg)
    assert len(svg.findall(f".//{SVG}line[@class='chart__legend-line']")) == 2


def test_line_chart_points_at_values():
    svg = parse(line_chart("c", "t", "d", ["a", "b"], [Series("s", [1.0, 4.0])], 1, 4))
    low, high = svg.findall(f".//{SVG}circle[@class='chart__marker']")
    grid = svg.findall(f".//{SVG}line[@class='chart__grid']")
    assert float(low.get("cy")) == pytest.approx(float(grid[0].get("y1")), abs=0.1)
    assert float(high.get("cy")) == pytest.approx(float(grid[-1].get("y1")), abs=0.1)


def test_missing_value_breaks_line():
    svg = parse(line_chart("c", "t", "d", ["a", "b", "c"], [Series("s", [2.0, None, 3.0])], 1, 4))
    path = svg.find(f".//{SVG}path").get("d")
    assert path.count("M") == 2
    assert "L" not in path


def test_grey_shades_distinct_and_grey():
    shades = grey_shades(4)
    levels = [int(shade[1:3], 16) for shade in shades]
    assert all(shade[1:3] == shade[3:5] == shade[5:7] for shade in shades)
    assert levels == sorted(levels, reverse=True)
    assert min(a - b for a, b in zip(levels, levels[1:], strict=False)) >= 0x30


def test_stacked_bar_segments_proportional():
    labels = ["niet gebeurd", "1 of 2 keer", "3 of 4 keer", "5 keer of vaker"]
    rows = [StackRow("Ik ben gepest.", [0.5, 0.25, 0.2, 0.05])]
    svg = parse(stacked_bar_chart("c", "t", "d", rows, labels))
    segments = svg.findall(f".//{SVG}rect[@class='chart__segment']")
    widths = [float(segment.get("width")) for segment in segments]
    assert [segment.get("data-option") for segment in segments] == labels
    assert widths[1] / widths[0] == pytest.approx(0.5)
    assert widths[2] / widths[0] == pytest.approx(0.4)
    assert sum(widths) == pytest.approx(640 - 16)


def test_stacked_bar_labels_wide_segments_only():
    labels = ["a", "b", "c"]
    svg = parse(stacked_bar_chart("c", "t", "d", [StackRow("v", [0.9, 0.08, 0.02])], labels))
    values = [node.text for node in svg.iter(f"{SVG}text") if node.get("class") == "chart__value"]
    assert values == ["90%", "8%"]


def test_stacked_bar_legend_uses_greys():
    labels = ["niet gebeurd", "1 of 2 keer", "3 of 4 keer", "5 keer of vaker"]
    svg = parse(stacked_bar_chart("c", "t", "d", [StackRow("v", [1, 0, 0, 0])], labels))
    swatches = svg.findall(f".//{SVG}rect[@class='chart__swatch']")
    assert [swatch.get("fill") for swatch in swatches] == grey_shades(4)
    for label in labels:
        assert label in texts(svg)


def test_stacked_bar_note_without_answers():
    svg = parse(
        stacked_bar_chart("c", "t", "d", [StackRow("v", [0, 0], "geen antwoorden")], ["a", "b"])
    )
    assert svg.findall(f".//{SVG}rect[@class='chart__segment']") == []
    assert "geen antwoorden" in texts(svg)


def test_charts_use_no_style_attributes():
    charts = [
        bar_chart("a", "t", "d", [BarGroup("g", [Bar("b", 2.0, 3.0)])], 4, "landelijk"),
        line_chart("b", "t", "d", ["x"], [Series("s", [2.0])], 1, 4),
        stacked_bar_chart("c", "t", "d", [StackRow("r", [0.5, 0.5])], ["a", "b"]),
    ]
    for markup in charts:
        for node in parse(markup).iter():
            assert "style" not in node.attrib
        assert "<style" not in str(markup)
        assert "<script" not in str(markup)


def test_chart_carries_no_more_precision():
    # 2.8864 and 2.8851 show as 2,89 in the table, so the chart must not tell them apart.
    first = parse(bar_chart("c", "t", "d", [BarGroup(None, [Bar("a", 2.8864, 2.56145)])], 4))
    second = parse(bar_chart("c", "t", "d", [BarGroup(None, [Bar("a", 2.8851, 2.5551)])], 4))
    assert ET.tostring(first) == ET.tostring(second)
    bar = first.find(f".//{SVG}rect[@class='chart__bar']")
    assert bar.get("data-value") == "2.89"


def test_shares_rounded_to_whole_percentages():
    row = StackRow("vraag", [0.4567, 0.5433])
    assert row.shares == [0.46, 0.54]
    assert Series("lijn", [3.14159, None]).values == [3.14, None]
