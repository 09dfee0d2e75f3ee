"""A page's generated block replaced between its markers; the text around it kept; a page without one."""

from __future__ import annotations

from matchcut.bench.pages import block_of, write_block

BEGIN, END = "<!-- x:begin -->", "<!-- x:end -->"


def test_the_block_is_replaced_and_the_hand_written_text_kept(tmp_path):
    page = tmp_path / "quality.md"
    page.write_text(f"# Q\n\nbefore\n\n{BEGIN}\nold figures\n{END}\n\nafter, by hand\n")
    write_block(page, BEGIN, END, f"{BEGIN}\nnew figures\n{END}")
    text = page.read_text()
    assert text == f"# Q\n\nbefore\n\n{BEGIN}\nnew figures\n{END}\n\nafter, by hand\n"
    assert block_of(text, BEGIN, END) == "\nnew figures\n"
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary it wrote through is gone


def test_a_page_without_the_block_gets_it_where_placed(tmp_path):
    page = tmp_path / "quality.md"
    page.write_text("# Q\n\n## Section\n\ntext\n\n## Next\n")
    write_block(page, BEGIN, END, f"{BEGIN}\nfigures\n{END}",
                lambda text, block: text.replace("## Next", block + "\n\n## Next"))
    assert page.read_text() == f"# Q\n\n## Section\n\ntext\n\n{BEGIN}\nfigures\n{END}\n\n## Next\n"
    fresh = tmp_path / "new.md"
    write_block(fresh, BEGIN, END, f"{BEGIN}\nfigures\n{END}", new_page="# New\n")
    assert fresh.read_text() == f"# New\n\n{BEGIN}\nfigures\n{END}\n"
