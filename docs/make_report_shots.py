"""Screenshots of the report for docs/cli.md: docs/img/report_*.png.

    python docs/make_report_shots.py                      # solve the shipped default, shoot its report
    python docs/make_report_shots.py --results results/x  # shoot the report of a results folder

Solves the instance with ``rechain solve --report --out`` (into a temporary folder), opens
``report/report.html`` in headless Chromium (``/usr/bin/chromium``, or ``--chromium``) and
saves one picture a part of the page: the header, the Sankey, capacity, prices and policies. The page is
drawn once in a window as tall as itself, then cut at the section headings (measured in the
same browser); the blank space under a part is cut and the colours reduced to a palette, so
each file stays small. Not run by the
tests (it needs Chromium and takes a minute); rerun it when the report changes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1440  # wide enough for the Sankey (1,296 px) beside the page's margins

#: name -> the heading the picture starts at (None: the top of the page) and the one it stops at
SHOTS = {
    "header": (None, "sec-sankey"),
    "sankey": ("sec-sankey", "sec-capacity"),
    "capacity": ("sec-capacity", "sec-utilisation"),
    "prices": ("sec-prices", "sec-unmet"),
    "policies": ("sec-policies", "sec-costs"),
}

#: appended to a copy of the page: once every chart is drawn, where each section's heading is
MEASURE = """<script>
(function wait() {
  if (!(document.body && document.body.hasAttribute('data-charts-rendered'))) { setTimeout(wait, 50); return; }
  var tops = {};
  Array.prototype.forEach.call(document.querySelectorAll('h2[id]'), function (h) {
    tops[h.id] = Math.round(h.getBoundingClientRect().top + window.scrollY);
  });
  tops['end'] = Math.round(document.documentElement.scrollHeight);
  document.body.setAttribute('data-section-tops', JSON.stringify(tops));
})();
</script>"""


def chromium(exe: str, args: list[str], profile: Path) -> subprocess.CompletedProcess:
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--hide-scrollbars",
            "--force-device-scale-factor=1"]
    r = subprocess.run(base + args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit(f"chromium failed: {r.stderr[-2000:]}")
    return r


def section_tops(exe: str, page: Path, tmp: Path, height: int) -> dict[str, int]:
    """Where each section heading of ``page`` starts, in pixels from the top, drawn at WIDTH."""
    import html
    import json
    import re

    probe = tmp / "probe.html"
    text = page.read_text(encoding="utf-8")
    i = text.rindex("</body>")
    probe.write_text(text[:i] + MEASURE + text[i:], encoding="utf-8")
    dom = chromium(exe, [f"--window-size={WIDTH},{height}", "--dump-dom", probe.resolve().as_uri()], tmp / "profile-probe").stdout
    m = re.search(r'data-section-tops="([^"]*)"', dom)
    if not m:
        raise SystemExit(f"{page}: the charts did not finish drawing in chromium")
    return json.loads(html.unescape(m.group(1)))


def save_part(img, top: int, bottom: int, dst: Path, margin: int = 12) -> int:
    """Rows ``top``..``bottom`` of ``img`` without the blank rows under the content, in 256
    colours; returns the size of the file."""
    from PIL import Image, ImageChops

    part = img.crop((0, max(0, top - margin), img.width, bottom))
    bbox = ImageChops.difference(part, Image.new("RGB", part.size, (255, 255, 255))).getbbox()
    if bbox is None:
        raise SystemExit(f"{dst.name}: that part of the page is blank")
    part = part.crop((0, 0, part.width, min(part.height, bbox[3] + margin)))
    part.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(dst, optimize=True)
    return dst.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance", nargs="?", default=None, help="instance to solve (default: the shipped default)")
    ap.add_argument("--results", type=Path, help="a results folder with a report/ (no solve)")
    ap.add_argument("--out-dir", type=Path, default=IMG, help=f"where the PNGs go (default: {IMG})")
    ap.add_argument("--chromium", default=CHROMIUM)
    a = ap.parse_args(argv)
    if not shutil.which(a.chromium):
        print(f"error: {a.chromium} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    a.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rechain-shots-") as tmp:
        tmp = Path(tmp)
        results = a.results
        if results is None:
            results = tmp / "results"
            cmd = ["rechain", "solve", *([a.instance] if a.instance else []), "--report", "--out", str(results), "-q"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"error: {' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}", file=sys.stderr)
                return r.returncode
        from PIL import Image

        page = results / "report" / "report.html"
        tops = section_tops(a.chromium, page, tmp, 16000)  # taller than the page: no scroll bar, as below
        # one picture of the whole page, in a window as tall as the page (no scroll bar), then cut
        shot = tmp / "page.png"
        chromium(a.chromium, [f"--window-size={WIDTH},{tops['end']}", f"--screenshot={shot}", page.resolve().as_uri()],
                 tmp / "profile-shot")
        img = Image.open(shot).convert("RGB")
        for name, (first, stop) in SHOTS.items():
            dst = a.out_dir / f"report_{name}.png"
            size = save_part(img, tops[first] if first else 0, tops[stop], dst)
            print(f"wrote {dst} ({size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
