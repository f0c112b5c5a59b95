#!/usr/bin/env python3
"""report.py - turn one ssm_bench run (BENCH.md JSON) into a results page, or validate it.

    python3 bench/report.py validate RUN.json [--allow-failed-checks]
    python3 bench/report.py render RUN.json [--out DIR]     (default DIR: results/<machine slug>)
    python3 bench/report.py stalls PAGE.sass.csv ...          (Nsight Compute source pages)

render writes DIR/README.md and a copy of the raw JSON (DIR/bench.json). For a CPU run
(ssm_bench): experiment details, issue 5's targets judged from the run, the measured ceilings,
one table per op (cold or warm data shown per result), DIR/roofline.svg, DIR/bandwidth.svg,
DIR/scaling_L.svg and DIR/scaling_T.svg. For a GPU run (bench_cuda: machine.gpu set or backend
"cuda"): GPU experiment details, the GPU ceilings, issue 6's targets with the gap and the bf16
error ratio, the roofline (each result against its own FLOP ceiling) and one results table.
A hand-written DIR/NOTES.md (profiles, causes) is included verbatim under "Notes". The charts
are plain SVG written here by hand; Python standard library only, so the page can be redrawn
anywhere from the JSON.

stalls summarises the per-instruction SASS page of an Nsight Compute profile (`ncu --import R
--page source --print-source sass --csv`, as bench/device_gpu.sh profile writes it): warp
instructions executed, the share of each stall reason in the warp-state samples, the opcodes
that take the most samples and instructions, and the instructions with the most samples.
"""
import argparse
import collections
import csv
import json
import math
import os
import shutil
import sys

# ------------------------------------------------------------------ validation

REQUIRED = {
    "top": ["schema", "machine", "build", "ceilings", "results"],
    "machine": ["slug", "cpu_model", "cores", "threads_per_core", "numa_nodes", "caches", "gpu"],
    "build": ["compiler", "flags", "git_commit", "date"],
    "ceilings": ["triad_gbs_1t", "triad_gbs_all", "fma_gflops_1t", "fma_gflops_all",
                 "exp_per_s_1t", "gpu_copy_gbs", "gpu_fp32_tflops", "gpu_bf16_mma_tflops"],
    "result": ["name", "op", "backend", "dtype", "threads", "shape", "time_s", "flops", "bytes",
               "exps", "gflops", "gbs", "roof_gflops", "pct_roof", "bound", "check"],
    "time_s": ["median", "min", "max", "reps"],
    "check": ["passed", "rel_l2", "max_err"],
}
OPS = {"selective_scan", "state_update", "ssd", "conv1d", "hsa_select", "hsa_attention"}
NUMERIC = ["flops", "bytes", "exps", "gflops", "gbs", "roof_gflops", "pct_roof"]


def is_gpu(run):
    """A GPU run (bench_cuda): machine.gpu is set or a result ran on the cuda backend."""
    m = run.get("machine") or {}
    return bool(m.get("gpu")) or any(r.get("backend") == "cuda" for r in run.get("results") or [])


def _is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def validate(run, allow_failed_checks=False):
    """Returns (errors, warnings): lists of strings. An empty error list means the file has every
    field BENCH.md names, with sane values."""
    errors, warnings = [], []

    def need(obj, keys, where):
        if not isinstance(obj, dict):
            errors.append("%s: not an object" % where)
            return False
        missing = [k for k in keys if k not in obj]
        for k in missing:
            errors.append("%s: missing field '%s'" % (where, k))
        return not missing

    if not need(run, REQUIRED["top"], "run"):
        return errors, warnings
    if run["schema"] != 1:
        errors.append("run: schema is %r, expected 1" % run["schema"])
    need(run["machine"], REQUIRED["machine"], "machine")
    need(run["build"], REQUIRED["build"], "build")
    if need(run["ceilings"], REQUIRED["ceilings"], "ceilings"):
        for k in ["triad_gbs_1t", "triad_gbs_all", "fma_gflops_1t", "fma_gflops_all", "exp_per_s_1t"]:
            if not (_is_num(run["ceilings"][k]) and run["ceilings"][k] > 0):
                errors.append("ceilings.%s: expected a positive number, got %r" % (k, run["ceilings"][k]))
    results = run["results"]
    if not isinstance(results, list) or not results:
        errors.append("results: expected a non-empty list")
        return errors, warnings
    seen = set()
    cpu_run = not is_gpu(run)
    for i, r in enumerate(results):
        where = "results[%d]" % i
        if not need(r, REQUIRED["result"], where):
            continue
        where = "results[%d] (%s %s %s T=%s)" % (i, r["name"], r["backend"], r["dtype"], r["threads"])
        key = (r["name"], r["backend"], r["dtype"], r["threads"])
        if key in seen:
            errors.append("%s: duplicate result" % where)
        seen.add(key)
        if r["op"] not in OPS:
            errors.append("%s: unknown op %r" % (where, r["op"]))
        if not isinstance(r["shape"], dict) or not r["shape"]:
            errors.append("%s: shape must be a non-empty object" % where)
        if not (isinstance(r["threads"], int) and r["threads"] >= 1):
            errors.append("%s: threads must be a positive integer" % where)
        if need(r["time_s"], REQUIRED["time_s"], where + ".time_s"):
            t = r["time_s"]
            if not all(_is_num(t[k]) for k in ["median", "min", "max"]) or not t["reps"] >= 1:
                errors.append("%s: time_s values must be numbers, reps >= 1" % where)
            elif not (0 < t["min"] <= t["median"] <= t["max"]):
                errors.append("%s: time_s must satisfy 0 < min <= median <= max" % where)
        for k in NUMERIC:
            if not _is_num(r[k]) or r[k] < 0:
                errors.append("%s: %s must be a non-negative number, got %r" % (where, k, r[k]))
        if r["bound"] not in ("flops", "exps", "bytes"):
            errors.append("%s: bound must be flops, exps or bytes, got %r" % (where, r["bound"]))
        if _is_num(r["pct_roof"]) and r["pct_roof"] > 100:
            warnings.append("%s: %.1f%% of roof (above 100: a count or a ceiling is wrong)"
                            % (where, r["pct_roof"]))
        if cpu_run and "cold" not in r:
            errors.append("%s: missing field 'cold' (CPU results say whether they ran cold)" % where)
        if "cold" in r and not isinstance(r["cold"], bool):
            errors.append("%s: cold must be true or false, got %r" % (where, r["cold"]))
        if r.get("cold") and r.get("level") not in (None, "DRAM"):
            errors.append("%s: a cold result must be judged against DRAM, not %r" % (where, r.get("level")))
        if need(r["check"], REQUIRED["check"], where + ".check"):
            c = r["check"]
            if not isinstance(c["passed"], bool):
                errors.append("%s: check.passed must be true or false" % where)
            elif not c["passed"]:
                msg = "%s: reference check FAILED: %s" % (where, c.get("reason", "?"))
                (warnings if allow_failed_checks else errors).append(msg)
    return errors, warnings


# ------------------------------------------------------------------ formatting helpers

OP_ORDER = ["selective_scan", "ssd", "state_update", "conv1d", "hsa_attention", "hsa_select"]
OP_COLORS = {"selective_scan": "#1f77b4", "ssd": "#d62728", "state_update": "#2ca02c",
             "conv1d": "#9467bd", "hsa_attention": "#ff7f0e", "hsa_select": "#8c564b"}
KIND_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
               "#17becf", "#7f7f7f", "#bcbd22"]


def base_name(name):
    return name.split("@", 1)[0]


def fmt_bytes(n):
    if n is None:
        return "?"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            v = n / scale
            return ("%.0f %s" if v == int(v) else "%.1f %s") % (v, unit)
    return "%d B" % n


