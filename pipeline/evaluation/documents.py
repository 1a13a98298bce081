"""Reports as a list of blocks rendered twice: Markdown that links its PNGs, and a self-contained
HTML page that embeds them as base64 (mail it, attach it to an MLflow run, open it offline).

Shared by the evaluation report, the drift report and the feedback report, so every report the
project writes looks and renders the same way.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    kind: str  # h | p | table | img | details_start (a heading in Markdown) | details_end
    text: str = ""
    level: int = 2
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for blk in blocks:
        if blk.kind == "h":
            lines += ["#" * blk.level + " " + blk.text, ""]
        elif blk.kind == "details_start":
            lines += ["## " + blk.text, ""]
        elif blk.kind == "p":
            lines += [blk.text, ""]
        elif blk.kind == "table":
            lines.append("| " + " | ".join(_md_cell(h) for h in blk.headers) + " |")
            lines.append("|" + "---|" * len(blk.headers))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in blk.rows]
            lines.append("")
        elif blk.kind == "img":
            lines += [f"![{blk.headers[0]}]({blk.text})", ""]
    return "\n".join(lines)


def _inline_md(text: str) -> str:
    """The two inline marks the report uses (**bold**, `code`) as HTML, everything else escaped."""
    out, parts = [], html.escape(text).split("`")
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
        else:
            bold = part.split("**")
            out.append("".join(f"<b>{s}</b>" if j % 2 else s for j, s in enumerate(bold)))
    return "".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.2em;font-size:0.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2} img{max-width:100%;display:block;margin:0.5em 0 1.5em}
details{margin:1em 0;border:1px solid #ddd;padding:0.3em 1em} summary{cursor:pointer;font-weight:600}
code{background:#f4f4f4;padding:0 3px}
"""


def render_html(blocks: list[Block], image_dir: Path, title: str) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"]
    parts.append(f"<style>{_CSS}</style></head><body>")
    for blk in blocks:
        if blk.kind == "h":
            parts.append(f"<h{blk.level}>{_inline_md(blk.text)}</h{blk.level}>")
        elif blk.kind == "p":
            parts.append(f"<p>{_inline_md(blk.text)}</p>")
        elif blk.kind == "table":
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in blk.headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline_md(str(c))}</td>" for c in row) + "</tr>" for row in blk.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif blk.kind == "img":
            data = base64.b64encode((image_dir / blk.text).read_bytes()).decode("ascii")
            alt = html.escape(blk.headers[0])
            parts.append(
                f"<figure><img alt='{alt}' src='data:image/png;base64,{data}'><figcaption>{alt}</figcaption></figure>"
            )
        elif blk.kind == "details_start":
            parts.append(f"<details><summary>{html.escape(blk.text)}</summary>")
        elif blk.kind == "details_end":
            parts.append("</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_documents(blocks: list[Block], output_dir: Path, stem: str, title: str) -> tuple[Path, Path]:
    """<stem>.md and the self-contained <stem>.html in output_dir (images: paths relative to it)."""
    md_path, html_path = output_dir / f"{stem}.md", output_dir / f"{stem}.html"
    md_path.write_text(render_markdown(blocks), encoding="utf-8")
    html_path.write_text(render_html(blocks, output_dir, title), encoding="utf-8")
    return md_path, html_path
