"""Building blocks of the self-contained HTML reports (no external files, no scripts).

Every piece of text that reaches the page goes through :func:`esc`; images are PNGs
embedded as ``data:`` URIs.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

from sim import __version__

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 980px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #555; }
.verdict { font-size: 1.4em; margin: 0.6em 0; }
.pass { color: #1b7a1b; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
.incomplete { color: #a05a00; font-weight: bold; }
.why { color: #666; font-style: italic; }
.desc { color: #777; font-size: 0.85em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3em 0.5em; text-align: left; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.num .why { white-space: normal; }
table.narrow { width: auto; min-width: 20em; }
.bar { position: relative; height: 0.8em; background: #eee; min-width: 8em; border-radius: 3px; }
.bar span { position: absolute; left: 0; top: 0; bottom: 0; background: #4a90d9;
            border-radius: 3px; }
img { max-width: 100%; height: auto; display: block; margin: 0.6em 0; }
.critical { color: #b00020; }
ul.advice li { margin: 0.3em 0; }
.rules { display: flex; gap: 1em; flex-wrap: wrap; align-items: flex-start; margin: 0.6em 0; }
.rules .rule { flex: 1 1 20em; border: 1px solid #ddd; border-radius: 4px; padding: 0 0.8em; }
.rules .lc-cusum { border-color: #4a90d9; border-width: 2px; }
.rules h3 { font-size: 1em; margin: 0.6em 0 0.3em; }
.rules ul { padding-left: 1.2em; margin: 0.3em 0 0.6em; }
footer { margin-top: 3em; color: #888; font-size: 0.85em; }
"""


def esc(value: object) -> str:
    """Text for HTML (also safe inside attribute values)."""
    return html.escape(str(value), quote=True)


def img(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    cls: str = "",
    numeric: Sequence[int] = (),
) -> str:
    """A table; cells are given as HTML (escape them with :func:`esc` first); the headers
    of the columns numbered in ``numeric`` are right-aligned over their numbers."""
    num = ' class="num"'
    head = "".join(f"<th{num if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    c = f' class="{esc(cls)}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def td(text: str, numeric: bool = False, raw: bool = False) -> str:
    """A cell; ``raw`` for HTML that is already safe."""
    c = ' class="num"' if numeric else ""
    return f"<td{c}>{text if raw else esc(text)}</td>"


def verdict(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def verdict_of(word: str) -> str:
    """A verdict word ("PASS", "FAIL", "INCOMPLETE", "EMPTY") in its colour."""
    cls = {"PASS": "pass", "FAIL": "fail"}.get(word, "incomplete")
    return f'<span class="{cls}">{esc(word)}</span>'


def words(identifier: str) -> str:
    """An event kind or cue rule as words: "back_wall" reads "back wall"."""
    return identifier.replace("_", " ")


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body>\n{body}\n<footer>procsim {esc(__version__)}</footer>\n</body></html>\n"
    )
