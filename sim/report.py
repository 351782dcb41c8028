"""The comparison report: report.md, and report.html with the figures embedded.

Both are rendered from the same content (headings, paragraphs, tables and figures), so they
say the same thing; the HTML file is self-contained for handing over.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Report:
    """An ordered list of blocks: ("h", text), ("p", text), ("table", df), ("img", path)."""

    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Add a section heading."""
        self.blocks.append(("h", text))

    def para(self, text: str) -> None:
        """Add a paragraph (plain text; ``**bold**`` is kept in Markdown only)."""
        self.blocks.append(("p", text))

    def table(self, df: pd.DataFrame) -> None:
        """Add a table (its index is shown if named)."""
        self.blocks.append(("table", df))

    def figure(self, path: Path, caption: str) -> None:
        """Add a PNG figure with a caption."""
        self.blocks.append(("img", (path, caption)))

    def to_markdown(self, base: Path) -> str:
        """Render as Markdown; figure links are relative to ``base``."""
        out = [f"# {self.title}", ""]
        for kind, item in self.blocks:
            if kind == "h":
                out += [f"## {item}", ""]
            elif kind == "p":
                out += [str(item), ""]
            elif kind == "table":
                out += [_markdown_table(item), ""]
            else:
                path, caption = item
                out += [f"![{caption}]({Path(path).relative_to(base)})", "", f"*{caption}*", ""]
        return "\n".join(out)

    def to_html(self) -> str:
        """Render as one self-contained HTML page (figures inlined as base64 PNG)."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for kind, item in self.blocks:
            if kind == "h":
                body.append(f"<h2>{html.escape(str(item))}</h2>")
            elif kind == "p":
                text = html.escape(str(item)).replace("**", "")
                body.append(f"<p>{text}</p>")
            elif kind == "table":
                body.append(
                    item.to_html(
                        border=0,
                        classes="t",
                        index=item.index.name is not None,
                        na_rep="n/a",
                        escape=True,
                    )
                )
            else:
                path, caption = item
                data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img alt="{html.escape(caption)}" '
                    f'src="data:image/png;base64,{data}"/>'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        style = (
            "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
            "padding:0 1rem;line-height:1.5;color:#222}"
            "table.t{border-collapse:collapse;margin:1rem 0;font-size:.95rem}"
            "table.t th,table.t td{padding:.3rem .7rem;border-bottom:1px solid #ddd;"
            "text-align:right}table.t th:first-child,table.t td:first-child{text-align:left}"
            "figure{margin:1.5rem 0}img{max-width:100%}figcaption{color:#555;"
            "font-size:.9rem}"
        )
        return (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )


def _markdown_table(df: pd.DataFrame) -> str:
    show_index = df.index.name is not None
    cols = ([df.index.name] if show_index else []) + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = ([str(idx)] if show_index else []) + [
            "n/a" if (isinstance(v, float) and pd.isna(v)) else str(v) for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
