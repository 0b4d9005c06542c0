from pathlib import Path

from app.graphiql_page import PREFIX, local_page

PAGE = ('<script src="https://unpkg.com/react@18.2.0/umd/react.production.min.js"></script>'
        '<link href="https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css" />')


def test_cdn_urls_become_local_when_every_file_is_there(tmp_path: Path) -> None:
    for rel in ("react/umd/react.production.min.js", "@graphiql/plugin-explorer/dist/style.css"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    html, needed = local_page(PAGE, tmp_path)
    assert "unpkg.com" not in html
    assert f'src="{PREFIX}react/umd/react.production.min.js"' in html
    assert f'href="{PREFIX}@graphiql/plugin-explorer/dist/style.css"' in html
    assert needed == {"react/umd/react.production.min.js",
                      "@graphiql/plugin-explorer/dist/style.css"}


def test_the_cdn_page_stays_when_a_file_is_missing(tmp_path: Path) -> None:
    (tmp_path / "react/umd").mkdir(parents=True)
    (tmp_path / "react/umd/react.production.min.js").write_text("x")
    assert local_page(PAGE, tmp_path) is None