def fmt_num(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if x == 0:
        return "0"
    mag = abs(x)
    if 1e3 <= mag < 1e7:
        return "%.0f" % x
    if 1e-3 <= mag < 1e5:
        s = ("%%.%dg" % digits) % x
        return s
    return ("%%.%de" % (digits - 1)) % x


def fmt_time(seconds):
    if seconds >= 1:
        return "%.3f s" % seconds
    if seconds >= 1e-3:
        return "%.3f ms" % (seconds * 1e3)
    return "%.2f µs" % (seconds * 1e6)


def shape_text(shape):
    """B=8 L=4096 ... dt_softplus z: a true flag shows as its name, a false one is left out."""
    parts = []
    for k, v in shape.items():
        if v is True:
            parts.append(k)
        elif v is False or v is None:
            continue
        else:
            parts.append("%s=%s" % (k, v))
    return " ".join(parts)


def check_text(c):
    if not c.get("passed"):
        return "**FAIL** " + c.get("reason", "")
    ratio = c.get("floor_ratio")
    if ratio is not None:
        return "pass, %.2f× floor" % ratio
    return "pass, rel_l2 %s" % fmt_num(c.get("rel_l2"), 2)


NOISY_SPREAD = 2.0   # max / min over the repetitions above this: something else used the machine


def noisy(r):
    t = r["time_s"]
    return t["reps"] > 1 and t["max"] > NOISY_SPREAD * t["min"]


def data_text(r):
    """cold (copies rotated past the LLC, judged against DRAM) or warm (resident in cache)."""
    if r.get("cold"):
        return "cold ×%d" % r["cold_copies"] if r.get("cold_copies", 1) > 1 else "cold"
    if r.get("cold_note"):
        return "warm (cap)"
    return "warm"


def bound_text(r):
    return "bytes (%s)" % r.get("level", "?") if r["bound"] == "bytes" else r["bound"]


# ------------------------------------------------------------------ SVG

class Svg:
    """A minimal SVG writer: plot-area coordinates, log or linear axes."""

    def __init__(self, width, height, left=70, right=20, top=40, bottom=55):
        self.w, self.h = width, height
        self.l, self.r, self.t, self.b = left, width - right, top, height - bottom
        self.items = []
        self.xlog = self.ylog = True
        self.x0 = self.x1 = self.y0 = self.y1 = 1

    def set_axes(self, x0, x1, y0, y1, xlog=True, ylog=True):
        self.x0, self.x1, self.y0, self.y1, self.xlog, self.ylog = x0, x1, y0, y1, xlog, ylog

    def px(self, x):
        if self.xlog:
            f = (math.log10(x) - math.log10(self.x0)) / (math.log10(self.x1) - math.log10(self.x0))
        else:
            f = (x - self.x0) / (self.x1 - self.x0)
        return self.l + f * (self.r - self.l)

    def py(self, y):
        if self.ylog:
            f = (math.log10(y) - math.log10(self.y0)) / (math.log10(self.y1) - math.log10(self.y0))
        else:
            f = (y - self.y0) / (self.y1 - self.y0)
        return self.b - f * (self.b - self.t)

    def add(self, s):
        self.items.append(s)

    @staticmethod
    def esc(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def text(self, x, y, s, size=12, anchor="start", color="#222", weight="normal", rotate=None):
        tr = ' transform="rotate(%d %.1f %.1f)"' % (rotate, x, y) if rotate else ""
        self.add('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s" '
                 'font-weight="%s"%s>%s</text>' % (x, y, size, anchor, color, weight, tr, self.esc(s)))

    def line(self, x1, y1, x2, y2, color="#000", width=1.0, dash=None, opacity=1.0):
        d = ' stroke-dasharray="%s"' % dash if dash else ""
        self.add('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.2f" '
                 'stroke-opacity="%.2f"%s/>' % (x1, y1, x2, y2, color, width, opacity, d))

    def polyline(self, pts, color, width=1.5, dash=None):
        d = ' stroke-dasharray="%s"' % dash if dash else ""
        self.add('<polyline points="%s" fill="none" stroke="%s" stroke-width="%.2f"%s/>'
                 % (" ".join("%.1f,%.1f" % p for p in pts), color, width, d))

    def marker(self, x, y, shape, color, filled=True, size=5.0, title=None):
        fill = color if filled else "white"
        t = "<title>%s</title>" % self.esc(title) if title else ""
        if shape == "circle":
            self.add('<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s" stroke-width="1.5">%s</circle>'
                     % (x, y, size, fill, color, t))
        elif shape == "square":
            self.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s" stroke-width="1.5">%s</rect>'
                     % (x - size, y - size, 2 * size, 2 * size, fill, color, t))
        elif shape == "triangle":
            pts = [(x, y - size * 1.2), (x - size * 1.1, y + size * 0.8), (x + size * 1.1, y + size * 0.8)]
            self.add('<polygon points="%s" fill="%s" stroke="%s" stroke-width="1.5">%s</polygon>'
                     % (" ".join("%.1f,%.1f" % p for p in pts), fill, color, t))
        else:  # diamond
            pts = [(x, y - size * 1.3), (x - size, y), (x, y + size * 1.3), (x + size, y)]
            self.add('<polygon points="%s" fill="%s" stroke="%s" stroke-width="1.5">%s</polygon>'
                     % (" ".join("%.1f,%.1f" % p for p in pts), fill, color, t))

    def frame(self, title, xlabel, ylabel, xticks=None, yticks=None, xfmt=None):
        self.add('<rect x="0" y="0" width="%d" height="%d" fill="white"/>' % (self.w, self.h))
        for axis, log, lo, hi, ticks in (("x", self.xlog, self.x0, self.x1, xticks),
                                         ("y", self.ylog, self.y0, self.y1, yticks)):
            major, minor = ticks if ticks else log_ticks(lo, hi) if log else lin_ticks(lo, hi)
            for v in minor:
                if axis == "x":
                    self.line(self.px(v), self.t, self.px(v), self.b, "#eee")
                else:
                    self.line(self.l, self.py(v), self.r, self.py(v), "#eee")
            for v in major:
                if axis == "x":
                    self.line(self.px(v), self.t, self.px(v), self.b, "#ccc")
                    self.text(self.px(v), self.b + 16, (xfmt or tick_label)(v), 11, "middle")
                else:
                    self.line(self.l, self.py(v), self.r, self.py(v), "#ccc")
                    self.text(self.l - 6, self.py(v) + 4, tick_label(v), 11, "end")
        self.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#444"/>'
                 % (self.l, self.t, self.r - self.l, self.b - self.t))
        self.text(self.w / 2, 22, title, 15, "middle", weight="bold")
        self.text((self.l + self.r) / 2, self.h - 14, xlabel, 12, "middle")
        self.text(16, (self.t + self.b) / 2, ylabel, 12, "middle", rotate=-90)

    def clip_begin(self):
        self.add('<clipPath id="plot"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></clipPath>'
                 % (self.l, self.t, self.r - self.l, self.b - self.t))
        self.add('<g clip-path="url(#plot)">')

    def clip_end(self):
        self.add('</g>')

    def write(self, path):
        with open(path, "w") as f:
            f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
                    'viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n'
                    % (self.w, self.h, self.w, self.h))
            f.write("\n".join(self.items))
            f.write("\n</svg>\n")


def log_ticks(lo, hi):
    major, minor = [], []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in range(1, 10):
            v = m * 10 ** e
            if lo * 0.9999 <= v <= hi * 1.0001:
                (major if m == 1 else minor).append(v)
        e += 1
    return major, minor


def lin_ticks(lo, hi):
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 1
    for m in (1, 2, 5, 10):
        if span / (step * m) <= 8:
            step *= m
            break
    v = math.ceil(lo / step) * step
    major = []
    while v <= hi + 1e-9:
        major.append(v)
        v += step
    return major, []


