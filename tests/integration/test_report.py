"""--report FILE.html end to end: a real coordinator (embedded target-server
and agent) writes the page, and headless Chromium draws it.

The page is checked as text first (self-contained: nothing that loads
anything; every benchmark there), then as pixels: Chromium takes a
screenshot, which is decoded here with zlib and struct alone, and the chart
area must hold the benchmarks' colours and many distinct colours in all —
a page whose SVG failed to render is white there.

Debian's `chromium` package provides the browser (scripts/install-deps.sh);
without it the screenshot test is skipped with a message saying so.  The
last screenshot and page are kept in $FB_BIN_DIR/test_report/ for a look.
"""

import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

import fbtest

COMMANDS = ["threads-reuse -r 20 -c 100", "async-for -r 20 --connections 100"]
# report.c's first two benchmark colours (Tableau 10 blue and orange)
BENCH_COLORS = [(0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B)]
WIDTH, HEIGHT = 1280, 2000
CHROMIUM_TIMEOUT = 90.0
KEEP_DIR = os.path.join(fbtest.BIN_DIR, "test_report")


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_argv(path, user_dir, shot, url):
    """Headless, offline, and quiet: no sandbox (root in CI), no GPU, no
    background traffic of any kind."""
    return [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--disable-extensions", "--mute-audio", f"--user-data-dir={user_dir}",
            f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url]


# ---- PNG decoding (stdlib only) ---------------------------------------------

def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}, "
                         f"interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows, i = [], 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                line[x] = (line[x] + _paeth(a, b, c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def near(c, want, tol=6):
    return all(abs(a - b) <= tol for a, b in zip(c, want))


class ReportTest(fbtest.FbTestCase):

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbreport-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.html_path = os.path.join(self.dir, "r.html")

    def run_coordinator(self):
        argv = [fbtest.binary("coordinator"), "--matrix", "threads-reuse,async-for", "-r", "20",
                "--runs", "3", "-w", "0", "--report", "r.html", "--export-json", "r.json"]
        result = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                capture_output=True, env=fbtest.sanitizer_env(),
                                timeout=60 * fbtest.SLOW)
        err = result.stderr.decode(errors="replace")
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"coordinator reported '{marker}':\n{err[-6000:]}")
        self.assertEqual(result.returncode, 0, f"stdout:\n{result.stdout.decode()}\n"
                                               f"stderr:\n{err[-4000:]}")
        # a pipe is not a TTY: no progress line, no carriage return
        self.assertNotIn(b"\r", result.stdout)
        self.assertNotIn(b"Current estimate", result.stdout)
        with open(self.html_path, encoding="utf-8") as f:
            return f.read()

    def test_page(self):
        """The page: complete, every benchmark, self-contained, written atomically."""
        html = self.run_coordinator()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertTrue(html.endswith("</html>\n"))
        self.assertEqual([n for n in os.listdir(self.dir) if n.endswith(".tmp")], [])
        for cmd in COMMANDS:
            self.assertIn(f"<code>{cmd}</code>", html)
        for section in ("summary", "time", "latency", "hosts"):
            self.assertIn(f'<section id="{section}">', html)
        self.assertIn("times faster than", html)
        self.assertEqual(html.count("<polyline"), 2)  # one latency curve per benchmark
        self.assertNotRegex(html, r"(?i)https?://")
        self.assertNotRegex(html, r"(?i)<(script|link|img|iframe|object|embed)\b")
        self.assertNotRegex(html, r"(?i)\b(src|href)\s*=")
        self.assertNotRegex(html, r"(?i)url\(|@import")

    def test_screenshot(self):
        """Headless Chromium draws the charts: the benchmarks' colours are there."""
        chromium = chromium_binary()
        if chromium is None:
            self.skipTest("chromium not installed (apt-get install chromium)")
        self.run_coordinator()
        shot = os.path.join(self.dir, "shot.png")
        user_dir = os.path.join(self.dir, "chromium-profile")
        env = dict(os.environ, HOME=self.dir)
        try:
            result = subprocess.run(
                chromium_argv(chromium, user_dir, shot, "file://" + self.html_path),
                stdin=subprocess.DEVNULL, capture_output=True, env=env,
                timeout=CHROMIUM_TIMEOUT, start_new_session=True)
        except subprocess.TimeoutExpired:
            self.fail(f"chromium took more than {CHROMIUM_TIMEOUT:.0f} s")
        self.assertTrue(os.path.exists(shot),
                        f"no screenshot; chromium exit {result.returncode}, stderr:\n"
                        f"{result.stderr.decode(errors='replace')[-3000:]}")
        with open(shot, "rb") as f:
            data = f.read()
        os.makedirs(KEEP_DIR, exist_ok=True)
        shutil.copy(shot, os.path.join(KEEP_DIR, "shot.png"))
        shutil.copy(self.html_path, os.path.join(KEEP_DIR, "r.html"))
        self.check_pixels(*decode_png(data))

    def check_pixels(self, width, height, rows):
        self.assertEqual((width, height), (WIDTH, HEIGHT))
        # The charts lie between the summary and the host table: the band
        # from 300 px down to 1500 px holds the box plot and the curves.
        band = [c for row in rows[300:1500] for c in row[::2]]
        non_white = sum(1 for c in band if min(c) < 235)
        distinct = len(set(band))
        where = f"(kept in {KEEP_DIR})"
        self.assertGreater(non_white / len(band), 0.02,
                           f"the chart area is nearly blank {where}")
        self.assertGreater(distinct, 100, f"only {distinct} colours in the chart area {where}")
        for color in BENCH_COLORS:
            hits = sum(1 for c in band if near(c, color))
            self.assertGreater(hits, 150, f"benchmark colour #{bytes(color).hex()} drawn in "
                                          f"only {hits} pixels {where}")


if __name__ == "__main__":
    unittest.main()
