"""The PDF engine for public notices: line breaking, fonts, GB/T 9704 geometry, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from inspect_kit.errors import InspectError
from inspect_kit.publish import (
    Attachment,
    FontConfig,
    FontError,
    FontSpec,
    MissingGlyphError,
    NoticeDocument,
    Section,
    Table,
    attach,
    chinese_date,
    chinese_numeral,
    doc_number,
    embedded_files,
    heading_number,
    render,
)
from inspect_kit.publish.fonts import SHIPPED_HEI, SHIPPED_SONG
from inspect_kit.publish.layout import MM, PageGeometry
from inspect_kit.publish.linebreak import CLOSING, OPENING, break_lines, check_line_rules, glue, is_wide, tokens

ROOT = Path(__file__).resolve().parents[1]
GEOMETRY = PageGeometry()
BUNDLE = json.dumps({"seed": "20260105-0382-1947", "algorithm": "consistent-sampler 1.0.10"}).encode()
INTRO = (
    "根据《关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》（国发〔2019〕5号）等规定，"
    "现将2026年第一季度抽查对象名单公示如下。"
)


def entity_name(i: int) -> str:
    return f"某某市{'东山' if i % 2 else '西河'}环保科技有限公司第{i}分公司"


def uscc(i: int) -> str:
    return f"913601{i:011d}X"


def sample_notice(rows: int = 120, names: dict[int, str] | None = None, **overrides) -> NoticeDocument:
    names = names or {}
    table = Table(
        ["序号", "单位名称", "统一社会信用代码", "抽查事项"],
        [[str(i), names.get(i, entity_name(i)), uscc(i), "排污许可执行情况检查"] for i in range(1, rows + 1)],
        align=["center", "left", "left", "left"],
    )
    fields = dict(
        issuer="某某市生态环境局",
        title="某某市生态环境局关于2026年第一季度“双随机、一公开”抽查对象名单的公示",
        issue_date=dt.date(2026, 1, 5),
        doc_number=doc_number(2026, 5, "某环"),
        addressee="各有关单位：",
        intro=[INTRO],
        sections=[
            Section("一、抽查对象名单", ["抽查比例25%，向上取整。"], table),
            Section("二、抽取验证信息", ["随机种子：20260105-0382-1947（来源：公开摇号）。"]),
        ],
        closing=["特此公示。"],
        attachments=[Attachment("抽取算法说明", [Section(paragraphs=["一致抽样，SHA-256票号。"])])],
        files=[("draw-bundle.json", BUNDLE)],
    )
    fields.update(overrides)
    return NoticeDocument(**fields)


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render(sample_notice())


@pytest.fixture(scope="module")
def page_texts(sample_pdf) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(sample_pdf)).pages]


def lines_of(text: str) -> list[str]:
    """Extracted lines, without the page number line."""
    return [line for line in text.split("\n") if line and not line.startswith("— ")]


# --- line breaking -------------------------------------------------------------------------


def unit_width(char: str) -> float:
    return 1.0 if is_wide(char) else 0.5


def test_no_line_starts_with_closing_or_ends_with_opening():
    text = "甲乙丙，（丁）“戊己”。庚辛：《壬癸》、子丑；【寅卯】！辰巳？" * 6
    for width in range(3, 30):
        lines = break_lines(text, width, unit_width)
        assert check_line_rules(lines) == [], (width, lines)
        assert "".join(lines) == text
        assert all(sum(map(unit_width, line)) <= width for line in lines)


def test_closing_mark_pulls_previous_character_down():
    # Naively "，" would start line 2; the character before it moves down with it (推出).
    lines = break_lines("一二三四，五六", 4, unit_width)
    assert lines == ["一二三", "四，五六"]
    lines = break_lines("一二三（四五）", 4, unit_width)
    assert lines == ["一二三", "（四五）"]


def test_codes_and_numbers_stay_whole_and_doubled_marks_are_not_split():
    code = "91360100000000001X"
    lines = break_lines(f"代码{code}号", 10, unit_width)
    assert lines == ["代码", f"{code}号"]
    lines = break_lines("一二三四五——六七", 6, unit_width)
    assert all(not line.endswith("—") or line.endswith("——") for line in lines)
    assert check_line_rules(lines) == []


def test_unit_wider_than_line_is_cut_where_it_starts():
    digest = "sha256:" + "ab" * 32
    lines = break_lines("哈希：" + digest, 20, unit_width)
    assert lines[0].startswith("哈希：sha256")  # no short line before the hash
    assert "".join(lines) == "哈希：" + digest
    assert all(sum(map(unit_width, line)) <= 20 for line in lines)


def test_first_line_width_spaces_and_newlines():
    assert break_lines("一二三四五六", 4, unit_width, first_line_width=2) == ["一二", "三四五六"]
    assert break_lines("ab cd ef", 2, unit_width) == ["ab", "cd", "ef"]
    assert break_lines("甲\n乙", 10, unit_width) == ["甲", "乙"]
    assert break_lines("", 10, unit_width) == [""]
    assert "\u3000" in break_lines("\u3000\u3000开头", 10, unit_width)[0]  # 全角空格 is kept


PIECES = st.one_of(
    st.sampled_from(list("检查对象名单结果公示随机抽取")),
    st.sampled_from(sorted(CLOSING - set(",.;:?!)]}%"))),
    st.sampled_from(sorted(OPENING - set("([{$"))),
    st.text(alphabet="ABC0123456789", min_size=1, max_size=8),
    st.just(" "),
    st.just("——"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=80), st.integers(min_value=6, max_value=30))
def test_line_breaking_properties(pieces, width):
    text = "".join(pieces)
    assume(all(sum(map(unit_width, u)) <= width for u in glue(tokens(text))))
    lines = break_lines(text, width, unit_width)
    assert check_line_rules(lines) == []
    assert all(sum(map(unit_width, line)) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


# --- helpers for notices --------------------------------------------------------------------


def test_dates_numbers_and_headings():
    assert chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert chinese_date(dt.date(2026, 12, 31)) == "2026年12月31日"
    assert doc_number(2026, 5) == "〔2026〕5号"
    assert doc_number(2026, 12, "某环") == "某环〔2026〕12号"
    assert [chinese_numeral(n) for n in (1, 10, 12, 20, 21, 100, 105, 110)] == [
        "一",
        "十",
        "十二",
        "二十",
        "二十一",
        "一百",
        "一百零五",
        "一百一十",
    ]
    assert heading_number(3) == "三、" and heading_number(2, 2) == "（二）" and heading_number(4, 3) == "4."


def test_geometry_follows_gbt_9704():
    assert GEOMETRY.line_pitch * 22 == pytest.approx(225 * MM)
    assert GEOMETRY.char_pitch * 28 == pytest.approx(156 * MM)
    assert GEOMETRY.block_top == pytest.approx((297 - 37) * MM)
    assert GEOMETRY.block_left == pytest.approx(28 * MM)


def test_importing_the_package_does_not_import_reportlab():
    code = "import sys, inspect_kit.publish; print('reportlab' in sys.modules, 'pypdf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- rendering ------------------------------------------------------------------------------


def test_text_comes_out_as_written(page_texts):
    flat = "".join(page_texts).replace("\n", "")
    assert "\x00" not in flat and "\ufffd" not in flat
    for expected in (
        "某某市生态环境局关于2026年第一季度“双随机、一公开”抽查对象名单的公示",
        "某环〔2026〕5号",
        "各有关单位：",
        "（国发〔2019〕5号）",
        "一、抽查对象名单",
        "特此公示。",
        "2026年1月5日",
        "附件：抽取算法说明",
        "统一社会信用代码",
    ):
        assert expected in flat, expected
    for i in (1, 17, 120):
        assert entity_name(i) in flat and uscc(i) in flat


def test_fonts_are_embedded_truetype_subsets(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            seen.add(str(font["/BaseFont"]))
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"]
            assert "/ToUnicode" in font
    assert all("+" in name for name in seen)  # subsets
    assert not any("STSong" in name or "Helvetica" in name for name in seen)


def test_page_numbers_position_and_side(sample_pdf):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(sample_pdf)
    assert len(pdf) >= 4
    right = GEOMETRY.block_left + GEOMETRY.block_width
    for index in range(len(pdf)):
        number = index + 1
        text_page = pdf[index].get_textpage()
        found = text_page.search(f"— {number} —").get_next()
        assert found, f"page {number} has no page number"
        first, count = found
        left_box = text_page.get_charbox(first, loose=True)
        right_box = text_page.get_charbox(first + count - 1, loose=True)
        # The em box's top lies 7 mm below the text block; 14 pt type.
        assert left_box[3] == pytest.approx(GEOMETRY.block_bottom - 7 * MM, abs=0.1)
        assert left_box[3] - left_box[1] == pytest.approx(14, abs=0.1)
        if number % 2:  # odd: right, one character in
            assert right_box[2] == pytest.approx(right - 14, abs=0.1)
        else:
            assert left_box[0] == pytest.approx(GEOMETRY.block_left + 14, abs=0.1)


def test_body_is_22_lines_of_28_characters():
    notice = sample_notice(rows=0, intro=["检查" * 700], sections=[], attachments=[], files=[])
    pdf = render(notice)
    pages = [lines_of(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    full_page = pages[1]
    assert len(full_page) == 22
    assert all(len(line) == 28 for line in full_page)
    first_line = next(line for line in pages[0] if line.startswith("检查"))
    assert len(first_line) == 26  # the paragraph's first line is indented two characters


def test_rendered_paragraphs_keep_line_breaking_rules():
    # Naive CJK wrapping would start line 2 with "，" (26 characters fit after the indent) and
    # end line 2 of the next paragraph with "（".
    paragraphs = ["甲" * 26 + "，乙丙丁。" * 8, "丙" * 25 + "（丁）" + "戊" * 40]
    pdf = render(sample_notice(rows=0, intro=paragraphs, sections=[], attachments=[], files=[]))
    lines = lines_of(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert not any(line[0] in CLOSING for line in lines)
    assert not any(line[-1] in OPENING for line in lines)
    assert "甲" * 25 in lines and "甲，乙丙丁。" in "".join(lines)


def test_long_table_repeats_header_on_every_page(page_texts):
    table_pages = [t for t in page_texts if uscc(1)[:6] in t]
    assert len(table_pages) >= 3
    assert all("统一社会信用代码" in t for t in table_pages)
    rows_seen = sum(t.count("排污许可执行情况检查") for t in table_pages)
    assert rows_seen == 120


def test_attachment_starts_on_a_new_page(page_texts):
    starts = [i for i, t in enumerate(page_texts) if lines_of(t)[0] == "附件"]
    assert len(starts) == 1
    page = starts[0]
    assert lines_of(page_texts[page])[1] == "抽取算法说明"
    assert "2026年1月5日" in page_texts[page - 1]


def test_embedded_file_and_metadata(sample_pdf):
    assert embedded_files(sample_pdf) == {"draw-bundle.json": BUNDLE}
    meta = PdfReader(io.BytesIO(sample_pdf)).metadata
    assert meta.title == sample_notice().title
    assert meta.author == "某某市生态环境局"
    assert meta["/CreationDate"] == "D:20260105000000+08'00'"


def test_attach_round_trips_and_is_deterministic(sample_pdf):
    data = "检查结果".encode() * 1000
    once = attach(sample_pdf, "抽查结果.json", data)
    assert once == attach(sample_pdf, "抽查结果.json", data)
    files = embedded_files(once)
    assert files["抽查结果.json"] == data and files["draw-bundle.json"] == BUNDLE
    ids = PdfReader(io.BytesIO(once)).trailer["/ID"]
    assert ids[0] == PdfReader(io.BytesIO(sample_pdf)).trailer["/ID"][0] and ids[1] != ids[0]


def test_rebuild_is_byte_identical(sample_pdf):
    assert render(sample_notice()) == sample_pdf
    # A fresh interpreter (fonts registered anew, other object ids) gives the same bytes too.
    code = (
        "import hashlib, sys; from tests.test_publish_engine import sample_notice; "
        "from inspect_kit.publish import render; print(hashlib.sha256(render(sample_notice())).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(sample_pdf).hexdigest()


def test_creation_date_option_and_content_derived_id():
    when = dt.datetime(2026, 1, 6, 9, 30)
    pdf = render(sample_notice(rows=3), creation_date=when)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata["/CreationDate"] == "D:20260106093000+08'00'"
    assert render(sample_notice(rows=3), creation_date=when) == pdf
    other = PdfReader(io.BytesIO(render(sample_notice(rows=4), creation_date=when)))
    assert reader.trailer["/ID"][0] == reader.trailer["/ID"][1] != other.trailer["/ID"][0]


def test_results_notice_with_letterhead_caption_and_level_two_heading():
    results = Table(
        ["任务编号", "市场主体名称", "统一社会信用代码", "检查日期", "检查结果", "后续处置"],
        [["2026-001-001", "某某食品经营部", uscc(1), "2026-03-02", "发现问题已责令改正", "责令改正"]],
        caption="表1　抽查结果",
    )
    notice = sample_notice(
        letterhead="某某市市场监督管理局文件",
        attachments=[],
        files=[],
        sections=[
            Section(heading_number(1) + "食品经营者检查", ["共抽查1户。"], results, notes=["注：无。"]),
            Section(heading_number(1, 2) + "复查安排", ["30个工作日内复查。"], level=2),
        ],
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render(notice))).pages).replace("\n", "")
    for expected in ("某某市市场监督管理局文件", "表1　抽查结果", "发现问题已责令", "注：无。", "（一）复查安排"):
        assert expected in text, expected
    assert text.count("某环〔2026〕5号") == 1  # under the letterhead, not again under the title


def test_missing_glyph_is_an_error_naming_character_and_place():
    with pytest.raises(MissingGlyphError) as caught:
        render(sample_notice(rows=20, names={17: "某某𠀋有限公司"}))
    message = str(caught.value)
    assert "table 1, row 17, column 单位名称: '𠀋' U+2000B not in font AR PL SungtiL GB" in message
    assert caught.value.missing[0].char == "𠀋"
    assert isinstance(caught.value, InspectError)


def test_fallback_font_draws_characters_outside_gb2312():
    name = "某某市堃喆建材有限公司"  # 堃 and 喆 are not in GB2312 nor in the Song face
    pdf = render(sample_notice(rows=20, names={5: name}))
    reader = PdfReader(io.BytesIO(pdf))
    assert name in "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    with pytest.raises(MissingGlyphError) as caught:
        render(sample_notice(rows=20, names={5: name}), fonts=FontConfig(use_fallback=False))
    assert "table 1, row 5, column 单位名称: '堃' U+5803" in str(caught.value)


def test_user_fonts_with_ttc_subfont_index():
    assert FontSpec.of(f"{SHIPPED_HEI.path}#1") == FontSpec(SHIPPED_HEI.path, 1)
    fonts = FontConfig(title=str(SHIPPED_SONG.path), body=f"{SHIPPED_HEI.path}#1")
    pdf = render(sample_notice(rows=5), fonts=fonts)
    names = {
        str(f.get_object()["/BaseFont"])
        for p in PdfReader(io.BytesIO(pdf)).pages
        for f in p["/Resources"]["/Font"].values()
    }
    assert any(n.endswith("WenQuanYiMicroHeiMono-1") for n in names), names


def _cff_font(path: Path) -> Path:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "A"])
    builder.setupCharacterMap({ord("A"): "A"})
    pen = T2CharStringPen(500, None)
    pen.moveTo((0, 0)), pen.lineTo((500, 0)), pen.lineTo((250, 700)), pen.closePath()
    strings = {".notdef": T2CharStringPen(500, None).getCharString(), "A": pen.getCharString()}
    builder.setupCFF("TestCFF", {"FullName": "TestCFF"}, strings, {})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "A": (500, 0)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "TestCFF", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_unusable_font_files_give_clear_errors(tmp_path):
    with pytest.raises(FontError, match="TrueType"):
        render(sample_notice(rows=1), fonts=FontConfig(body=_cff_font(tmp_path / "cff.otf")))
    with pytest.raises(FontError, match="cannot be read"):
        render(sample_notice(rows=1), fonts=FontConfig(title=tmp_path / "missing.ttf"))


def test_table_shape_is_validated():
    bad = Table(["甲", "乙"], [["1", "2"], ["3"]])
    with pytest.raises(InspectError, match="table 1, row 2: 1 cells for 2 columns"):
        render(sample_notice(sections=[Section("一、名单", table=bad)]))
    wide = Table(["甲", "乙"], [["1", "2"]], col_widths_mm=[100, 80])
    with pytest.raises(InspectError, match="more than the 156 mm"):
        render(sample_notice(sections=[Section("一、名单", table=wide)]))


def test_signature_and_date_positions(sample_pdf):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(sample_pdf)
    for index in range(len(pdf)):
        text_page = pdf[index].get_textpage()
        date = text_page.search("2026年1月5日").get_next()
        if date:
            break
    searcher = text_page.search("某某市生态环境局")  # the signature is the last occurrence
    hits = []
    while (hit := searcher.get_next()) is not None:
        hits.append(hit)
    signature = hits[-1]
    sig_left = text_page.get_charbox(signature[0], loose=True)[0]
    sig_right = text_page.get_charbox(signature[0] + signature[1] - 1, loose=True)[2]
    date_left = text_page.get_charbox(date[0], loose=True)[0]
    right_limit = GEOMETRY.block_left + GEOMETRY.block_width - 2 * GEOMETRY.char_pitch
    assert sig_right == pytest.approx(right_limit, abs=0.5)  # 右空二字
    assert date_left - sig_left == pytest.approx(2 * GEOMETRY.char_pitch, abs=0.5)  # 右移二字


def test_first_page_is_not_blank(sample_pdf):
    import pypdfium2

    image = pypdfium2.PdfDocument(sample_pdf)[0].render(scale=1).to_pil().convert("L")
    top = int((297 - 37) * MM)  # PDF y of the block top; image rows run downwards
    title_area = image.crop(
        (
            int(GEOMETRY.block_left),
            image.height - top,
            int(GEOMETRY.block_left + GEOMETRY.block_width),
            image.height - top + int(2 * GEOMETRY.line_pitch),
        )
    )
    dark = sum(title_area.histogram()[:128])
    assert dark > 300, dark


def test_metadata_title_is_one_line():
    import io

    from pypdf import PdfReader

    from inspect_kit.publish import NoticeDocument, render

    notice = NoticeDocument(
        issuer="青山县生态环境局",
        title="青山县生态环境局2026年第一季度\n“双随机、一公开”抽查对象名单公示",
        issue_date=dt.date(2026, 1, 5),
        intro=["根据规定，现予公示。"],
    )
    meta = PdfReader(io.BytesIO(render(notice))).metadata
    assert meta.title == "青山县生态环境局2026年第一季度“双随机、一公开”抽查对象名单公示"