def tick_label(v):
    if v == 0:
        return "0"
    v = float("%.12g" % v)
    if v >= 1e6 or v < 1e-3:
        e = int(round(math.log10(v)))
        if abs(v - 10 ** e) < 1e-9 * v:
            return "1e%d" % e
        return "%g" % v
    if v >= 1024 and v == int(v) and (int(v) & (int(v) - 1)) == 0:
        return "%dK" % (v // 1024)
    return "%g" % v


def bytes_label(v):
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if v >= scale:
            return "%g%s" % (v / scale, unit)
    return "%g" % v


def decade_bounds(values, pad=1.0):
    lo, hi = min(values), max(values)
    return 10 ** math.floor(math.log10(lo / pad)), 10 ** math.ceil(math.log10(hi * pad))


# ------------------------------------------------------------------ charts

DTYPE_SHAPES = {"f32": "circle", "f16": "triangle", "bf16": "square"}


def ceiling_rows(run):
    by = run["ceilings"].get("by_threads") or []
    return sorted(by, key=lambda r: r["threads"])


def roofline_svg(run, path):
    results = [r for r in run["results"] if not r.get("sweep")]
    if not results:
        return False
    rows = ceiling_rows(run)
    allc = rows[-1] if rows else None
    one = rows[0] if rows else None
    ai = [r["flops"] / r["bytes"] for r in results if r["bytes"] > 0]
    perf = [r["gflops"] for r in results if r["gflops"] > 0]
    peak = max([x["fma_gflops"] for x in rows] or [max(perf)])
    x0, x1 = decade_bounds(ai + [0.05, 100])
    y0, y1 = decade_bounds(perf + [peak])
    s = Svg(980, 640, right=250)
    s.set_axes(x0, x1, y0, y1)
    s.frame("Roofline: %s (%s)" % (run["machine"]["cpu_model"], run["machine"]["slug"]),
            "arithmetic intensity (FLOP / compulsory byte)", "GFLOP/s")
    s.clip_begin()
    level_dash = {"L1": "2,3", "L2": "6,3", "L3": "10,4", "L4": "12,4", "DRAM": None}
    for row, width, color, label in ((allc, 2.0, "#333", "%d cores" % (allc["threads"] if allc else 0)),
                                     (one, 1.2, "#999", "1 thread")):
        if row is None or (row is one and len(rows) == 1):
            continue
        fma = row["fma_gflops"]
        s.line(s.px(x0), s.py(fma), s.px(x1), s.py(fma), color, width)
        for tr in row["triad"]:
            bw = tr["gbs"]
            if not bw:
                continue
            knee = fma / bw
            xs = max(x0, y0 / bw)
            s.line(s.px(xs), s.py(bw * xs), s.px(min(knee, x1)), s.py(min(fma, bw * x1)),
                   color, width, level_dash.get(tr["level"]))
    # each result: a faint stem from the point up to its own roof, then the point
    for r in results:
        x = r["flops"] / r["bytes"]
        if r["roof_gflops"] > r["gflops"]:
            s.line(s.px(x), s.py(r["gflops"]), s.px(x), s.py(min(r["roof_gflops"], y1)),
                   OP_COLORS.get(r["op"], "#000"), 1.0, "1,2", 0.6)
    for r in results:
        x = r["flops"] / r["bytes"]
        multi = r["threads"] > 1
        s.marker(s.px(x), s.py(r["gflops"]), DTYPE_SHAPES.get(r["dtype"], "diamond"),
                 OP_COLORS.get(r["op"], "#000"), filled=multi,
                 size=3.2 if r["backend"] == "scalar" else 5.5,
                 title="%s %s %s T=%d: %.2f GFLOP/s, %.1f%% of roof"
                 % (r["name"], r["backend"], r["dtype"], r["threads"], r["gflops"], r["pct_roof"]))
    s.clip_end()
    # ceiling labels at the right edge of the plot
    if allc:
        s.text(s.r - 4, s.py(allc["fma_gflops"]) - 5, "FMA f32 %.0f GFLOP/s (%d cores)"
               % (allc["fma_gflops"], allc["threads"]), 10, "end", "#333")
    if one and len(rows) > 1:
        y_one = s.py(one["fma_gflops"])
        crowded = allc and abs(y_one - s.py(allc["fma_gflops"])) < 16
        s.text(s.r - 4, y_one + (13 if crowded else -5), "FMA f32 %.0f GFLOP/s (1 thread)"
               % one["fma_gflops"], 10, "end", "#888")
    # legend
    lx, ly = s.r + 18, s.t + 6
    s.text(lx, ly, "op (colour)", 12, weight="bold")
    ly += 18
    ops = [o for o in OP_ORDER if any(r["op"] == o for r in results)]
    for o in ops:
        s.marker(lx + 6, ly - 4, "circle", OP_COLORS[o], True, 5)
        s.text(lx + 18, ly, o, 11)
        ly += 17
    ly += 8
    s.text(lx, ly, "dtype (marker)", 12, weight="bold")
    ly += 18
    for d in ("f32", "f16", "bf16"):
        if any(r["dtype"] == d for r in results):
            s.marker(lx + 6, ly - 4, DTYPE_SHAPES[d], "#555", True, 5)
            s.text(lx + 18, ly, d, 11)
            ly += 17
    ly += 8
    s.text(lx, ly, "threads", 12, weight="bold")
    ly += 18
    s.marker(lx + 6, ly - 4, "circle", "#555", False, 5)
    s.text(lx + 18, ly, "1 thread (hollow)", 11)
    ly += 17
    s.marker(lx + 6, ly - 4, "circle", "#555", True, 5)
    s.text(lx + 18, ly, "all cores (filled)", 11)
    backends = sorted({r["backend"] for r in results})
    if "scalar" in backends and len(backends) > 1:
        ly += 25
        s.text(lx, ly, "backend (size)", 12, weight="bold")
        ly += 18
        s.marker(lx + 6, ly - 4, "circle", "#555", True, 3.2)
        s.text(lx + 18, ly, "scalar (small)", 11)
        ly += 17
        s.marker(lx + 6, ly - 4, "circle", "#555", True, 5.5)
        s.text(lx + 18, ly, ", ".join(b for b in backends if b != "scalar") + " (large)", 11)
    ly += 25
    s.text(lx, ly, "ceilings (measured)", 12, weight="bold")
    ly += 18
    for lvl in [t["level"] for t in (allc or {}).get("triad", [])]:
        s.line(lx, ly - 4, lx + 26, ly - 4, "#333", 2.0, level_dash.get(lvl))
        bw = next((t["gbs"] for t in allc["triad"] if t["level"] == lvl), 0)
        s.text(lx + 32, ly, "%s triad %.0f GB/s" % (lvl, bw or 0), 11)
        ly += 16
    s.text(lx, ly + 4, "dark: all cores, grey: 1 thread", 10, color="#666")
    ly += 20
    s.text(lx, ly, "dotted stem: up to the result's", 10, color="#666")
    s.text(lx, ly + 13, "own roof (incl. exp ceiling)", 10, color="#666")
    s.write(path)
    return True


def bandwidth_svg(run, path):
    rows = [r for r in ceiling_rows(run) if r.get("triad_sweep")]
    if not rows:
        return False
    pts = [(p["ws_bytes"], p["gbs"]) for r in rows for p in r["triad_sweep"] if p.get("gbs")]
    x0, x1 = min(p[0] for p in pts) / 1.5, max(p[0] for p in pts) * 1.5
    y0, y1 = decade_bounds([p[1] for p in pts])
    s = Svg(900, 560, right=230)
    s.set_axes(x0, x1, y0, y1)
    xt = [v for v in (2 ** e for e in range(10, 45, 2)) if x0 <= v <= x1]
    s.frame("Bandwidth vs working set (%s)" % run["machine"]["slug"],
            "working set of all threads together (bytes)", "GB/s", xticks=(xt, []), xfmt=bytes_label)
    # cache capacities of one core / of all cores, as hwloc reports them
    cores = run["machine"]["cores"]
    s.clip_begin()
    for c in run["machine"].get("caches", []):
        if c.get("type") == "instruction":
            continue
        one = c["size_bytes"]
        allc = c["size_bytes"] * min(c.get("instances", 1), max(1, cores // max(1, c.get("cores_sharing", 1))))
        for size, color in ((one, "#bbb"), (allc, "#666")):
            if x0 < size < x1:
                s.line(s.px(size), s.t, s.px(size), s.b, color, 1.0, "3,3")
        if x0 < one < x1:
            s.text(s.px(one) + 3, s.t + 14, "L%d" % c["level"], 10, color="#888")
    legend = []
    for i, r in enumerate(rows):
        color = KIND_COLORS[i % len(KIND_COLORS)]
        upd = [(s.px(p["ws_bytes"]), s.py(p["update_gbs"])) for p in r["triad_sweep"] if p.get("update_gbs")]
        if len(upd) > 1:
            s.polyline(upd, color, 1.2, "5,3")
        tri = [p for p in r["triad_sweep"] if p.get("gbs")]
        line = [(s.px(p["ws_bytes"]), s.py(p["gbs"])) for p in tri]
        s.polyline(line, color, 2.0)
        for p, q in zip(tri, line):
            s.marker(q[0], q[1], "circle", color, True, 3,
                     "T=%d, %s: triad %.1f GB/s, update %s GB/s" % (r["threads"], fmt_bytes(p["ws_bytes"]),
                                                                   p["gbs"], fmt_num(p.get("update_gbs"))))
        legend.append((color, "%d thread%s" % (r["threads"], "" if r["threads"] == 1 else "s")))
    s.clip_end()
    lx, ly = s.r + 18, s.t + 6
    s.text(lx, ly, "threads (pinned)", 12, weight="bold")
    ly += 20
    for color, label in legend:
        s.line(lx, ly - 4, lx + 24, ly - 4, color, 2.5)
        s.text(lx + 30, ly, label, 11)
        ly += 18
    ly += 10
    s.line(lx, ly - 4, lx + 24, ly - 4, "#555", 2.0)
    s.text(lx + 30, ly, "triad a=b+s*c", 10, color="#666")
    ly += 16
    s.line(lx, ly - 4, lx + 24, ly - 4, "#555", 1.2, "5,3")
    s.text(lx + 30, ly, "in-place a=s*a+b", 10, color="#666")
    ly += 16
    s.line(lx, ly - 4, lx + 24, ly - 4, "#bbb", 1.0, "3,3")
    s.text(lx + 30, ly, "cache size, one core", 10, color="#666")
    ly += 16
    s.line(lx, ly - 4, lx + 24, ly - 4, "#666", 1.0, "3,3")
    s.text(lx + 30, ly, "cache size, all cores", 10, color="#666")
    ly += 24
    for t in ("The roofs read these curves at", "each result's footprint (best", "figure at that size or larger).",
              "24 bytes counted per element;", "the in-place update has no", "write-allocate traffic."):
        s.text(lx, ly, t, 10, color="#666")
        ly += 13
    s.write(path)
    return True


def sweep_series(run, axis):
    """{canonical name: [(x, result)]} for the L or T sweep, with the canonical point that shares
    the sweep's backend, dtype and (for L) thread count."""
    series = {}
    sweeps = [r for r in run["results"] if r.get("sweep") == axis]
    for r in sweeps:
        series.setdefault(base_name(r["name"]), {"backend": r["backend"], "dtype": r["dtype"],
                                                  "threads": r["threads"], "points": []})
    for name, info in series.items():
        for r in run["results"]:
            if base_name(r["name"]) != name or r["backend"] != info["backend"] or r["dtype"] != info["dtype"]:
                continue
            if axis == "L" and r.get("sweep") in ("L", None) and r["threads"] == info["threads"]:
                info["points"].append((r["shape"].get("L"), r))
            if axis == "T" and r.get("sweep") in ("T", None):
                info["points"].append((r["threads"], r))
        info["points"].sort(key=lambda p: p[0])
    return series


def canonical_thread_series(run):
    """Speed vs threads per canonical name with the sweeps' backend/dtype, even without @T runs
    (a 2-core machine has only T=1 and T=all)."""
    series = {}
    for r in run["results"]:
        if r.get("sweep") in ("L", "warm"):
            continue
        name = base_name(r["name"])
        key = (name, r["backend"], r["dtype"])
        series.setdefault(key, []).append((r["threads"], r))
    best = {}
    for (name, backend, dtype), pts in series.items():
        if dtype != "f32":
            continue
        # the sweeps' backend: the one with @T / @L points, else the fastest at all cores
        score = max(p[1]["gflops"] for p in pts)
        if name not in best or score > best[name][0]:
            best[name] = (score, backend, sorted(pts, key=lambda p: p[0]))
    return {n: {"backend": b, "points": p} for n, (_, b, p) in best.items() if len(p) > 1}


def scaling_L_svg(run, path):
    series = sweep_series(run, "L")
    series = {k: v for k, v in series.items() if len(v["points"]) > 1}
    if not series:
        return False
    xs = [p[0] for v in series.values() for p in v["points"]]
    ts = [p[1]["time_s"]["median"] for v in series.values() for p in v["points"]]
    x0, x1 = decade_bounds(xs)
    x0, x1 = min(xs) / 1.5, max(xs) * 1.5
    y0, y1 = decade_bounds(ts)
    s = Svg(900, 560, right=230)
    s.set_axes(x0, x1, y0, y1)
    ticks = [2 ** e for e in range(0, 40) if x0 <= 2 ** e <= x1]
    s.frame("Time vs sequence length (%s)" % run["machine"]["slug"], "L (tokens)",
            "median time per call (s)", xticks=(ticks, []))
    s.clip_begin()
    lx, ly = s.r + 18, s.t + 6
    legend = []
    for i, (name, info) in enumerate(sorted(series.items())):
        color = KIND_COLORS[i % len(KIND_COLORS)]
        pts = [(s.px(x), s.py(r["time_s"]["median"])) for x, r in info["points"]]
        s.polyline(pts, color, 2.0)
        # a linear-in-L guide through the first point: bends away from it mean super-linear cost
        xa, ra = info["points"][0]
        xb = info["points"][-1][0]
        s.line(s.px(xa), s.py(ra["time_s"]["median"]), s.px(xb),
               s.py(ra["time_s"]["median"] * xb / xa), color, 1.0, "4,4", 0.5)
        for (x, r), p in zip(info["points"], pts):
            s.marker(p[0], p[1], "circle", color, True, 3.5,
                     "%s L=%d: %s, %.2f GFLOP/s" % (name, x, fmt_time(r["time_s"]["median"]), r["gflops"]))
        legend.append((color, "%s" % name, "%s %s T=%d" % (info["backend"], info["dtype"], info["threads"])))
    s.clip_end()
    s.text(lx, ly, "canonical shape, L varied", 12, weight="bold")
    ly += 20
    for color, name, sub in legend:
        s.line(lx, ly - 4, lx + 24, ly - 4, color, 2.5)
        s.text(lx + 30, ly, name, 11)
        s.text(lx + 30, ly + 13, sub, 10, color="#666")
        ly += 32
    s.line(lx, ly - 4, lx + 24, ly - 4, "#555", 1.0, "4,4")
    s.text(lx + 30, ly, "linear in L (guide)", 10, color="#666")
    s.write(path)
    return True


def scaling_T_svg(run, path):
    series = canonical_thread_series(run)
    for name, info in sweep_series(run, "T").items():
        if len(info["points"]) > 1:
            series[name] = info
    if not series:
        return False
    tmax = max(p[0] for v in series.values() for p in v["points"])
    speedups = []
    for info in series.values():
        base = next((r for t, r in info["points"] if t == 1), None)
        info["base"] = base
        if base:
            speedups += [base["time_s"]["median"] / r["time_s"]["median"] for _, r in info["points"]]
    if not speedups:
        return False
    s = Svg(900, 560, right=230)
    s.set_axes(0.8, tmax * 1.15, 0, max(tmax, max(speedups)) * 1.1, xlog=False, ylog=False)
    xt = sorted({p[0] for v in series.values() for p in v["points"]} | {1})
    s.frame("Speed-up vs library threads (%s)" % run["machine"]["slug"], "threads (pinned, one per core)",
            "speed-up over 1 thread", xticks=(xt, []))
    s.clip_begin()
    s.line(s.px(1), s.py(1), s.px(tmax), s.py(tmax), "#999", 1.2, "5,4")
    legend = []
    for i, (name, info) in enumerate(sorted(series.items())):
        if not info["base"]:
            continue
        color = KIND_COLORS[i % len(KIND_COLORS)]
        base_t = info["base"]["time_s"]["median"]
        pts = [(s.px(t), s.py(base_t / r["time_s"]["median"])) for t, r in info["points"]]
        s.polyline(pts, color, 2.0)
        for (t, r), p in zip(info["points"], pts):
            s.marker(p[0], p[1], "circle", color, True, 3.5,
                     "%s T=%d: %.2fx, %.2f GFLOP/s" % (name, t, base_t / r["time_s"]["median"], r["gflops"]))
        legend.append((color, name, "%s f32" % info["backend"]))
    s.clip_end()
    lx, ly = s.r + 18, s.t + 6
    s.text(lx, ly, "canonical shapes", 12, weight="bold")
    ly += 20
    for color, name, sub in legend:
        s.line(lx, ly - 4, lx + 24, ly - 4, color, 2.5)
        s.text(lx + 30, ly, name, 11)
        s.text(lx + 30, ly + 13, sub, 10, color="#666")
        ly += 32
    s.line(lx, ly - 4, lx + 24, ly - 4, "#999", 1.2, "5,4")
    s.text(lx + 30, ly, "ideal (linear)", 10, color="#666")
    s.write(path)
    return True


# ------------------------------------------------------------------ README

def experiment_details(run):
    m, b = run["machine"], run["build"]
    caches = []
    for c in m.get("caches", []):
        kind = {"data": "d", "instruction": "i"}.get(c.get("type"), "")
        share = "per core" if c.get("cores_sharing", 1) == 1 else "shared by %d cores" % c["cores_sharing"]
        caches.append("L%d%s %s x%d (%s)" % (c["level"], kind, fmt_bytes(c["size_bytes"]),
                                             c.get("instances", 1), share))
    feats = m.get("features", {})
    meth = run.get("method", {})
    lines = [
        ("CPU", "%s (%s), %d package(s), %d cores x %d thread(s), %d NUMA node(s)"
         % (m["cpu_model"], m.get("cpu_vendor", ""), m.get("packages", 1), m["cores"],
            m["threads_per_core"], m["numa_nodes"])),
        ("Clock", ("%.0f MHz (as reported; frequency scaling and turbo not controlled)" % m["clock_mhz"])
         if m.get("clock_mhz") else "unknown"),
        ("Caches", ", ".join(caches) or "unknown"),
        ("Memory", fmt_bytes(m.get("memory_bytes"))),
        ("ISA features", ", ".join(k for k, v in feats.items() if v) or "none of avx512f/avx512bf16/amx"),
        ("OS", m.get("os", "")),
        ("Compiler", b["compiler"]),
        ("Flags", b["flags"]),
        ("Commit", b["git_commit"]),
        ("Date", b["date"]),
        ("Backends", ", ".join(b.get("backends", [])) + " (default: %s)" % b.get("default_backend", "?")),
        ("Harness", "Google Benchmark %s, hwloc API %s; real time; min time %s s x %s repetitions "
         "(sweeps %s s x %s); library threads from a pinned pool"
         % (b.get("google_benchmark", "?"), b.get("hwloc_api", "?"), meth.get("min_time_s"),
            meth.get("repetitions"), meth.get("sweep_min_time_s"), meth.get("sweep_repetitions"))),
        ("Run time", ("%.0f s" % meth["run_seconds"] if meth.get("run_seconds") else "?") +
         ("; 1-minute load average %.2f before it began (other work on the machine skews "
          "real time)" % meth["load_avg_start"] if meth.get("load_avg_start") is not None else "")),
    ]
    width = max(len(k) for k, _ in lines) + 2
    return "```\n" + "\n".join(("%s:" % k).ljust(width) + v for k, v in lines) + "\n```\n"


def ceilings_table(run):
    c = run["ceilings"]
    rows = ceiling_rows(run)
    out = []
    if rows:
        levels = [t["level"] for t in rows[0]["triad"]]
        clock = any(r.get("clock_ghz") for r in rows)
        head = ["threads"] + (["clock GHz"] if clock else []) + \
               ["FMA f32 GFLOP/s", "exp Gexp/s", "BF16 dot GFLOP/s", "AMX-BF16 GFLOP/s"] + \
               ["triad %s GB/s" % l for l in levels]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---:|" * len(head))
        for r in rows:
            cells = [str(r["threads"])] + ([fmt_num(r.get("clock_ghz"), 3)] if clock else [])
            cells += [fmt_num(r["fma_gflops"], 4), fmt_num((r["exp_per_s"] or 0) * 1e-9, 3),
                     fmt_num(r.get("bf16_dot_gflops"), 4) if r.get("bf16_dot_gflops") else "n/a",
                     fmt_num(r.get("amx_bf16_gflops"), 4) if r.get("amx_bf16_gflops") else "n/a"]
            cells += ["%s (%s)" % (fmt_num(t["gbs"], 4), fmt_bytes(t["ws_bytes"])) for t in r["triad"]]
            out.append("| " + " | ".join(cells) + " |")
    notes = ("Triad: `a[i] = b[i] + s*c[i]` on doubles, 24 bytes counted per element, each thread on "
             "its own arrays (working set in parentheses, all threads together; one point per "
             "level here, the full working-set sweep below is what the roofs use); FMA: %s with 16 "
             "independent accumulators; exp: %s. Best of several trials. `n/a`: the CPU lacks the unit."
             % (c.get("fma_isa", "?"), c.get("exp_isa", "?")))
    if c.get("clock_note"):
        notes += " Clock: " + c["clock_note"] + "."
    return "\n".join(out) + "\n\n" + notes + "\n"


def op_tables(run):
    out = []
    results = run["results"]
    for op in OP_ORDER + sorted({r["op"] for r in results} - set(OP_ORDER)):
        rs = [r for r in results if r["op"] == op]
        if not rs:
            continue
        out.append("### %s\n" % op)
        out.append("| name | shape | backend | dtype | threads | data | median | min | GFLOP/s | GB/s | "
                   "FLOP/B | % of roof | bound | check |")
        out.append("|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
        order = {"": 0, None: 0, "warm": 1, "T": 2, "L": 3}
        rs.sort(key=lambda r: (order.get(r.get("sweep"), 3), base_name(r["name"]),
                               r["shape"].get("L", 0), r["backend"], ["f32", "f16", "bf16"].index(r["dtype"])
                               if r["dtype"] in ("f32", "f16", "bf16") else 9, r["threads"]))
        for r in rs:
            pct = r["pct_roof"]
            pct_s = ("**%.1f** ⚠" % pct) if pct > 100 else "%.1f" % pct
            out.append("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["name"], shape_text(r["shape"]), r["backend"], r["dtype"], r["threads"],
                data_text(r), fmt_time(r["time_s"]["median"]) + (" ⚠" if noisy(r) else ""), fmt_time(r["time_s"]["min"]), fmt_num(r["gflops"]),
                fmt_num(r["gbs"]), fmt_num(r["flops"] / r["bytes"] if r["bytes"] else None),
                pct_s, bound_text(r), check_text(r["check"])))
        out.append("")
    return "\n".join(out)


def cache_state_text(run):
    meth = run.get("method") or {}
    cold = [r for r in run["results"] if r.get("cold")]
    capped = [r for r in run["results"] if r.get("cold_note")]
    if not cold and not capped:
        return "Inputs stay warm between iterations."
    text = ("**Cold and warm.** `state_update` and `conv1d` stream their data once per call, so "
            "their canonical results (and sweeps) run *cold*: the timed calls rotate among copies "
            "of every counted operand (state, activations, outputs; conv1d's weights too), %s in "
            "all (2× the %s last-level cache hwloc reports and at least 256 MiB, the DRAM triad's "
            "smallest working set; capped at %s), and are judged against "
            "the DRAM bandwidth (the better of the triad and the in-place update at the largest "
            "working set). Their `@warm` variants reuse one copy (cache-resident where it fits). "
            "`selective_scan`, `ssd` "
            "and `hsa_attention` are compute-bound and run warm, judged against the level their "
            "compulsory bytes fit in." % (
                fmt_bytes(meth.get("cold_target_bytes")), fmt_bytes(meth.get("llc_bytes")),
                fmt_bytes(meth.get("cold_cap_bytes"))))
    if capped:
        text += (" **%d result(s) could not be made cold**: the memory cap is below the "
                 "last-level cache, so they are marked `warm (cap)` and judged at the rotation's "
                 "size." % len(capped))
    return text


# Issue 5 ("AVX-512 backend"), section "Targets": measured in the suite, backend avx512, 1 thread
# unless said. (name, dtype, how it is judged, threshold, the target as the issue words it)
ISSUE5_TARGETS = [
    ("cpu.scan.m1", "f32", "compute", 50, "≥ 50% of the exp-throughput/FMA roof"),
    ("cpu.ssd.m2", "f32", "fma", 50, "≥ 50% of measured FMA peak"),
    ("cpu.ssd.m2", "bf16", "amx", 3, "with AMX, bf16 ≥ 3× faster than f32"),
    ("cpu.step.m2", "f32", "triad_cold", 70, "≥ 70% of measured triad bandwidth, cold"),
    ("cpu.conv", "f32", "triad_cold", 70, "≥ 70% of measured triad bandwidth, cold"),
    ("cpu.hsa", "f32", "fma", 40, "≥ 40% of measured FMA peak"),
    ("cpu.scan.m1", "f32", "scale2", 1.8, "2 threads ≥ 1.8× 1 thread"),
    ("cpu.ssd.m2", "f32", "scale2", 1.8, "2 threads ≥ 1.8× 1 thread"),
    ("cpu.hsa", "f32", "scale2", 1.8, "2 threads ≥ 1.8× 1 thread"),
]


def find_result(run, name, dtype, backend="avx512", threads=1):
    """The canonical result, or its @T= sweep point when the machine has more cores. A --quick
    run names its tiny shapes quick.* (never BENCH.md's names): judged alike, for the plumbing."""
    if run.get("mode") == "quick":
        name = "quick." + name[4:]
    for r in run["results"]:
        if r["backend"] != backend or r["dtype"] != dtype or r["threads"] != threads:
            continue
        if r["name"] == name or r["name"] == "%s@T=%d" % (name, threads):
            return r
    return None


def triad_dram(run, threads):
    for row in ceiling_rows(run):
        if row["threads"] == threads:
            for t in row.get("triad", []):
                if t["level"] == "DRAM":
                    return t["gbs"]
    return run["ceilings"].get("triad_gbs_1t") if threads == 1 else None


def judge_target(run, name, dtype, how, threshold):
    """(result label, achieved text, met: True/False/None for n/a)"""
    r = find_result(run, name, dtype)
    label = "%s avx512 %s T=1" % (name, dtype)
    if how == "scale2":
        label = "%s avx512 %s T=1 vs T=2" % (name, dtype)
    if how == "amx":
        label = "%s avx512 bf16 vs f32, T=1" % name
    if r is None:
        return label, "not run", None
    t = r["time_s"]["median"]
    if how == "compute":
        terms = r.get("roof_terms_s") or {}
        roof = max(terms.get("flops", 0), terms.get("exps", 0))
        pct = 100 * roof / t
        which = "exps" if terms.get("exps", 0) >= terms.get("flops", 0) else "flops"
        return label, "%.1f%% (%s-bound: %s GFLOP/s, %s Gexp/s)" % (
            pct, which, fmt_num(r["gflops"]), fmt_num(r["exps"] / t * 1e-9)), pct >= threshold
    if how == "fma":
        peak = (r.get("ceilings_used") or {}).get("fma_gflops") or run["ceilings"]["fma_gflops_1t"]
        pct = 100 * r["gflops"] / peak
        return label, "%.1f%% (%s of %s GFLOP/s)" % (pct, fmt_num(r["gflops"]), fmt_num(peak)), pct >= threshold
    if how == "triad_cold":
        triad = triad_dram(run, r["threads"])
        if not r.get("cold"):
            return label, "not judged: the result is not cold (%s)" % r.get("cold_note", "warm run"), None
        pct = 100 * r["gbs"] / triad
        return label, "%.1f%% (%s of %s GB/s; %.1f%% of its roof, which takes the better of triad " \
            "and in-place update)" % (pct, fmt_num(r["gbs"]), fmt_num(triad), r["pct_roof"]), pct >= threshold
    if how == "amx":
        f32 = find_result(run, name, "f32")
        ratio = f32["time_s"]["median"] / t if f32 else None
        ratio_s = "bf16 runs at %.2f× the f32 speed" % ratio if ratio else "no f32 result"
        if not (run["machine"].get("features") or {}).get("amx_bf16"):
            return label, "n/a: this CPU has no AMX-BF16 (%s)" % ratio_s, None
        return label, "%.2f× (%s)" % (ratio or 0, ratio_s), bool(ratio and ratio >= threshold)
    if how == "scale2":
        r2 = find_result(run, name, dtype, threads=2)
        if r2 is None:
            return label, "no 2-thread result", None
        sp = t / r2["time_s"]["median"]
        clocks = {row["threads"]: row.get("clock_ghz") for row in ceiling_rows(run)}
        bound = ""
        if clocks.get(1) and clocks.get(2):   # what the clock alone allows (see clock_note)
            bound = "; clock %s GHz at 1 busy core, %s at 2: at most %.2f×" % (
                fmt_num(clocks[1], 3), fmt_num(clocks[2], 3), 2 * clocks[2] / clocks[1])
        return label, "%.2f× (%s → %s%s)" % (sp, fmt_time(t), fmt_time(r2["time_s"]["median"]), bound), \
            sp >= threshold
    return label, "?", None


def issue5_targets(run):
    out = ["Issue 5's targets, judged from this run's JSON (backend avx512, 1 thread unless said; "
           "the triad is this run's DRAM triad at the result's thread count).%s\n"
           % (" **A --quick run: tiny shapes, not the targets' shapes.**" if run.get("mode") == "quick" else ""),
           "| target | result | achieved | met |", "|---|---|---|---|"]
    for name, dtype, how, threshold, text in ISSUE5_TARGETS:
        label, achieved, met = judge_target(run, name, dtype, how, threshold)
        met_s = "n/a" if met is None else "**yes**" if met else "no"
        out.append("| %s %s: %s | %s | %s | %s |" % (name, dtype, text, label, achieved, met_s))
    return "\n".join(out) + "\n"


def readme(run, json_name, charts, notes=None):
    m = run["machine"]
    parts = ["# ssm.h CPU benchmarks: %s (`%s`)\n" % (m["cpu_model"], m["slug"]),
             "Generated by `bench/report.py` from [`%s`](%s) (one `make bench` run); method, work "
             "counts and canonical shapes: BENCH.md. Every kernel ran against the measured ceilings "
             "of this same run; `%% of roof` = 100 x roof time / median time, where roof time = "
             "max(FLOPs / FLOP peak, exps / exp rate, compulsory bytes / bandwidth), all measured at the "
             "result's thread count (the FLOP peak is the f32 FMA one, but for bf16 SSD and hsa_attention on a "
             "CPU with AMX, whose products run on the tiles: the AMX-BF16 peak); "
             "for warm results the bandwidth is the best the triad or an "
             "in-place update showed at the result's footprint (or any larger working set), and "
             "`bound` names the level (hwloc's cache sizes) that footprint fits in. Each output was "
             "checked against the double reference (SPEC §7) before timing; for 16-bit outputs the "
             "check column gives the error as a multiple of the rounding floor.\n"
             % (json_name, json_name),
             cache_state_text(run) + "\n",
             "## Experiment details\n", experiment_details(run),
             "## Issue 5 targets\n", issue5_targets(run)]
    if notes:
        parts += ["## Notes\n", NOTES_INTRO, notes.rstrip() + "\n"]
    parts += ["## Measured ceilings\n", ceilings_table(run)]
    if "bandwidth" in charts:
        parts.append("![bandwidth vs working set](bandwidth.svg)\n")
    if "roofline" in charts:
        parts += ["## Roofline\n", "![roofline](roofline.svg)\n"]
    parts += ["## Results\n", op_tables(run)]
    if "scaling_L" in charts or "scaling_T" in charts:
        parts.append("## Scaling\n")
        if "scaling_L" in charts:
            parts.append("![time vs L](scaling_L.svg)\n")
        if "scaling_T" in charts:
            parts.append("![speed-up vs threads](scaling_T.svg)\n")
    skipped = run.get("skipped") or []
    if skipped:
        parts.append("## Not run\n")
        for s in skipped:
            parts.append("- %s %s %s T=%s: %s" % (s["name"], s["backend"], s["dtype"], s["threads"], s["reason"]))
        parts.append("")
    warn = [r for r in run["results"] if r["pct_roof"] > 100]
    bad = [r for r in run["results"] if not r["check"]["passed"]]
    spread = [r for r in run["results"] if noisy(r)]
    if warn or bad or spread:
        parts.append("## Warnings\n")
        for r in warn:
            parts.append("- %s %s %s T=%d: %.1f%% of roof: above 100 means a work count or a ceiling is wrong"
                         % (r["name"], r["backend"], r["dtype"], r["threads"], r["pct_roof"]))
        for r in spread:
            parts.append("- %s %s %s T=%d (⚠ beside the median): repetitions from %s to %s, more than %g× "
                         "apart: other work disturbed the run; trust the min more than the median"
                         % (r["name"], r["backend"], r["dtype"], r["threads"], fmt_time(r["time_s"]["min"]),
                            fmt_time(r["time_s"]["max"]), NOISY_SPREAD))
        for r in bad:
            parts.append("- %s %s %s T=%d: reference check failed: %s"
                         % (r["name"], r["backend"], r["dtype"], r["threads"], r["check"].get("reason", "")))
        parts.append("")
    parts.append("## Raw data\n")
    parts.append("[`%s`](%s): machine, build, ceilings (per thread count and memory level) and every "
                 "result with its roof terms; redraw anything on this page from it.\n" % (json_name, json_name))
    return "\n".join(parts)


NOTES_FILE = "NOTES.md"
NOTES_INTRO = ("*Written by hand in [`NOTES.md`](NOTES.md) beside this page; everything else here is "
               "generated from the JSON.*\n")


def read_notes(out_dir):
    """Hand-written analysis kept beside the generated page (profiles, causes): NOTES.md in the
    output folder, included verbatim under "Notes"."""
    path = os.path.join(out_dir, NOTES_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read()


def render(run, out_dir, json_path):
    os.makedirs(out_dir, exist_ok=True)
    json_name = "bench.json"
    if os.path.abspath(json_path) != os.path.abspath(os.path.join(out_dir, json_name)):
        shutil.copyfile(json_path, os.path.join(out_dir, json_name))
    if is_gpu(run):
        return render_gpu(run, out_dir)
    charts = set()
    if roofline_svg(run, os.path.join(out_dir, "roofline.svg")):
        charts.add("roofline")
    if bandwidth_svg(run, os.path.join(out_dir, "bandwidth.svg")):
        charts.add("bandwidth")
    if scaling_L_svg(run, os.path.join(out_dir, "scaling_L.svg")):
        charts.add("scaling_L")
    if scaling_T_svg(run, os.path.join(out_dir, "scaling_T.svg")):
        charts.add("scaling_T")
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(readme(run, json_name, charts, read_notes(out_dir)))
    return sorted(charts)


# ------------------------------------------------------------------ GPU runs (bench/bench_cuda.cu)

# Issue 6 ("CUDA backend on the H200"), section "Targets on the H200": bf16, absolute times on
# that GPU, with the best public kernels it names (measured on the same machine kind, cold L2).
# name: (target seconds, peer seconds or None, peer kernel, extra requirement or None)
ISSUE6_TARGETS = {
    "gpu.scan.m1": (0.40e-3, 1.165e-3, "mamba_ssm CUDA selective scan", None),
    "gpu.ssd.m2": (0.50e-3, 1.649e-3, "mamba_ssm Triton mamba_chunk_scan_combined", None),
    "gpu.ssd.m2.long": (0.50e-3, 1.655e-3, "mamba_ssm Triton mamba_chunk_scan_combined", None),
    "gpu.step.m2": (0.087e-3, 0.1086e-3, "mamba_ssm Triton selective_state_update", ("copy_pct", 90)),
    "gpu.hsa.4k": (0.24e-3, 0.714e-3, "official HSA Triton kernel", None),
    "gpu.hsa.16k": (0.93e-3, 2.80e-3, "official HSA Triton kernel", None),
    "gpu.hsa.64k": (3.7e-3, 11.27e-3, "official HSA Triton kernel", None),
    "gpu.hsa.g1.16k": (1.83e-3, None, None, ("tflops", 150)),
}
ISSUE6_FLOOR_GOAL = 1.25   # bf16 error / rounding floor

# The ceilings bench_cuda measures: (key, label, unit scale, unit, how it was measured when the
# run predates the *_source fields)
GPU_CEILINGS = [
    ("gpu_copy_gbs", "device copy bandwidth", 1, "GB/s",
     "cudaMemcpyAsync device to device, 2 GiB, bytes read + written, best of 10"),
    ("gpu_l2_read_gbs", "L2 read bandwidth", 1, "GB/s", "16 MiB read 64 times through L2"),
    ("gpu_fp32_tflops", "FP32 FMA", 1, "TFLOP/s", "8 independent FMA chains per thread, 2 FLOP per FMA"),
    ("gpu_bf16_mma_tflops", "bf16 tensor cores", 1, "TFLOP/s", "?"),
    ("gpu_bf16_mmasync_tflops", "bf16 mma.sync", 1, "TFLOP/s", "mma.sync m16n8k16 register loop (no wgmma)"),
    ("gpu_tf32_mma_tflops", "TF32 tensor cores", 1, "TFLOP/s", "cuBLAS TF32 GEMM 8192^3"),
    ("gpu_exp_per_s", "exp (SFU)", 1e-12, "T exp/s", "ex2.approx.f32 chains"),
]
FLOP_CEILING_NAMES = {"gpu_fp32_tflops": "FP32", "gpu_bf16_mma_tflops": "bf16 TC",
                      "gpu_bf16_mmasync_tflops": "bf16 mma.sync", "gpu_tf32_mma_tflops": "TF32 TC"}


def fmt_ms(seconds):
    ms = seconds * 1e3
    return "%.3f ms" % ms if ms >= 1 else "%.4f ms" % ms


def cuda_version(v):
    return "%d.%d" % (v // 1000, (v % 1000) // 10) if isinstance(v, int) and v > 0 else "?"


def gpu_experiment_details(run):
    m, b, g = run["machine"], run["build"], run["machine"].get("gpu") or {}
    gpu = "%s, %s SMs, compute capability %s, L2 %s, %s" % (
        g.get("name", "?"), g.get("sms", "?"), g.get("compute_capability", "?"),
        fmt_bytes(g.get("l2_bytes")), fmt_bytes(g.get("memory_bytes")))
    clocks = []
    if g.get("sm_clock_mhz"):
        clocks.append("SM %.0f MHz" % g["sm_clock_mhz"])
    if g.get("mem_clock_mhz"):
        clocks.append("memory %.0f MHz" % g["mem_clock_mhz"])
    if g.get("mem_bus_bits"):
        clocks.append("%d-bit bus" % g["mem_bus_bits"])
    l2 = sorted({r["time_s"].get("l2") for r in run["results"] if r["time_s"].get("l2")})
    reps = sorted({r["time_s"]["reps"] for r in run["results"]})
    lines = [
        ("GPU", gpu),
        ("Clocks", ", ".join(clocks) + " (maximum, as the device reports them)" if clocks
         else "not recorded by this run"),
        ("CUDA", "driver API %s, runtime %s" % (cuda_version(g.get("driver_version")),
                                               cuda_version(g.get("runtime_version")))),
        ("Host CPU", "%s, %s cores, %s NUMA node(s)" % (m.get("cpu_model", "?"), m.get("cores", "?"),
                                                        m.get("numa_nodes", "?"))),
        ("Compiler", b.get("compiler", "?")),
        ("Flags", b.get("flags", "?")),
        ("Commit", b.get("git_commit", "?")),
        ("Date", b.get("date", "?")),
    ]
    for k, v in b.items():   # build options the run recorded beyond the standard four
        if k not in ("compiler", "flags", "git_commit", "date"):
            lines.append((k, str(v)))
    lines.append(("Timing", "CUDA events on the caller's stream, median of %s repetitions per result"
                  % "/".join(str(x) for x in reps)))
    lines.append(("L2", "; ".join(l2) if l2 else "not recorded"))
    width = max(len(k) for k, _ in lines) + 2
    return "```\n" + "\n".join(("%s:" % k).ljust(width) + v for k, v in lines) + "\n```\n"


def gpu_ceilings_table(run):
    c = run["ceilings"]
    out = ["| ceiling | value | how |", "|---|---:|---|"]
    known = set()
    for key, label, scale, unit, how in GPU_CEILINGS:
        known.add(key)
        v = c.get(key)
        if not _is_num(v):
            continue
        how = c.get(key.rsplit("_", 1)[0] + "_source") or c.get(key + "_source") or how
        out.append("| %s | %s %s | %s |" % (label, fmt_num(v * scale, 4), unit, how))
    for key, v in sorted(c.items()):   # anything this table does not know yet
        if key.startswith("gpu_") and key not in known and _is_num(v):
            out.append("| `%s` | %s | (recorded in the JSON) |" % (key, fmt_num(v, 4)))
    if _is_num(c.get("triad_gbs_1t")):
        out.append("| host CPU triad, 1 / all threads | %s / %s GB/s | %s |" % (
            fmt_num(c["triad_gbs_1t"], 3), fmt_num(c.get("triad_gbs_all"), 3), c.get("cpu_note", "")))
    if _is_num(c.get("fma_gflops_1t")):
        out.append("| host CPU FMA, 1 / all threads | %s / %s GFLOP/s | %s |" % (
            fmt_num(c["fma_gflops_1t"], 3), fmt_num(c.get("fma_gflops_all"), 3), c.get("cpu_note", "")))
    return "\n".join(out) + "\n"


def flop_ceiling_of(run, r):
    """(TFLOP/s, short name) of the FLOP ceiling this result's roof used."""
    key = r.get("flop_ceiling") or "gpu_fp32_tflops"
    return run["ceilings"].get(key), FLOP_CEILING_NAMES.get(key, key)


def gpu_bound_text(run, r):
    if r["bound"] == "flops":
        return "flops (%s)" % flop_ceiling_of(run, r)[1]
    if r["bound"] == "exps":
        return "exps (SFU)"
    return "bytes (copy)"


def gpu_check_text(c):
    text = check_text(c)
    for k, v in c.items():   # a second checked output: {"h_last": {"passed", "rel_l2", ...}}
        if isinstance(v, dict) and "rel_l2" in v:
            text += "; %s %s rel_l2 %s" % (k, "pass" if v.get("passed") else "**FAIL**", fmt_num(v["rel_l2"], 2))
    return text


def gpu_results_table(run):
    out = ["| name | dtype | shape | median | min | GFLOP/s | GB/s | FLOP/B | roof | % of roof | bound | check |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in run["results"]:
        pct = r["pct_roof"]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], r["dtype"], shape_text(r["shape"]), fmt_time(r["time_s"]["median"]),
            fmt_time(r["time_s"]["min"]), fmt_num(r["gflops"], 4), fmt_num(r["gbs"], 4),
            fmt_num(r["flops"] / r["bytes"] if r["bytes"] else None),
            fmt_time(r["roof_s"]) if _is_num(r.get("roof_s")) else "—",
            ("**%.1f** ⚠" % pct) if pct > 100 else "%.1f" % pct, gpu_bound_text(run, r),
            gpu_check_text(r["check"])))
    return "\n".join(out) + "\n"


def issue6_targets(run):
    copy = run["ceilings"].get("gpu_copy_gbs")
    out = ["Issue 6's targets on the H200 (bf16; absolute times; the peer figures are the best "
           "public kernels the issue names, measured on this machine kind with a cold L2). "
           "Gap = achieved / target; error ratio goal ≤ %.2f× the rounding floor.\n" % ISSUE6_FLOOR_GOAL,
           "| shape | achieved | target | gap | met | best public kernel | vs it | other requirement | "
           "bf16 error / floor |",
           "|---|---:|---:|---:|---|---|---:|---|---:|"]
    any_row = False
    for name, (target, peer, peer_name, extra) in ISSUE6_TARGETS.items():
        r = next((x for x in run["results"] if x["name"] == name and x["dtype"] == "bf16"), None)
        if r is None:
            continue
        any_row = True
        t = r["time_s"]["median"]
        met = t <= target
        extra_s, extra_met = "—", True
        if extra and extra[0] == "copy_pct" and copy:
            pct = 100 * r["gbs"] / copy
            extra_met = pct >= extra[1]
            extra_s = "≥ %d%% of copy bandwidth: %.0f%% (%s of %s GB/s)" % (
                extra[1], pct, fmt_num(r["gbs"], 4), fmt_num(copy, 4))
        elif extra and extra[0] == "tflops":
            tf = r["gflops"] * 1e-3
            extra_met = tf >= extra[1]
            extra_s = "≥ %d TFLOP/s: %.1f" % (extra[1], tf)
        ratio = r["check"].get("floor_ratio")
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, fmt_ms(t), fmt_ms(target),
            "%.2f×" % (t / target), "**yes**" if met and extra_met else "no",
            "%s (%s)" % (fmt_ms(peer), peer_name) if peer else "—",
            "%.2f× %s" % ((peer / t, "faster") if t <= peer else (t / peer, "slower")) if peer else "—",
            extra_s,
            ("%.2f× %s" % (ratio, "✓" if ratio <= ISSUE6_FLOOR_GOAL else "✗")) if _is_num(ratio) else "—"))
    return "\n".join(out) + "\n" if any_row else ""


def gpu_roofline_svg(run, path):
    results = run["results"]
    c = run["ceilings"]
    copy = c.get("gpu_copy_gbs")
    if not results or not _is_num(copy):
        return False
    ceils = [(k, c.get(k)) for k in ("gpu_bf16_mma_tflops", "gpu_bf16_mmasync_tflops", "gpu_tf32_mma_tflops",
                                     "gpu_fp32_tflops") if _is_num(c.get(k))]
    ai = [r["flops"] / r["bytes"] for r in results if r["bytes"] > 0]
    perf = [r["gflops"] * 1e-3 for r in results if r["gflops"] > 0]
    top = max(v for _, v in ceils) if ceils else max(perf)
    x0, x1 = decade_bounds(ai + [1, 1000])
    y0, y1 = decade_bounds(perf + [top])
    s = Svg(1000, 660, right=270)
    s.set_axes(x0, x1, y0, y1)
    s.frame("Roofline: %s (%s)" % ((run["machine"].get("gpu") or {}).get("name", "GPU"), run["machine"]["slug"]),
            "arithmetic intensity (FLOP / compulsory byte)", "TFLOP/s")
    s.clip_begin()
    bw = copy * 1e-3   # TB/s: TFLOP/s = AI * TB/s
    styles = {"gpu_bf16_mma_tflops": ("#333", 2.0, None), "gpu_bf16_mmasync_tflops": ("#777", 1.4, "6,3"),
              "gpu_tf32_mma_tflops": ("#999", 1.2, "2,3"), "gpu_fp32_tflops": ("#333", 1.6, "10,4")}
    for key, v in ceils:
        color, width, dash = styles[key]
        knee = v / bw
        s.line(s.px(max(x0, knee)), s.py(v), s.px(x1), s.py(v), color, width, dash)
    xs = max(x0, y0 / bw)
    s.line(s.px(xs), s.py(bw * xs), s.px(min(x1, top / bw)), s.py(min(top, bw * x1)), "#333", 2.0)
    for r in results:   # stems up to each result's own roof (its FLOP ceiling, exp or bytes)
        x = r["flops"] / r["bytes"]
        if r["roof_gflops"] > r["gflops"]:
            s.line(s.px(x), s.py(r["gflops"] * 1e-3), s.px(x), s.py(min(r["roof_gflops"] * 1e-3, y1)),
                   OP_COLORS.get(r["op"], "#000"), 1.0, "1,2", 0.7)
            s.line(s.px(x) - 4, s.py(min(r["roof_gflops"] * 1e-3, y1)), s.px(x) + 4,
                   s.py(min(r["roof_gflops"] * 1e-3, y1)), OP_COLORS.get(r["op"], "#000"), 1.2, None, 0.7)
    for r in results:
        x = r["flops"] / r["bytes"]
        s.marker(s.px(x), s.py(r["gflops"] * 1e-3), DTYPE_SHAPES.get(r["dtype"], "diamond"),
                 OP_COLORS.get(r["op"], "#000"), filled=r["dtype"] != "f32", size=5.5,
                 title="%s %s: %.1f TFLOP/s, %.1f%% of roof (%s)"
                 % (r["name"], r["dtype"], r["gflops"] * 1e-3, r["pct_roof"], gpu_bound_text(run, r)))
    s.clip_end()
    labels = {"gpu_bf16_mma_tflops": "bf16 tensor cores", "gpu_bf16_mmasync_tflops": "bf16 mma.sync",
              "gpu_tf32_mma_tflops": "TF32 tensor cores", "gpu_fp32_tflops": "FP32 FMA"}
    xl = x0 * 1.5   # the copy line's label, just below the line near its left end
    s.text(s.px(xl) + 8, s.py(bw * xl) + 16, "copy %.0f GB/s" % copy, 10, "start", "#333")
    lx, ly = s.r + 18, s.t + 6
    s.text(lx, ly, "op (colour)", 12, weight="bold")
    ly += 18
    for o in [o for o in OP_ORDER if any(r["op"] == o for r in results)]:
        s.marker(lx + 6, ly - 4, "circle", OP_COLORS[o], True, 5)
        s.text(lx + 18, ly, o, 11)
        ly += 17
    ly += 8
    s.text(lx, ly, "dtype (marker)", 12, weight="bold")
    ly += 18
    for d in ("bf16", "f16", "f32"):
        if any(r["dtype"] == d for r in results):
            s.marker(lx + 6, ly - 4, DTYPE_SHAPES[d], "#555", d != "f32", 5)
            s.text(lx + 18, ly, d + (" (hollow)" if d == "f32" else ""), 11)
            ly += 17
    ly += 8
    s.text(lx, ly, "ceilings (measured)", 12, weight="bold")
    ly += 18
    for key, v in ceils:
        color, width, dash = styles[key]
        s.line(lx, ly - 4, lx + 26, ly - 4, color, width, dash)
        s.text(lx + 32, ly, "%s %.0f TFLOP/s" % (labels[key], v), 11)
        ly += 16
    s.line(lx, ly - 4, lx + 26, ly - 4, "#333", 2.0)
    s.text(lx + 32, ly, "copy %.0f GB/s" % copy, 11)
    ly += 24
    for t in ("Each result's stem rises to its", "own roof: the FLOP ceiling it is",
              "judged by (bf16 tensor cores for", "16-bit ssd and hsa_attention, FP32",
              "otherwise), the exp rate or the", "copy bandwidth, whichever binds."):
        s.text(lx, ly, t, 10, color="#666")
        ly += 13
    s.write(path)
    return True


def gpu_readme(run, json_name, charts, out_dir, notes=None):
    g = run["machine"].get("gpu") or {}
    logs = [f for f in ("bench.log", "tests.log") if os.path.exists(os.path.join(out_dir, f))]
    parts = ["# ssm.h CUDA benchmarks: %s (`%s`)\n" % (g.get("name", "GPU"), run["machine"]["slug"]),
             "Generated by `bench/report.py` from [`%s`](%s) (one `bench/bench_cuda` run); method, work "
             "counts and canonical shapes: BENCH.md. Times are CUDA-event medians on the caller's "
             "stream (L2 state below). roof = max(FLOPs / the result's FLOP ceiling, exps / exp rate, "
             "compulsory bytes / copy bandwidth), all measured in the same run; the FLOP ceiling is "
             "the bf16 tensor-core peak for 16-bit `ssd` and `hsa_attention` (they run on tensor "
             "cores) and the FP32 FMA peak otherwise (`bound` names it); `%% of roof` = 100 × roof / "
             "median. Every result was checked against the float64 reference (SPEC §7) before timing, "
             "on a seeded sample for the large shapes; for 16-bit outputs the check column gives the "
             "error as a multiple of the rounding floor.\n" % (json_name, json_name),
             "## Experiment details\n", gpu_experiment_details(run),
             "## Measured ceilings (same run)\n", gpu_ceilings_table(run)]
    targets = issue6_targets(run)
    if targets:
        parts += ["## Issue 6 targets\n", targets]
    if notes:
        parts += ["## Notes\n", NOTES_INTRO, notes.rstrip() + "\n"]
    if "roofline" in charts:
        parts += ["## Roofline\n", "![roofline](roofline.svg)\n"]
    parts += ["## Results\n", gpu_results_table(run)]
    warn = [r for r in run["results"] if r["pct_roof"] > 100]
    bad = [r for r in run["results"] if not r["check"]["passed"]]
    if warn or bad:
        parts.append("## Warnings\n")
        for r in warn:
            parts.append("- %s %s: %.1f%% of roof: above 100 means a work count or a ceiling is wrong"
                         % (r["name"], r["dtype"], r["pct_roof"]))
        for r in bad:
            parts.append("- %s %s: reference check failed: %s" % (r["name"], r["dtype"], r["check"].get("reason", "")))
        parts.append("")
    parts.append("## Raw data\n")
    parts.append("[`%s`](%s): machine, build, ceilings and every result with its roof and check%s.\n"
                 % (json_name, json_name, "".join("; [`%s`](%s)" % (f, f) for f in logs)))
    return "\n".join(parts)


def render_gpu(run, out_dir):
    charts = set()
    if gpu_roofline_svg(run, os.path.join(out_dir, "roofline.svg")):
        charts.add("roofline")
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(gpu_readme(run, "bench.json", charts, out_dir, read_notes(out_dir)))
    return sorted(charts)


# ------------------------------------------------------------------ profile summaries

def _opcode(sass):
    """The opcode of one SASS line, without its predicate and modifiers: "HMMA" for
    "@P0 HMMA.16816.F32.BF16 R4, ..."."""
    words = [w for w in sass.split() if not w.startswith("@")]
    return words[0].split(".")[0] if words else "?"


def stall_summary(path, top=15):
    """A text summary of one Nsight Compute SASS source page (CSV); see the module doc."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = next((i for i, r in enumerate(rows) if "Address" in r and "Source" in r), None)
    if head is None:
        return "%s: no SASS source table\n" % path
    h = rows[head]
    data = [r for r in rows[head + 1:] if len(r) == len(h)]
    col = {name: i for i, name in enumerate(h)}
    reasons = [c for c in h if c.startswith("stall_") and "Not Issued" not in c]

    def num(r, name):
        try:
            return float(r[col[name]] or 0)
        except ValueError:
            return 0.0

    samples_of = lambda r: num(r, "Warp Stall Sampling (All Samples)")
    instr_of = lambda r: num(r, "Instructions Executed")
    total_s = sum(samples_of(r) for r in data) or 1.0
    total_i = sum(instr_of(r) for r in data) or 1.0
    by_reason = collections.Counter({c[6:]: sum(num(r, c) for r in data) for c in reasons})
    reason_total = sum(by_reason.values()) or 1.0
    op_s, op_i = collections.Counter(), collections.Counter()
    for r in data:
        op_s[_opcode(r[col["Source"]])] += samples_of(r)
        op_i[_opcode(r[col["Source"]])] += instr_of(r)
    kernel = next((r[1] for r in rows[:head] if len(r) > 1 and r[0] == "Kernel Name"), "?")
    out = ["%s" % path, "kernel: %s" % kernel.replace("\n", " "),
           "warp instructions executed: %.0f; warp-state samples: %.0f" % (total_i, total_s),
           "", "stall reasons (share of all samples):"]
    out += ["  %-18s %5.1f%%" % (k, 100 * v / reason_total) for k, v in by_reason.most_common() if v > 0]
    out += ["", "opcodes: share of samples, share of instructions executed:"]
    out += ["  %-10s %5.1f%% %5.1f%%" % (o, 100 * v / total_s, 100 * op_i[o] / total_i)
            for o, v in op_s.most_common(20)]
    out += ["", "the %d instructions with the most samples (share; its two largest reasons):" % top]
    for r in sorted(data, key=samples_of, reverse=True)[:top]:
        s = samples_of(r)
        why = sorted(((num(r, c), c[6:]) for c in reasons), reverse=True)[:2]
        why = ", ".join("%s %.0f%%" % (name, 100 * v / (s or 1)) for v, name in why if v)
        out.append("  %5.2f%%  %-58s %s" % (100 * s / total_s, r[col["Source"]].strip()[:58], why))
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check that a run has every BENCH.md field")
    v.add_argument("json")
    v.add_argument("--allow-failed-checks", action="store_true",
                   help="report failed reference checks as warnings instead of errors")
    r = sub.add_parser("render", help="write README.md and SVG charts for a run")
    r.add_argument("json")
    r.add_argument("--out", help="output folder (default: results/<machine slug>)")
    st = sub.add_parser("stalls", help="summarise Nsight Compute SASS source pages (CSV)")
    st.add_argument("csv", nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "stalls":
        for path in args.csv:
            print(stall_summary(path))
        return 0
    with open(args.json) as f:
        run = json.load(f)
    if args.cmd == "validate":
        errors, warnings = validate(run, args.allow_failed_checks)
        for w in warnings:
            print("warning: " + w)
        for e in errors:
            print("error: " + e)
        n = len(run.get("results", []) or [])
        print("%s: %d results, %d errors, %d warnings" % (args.json, n, len(errors), len(warnings)))
        return 1 if errors else 0
    errors, warnings = validate(run, allow_failed_checks=True)
    if errors:
        for e in errors:
            print("error: " + e)
        return 1
    out = args.out or os.path.join("results", run["machine"]["slug"])
    charts = render(run, out, args.json)
    print("wrote %s/README.md (%s)" % (out, ", ".join(c + ".svg" for c in charts) or "no charts"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
