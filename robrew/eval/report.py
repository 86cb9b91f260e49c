"""One self-contained HTML page: numbers, plots and videos embedded as base64."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from robrew.io import write_text_atomic


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_report(path: Path, title: str, summary: dict, plots: list[Path], videos: list[Path]) -> Path:
    """Writes ``path`` (atomically) with the summary table, the PNG plots and MP4 videos inlined."""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(v if isinstance(v, str) else json.dumps(v))}</td></tr>"
        for k, v in summary.items()
    )
    figs = "".join(
        f'<figure><img src="data:image/png;base64,{_b64(p)}"><figcaption>{p.stem}</figcaption></figure>' for p in plots
    )
    vids = "".join(
        "<figure><video controls loop muted "
        f'src="data:video/mp4;base64,{_b64(v)}"></video><figcaption>{v.stem}</figcaption></figure>'
        for v in videos
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}}figure{{display:inline-block;margin:8px}}
img,video{{max-width:520px}}</style></head><body><h1>{html.escape(title)}</h1>
<p>Success is the environment's ground truth; the model reward is shown, never trusted.</p>
<table>{rows}</table><h2>Plots</h2>{figs}<h2>Videos</h2>{vids or "<p>(none recorded)</p>"}</body></html>"""
    return write_text_atomic(path, page)
