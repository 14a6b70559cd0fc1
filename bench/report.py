"""Turn the "name value unit" lines of the benchmarks into one table.

    python3 report.py RESULTS [MARKDOWN]

Prints the table and, with MARKDOWN, writes it there too. A figure that is
missing (its benchmark failed or did not run) shows as "n/a", not met.
"""

from __future__ import annotations

import sys
import time

REF_STREAM = 5800.0  # msg/s of p2pnetwork, from the issue, when it was not measured here
REF_RTT = 10.4  # ms


def load(path):
    vals = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                try:
                    vals[parts[0]] = float(parts[1])
                except ValueError:
                    pass
    return vals


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if abs(v) >= 1e6:
        s = "%.2fM" % (v / 1e6)
    elif abs(v) >= 1e4:
        s = "%.0fk" % (v / 1e3)
    elif abs(v) >= 100:
        s = "%.0f" % v
    elif abs(v) >= 1:
        s = "%.2f" % v
    else:
        s = "%.3f" % v
    return s + (" " + unit if unit else "")


def version(v, name):
    """A version figure ("435" or "40304") as "4.3.5", or "" when it was not measured."""
    x = v.get(name)
    if x is None:
        return ""
    x = int(x)
    return ("%d.%d.%d" % (x // 100, x // 10 % 10, x % 10)) if x < 1000 else \
        ("%d.%d.%d" % (x // 10000, x // 100 % 100, x % 100))


def goal_rows(v):
    """Issue 20's rows: (figure, ours, baseline, unit, ratio, goal text, goal
    ratio, met, relative speed for the chart). The ratio is ours / baseline
    (of the time, for the round trip: lower is better there); the relative
    speed is the ratio for throughput and baseline / ours for the round trip,
    so that in the chart higher is better on every row."""
    g = v.get
    pz = "pyzmq %s" % version(v, "zmq_py_version") if g("zmq_py_version") else "pyzmq"
    lz = "libzmq %s" % version(v, "zmq_c_version") if g("zmq_c_version") else "libzmq"
    out = []

    def row(figure, short, ours, base, unit, goal_text, goal, lower_better=False):
        ratio = ours / base if ours is not None and base else None
        if ratio is None:
            speed, met = None, None
        elif lower_better:
            speed, met = 1 / ratio, ratio <= goal
        else:
            speed, met = ratio, ratio >= goal
        out.append({"figure": figure, "short": short, "ours": ours, "base": base, "unit": unit,
                    "ratio": ratio, "goal_text": goal_text, "lower_better": lower_better,
                    "goal_speed": (1 / goal) if lower_better else goal, "met": met, "speed": speed})

    row("Python, p2pnetwork API, one process: send_to_nodes + one node_message per message "
        "(baseline: %s PUSH/PULL, one recv per message, one process)" % pz,
        "Python p2pnetwork API stream\nvs pyzmq PUSH/PULL", g("py1_stream_each"), g("zmq_py_push_pull"),
        "msg/s", ">= 0.5x (aim 1x)", 0.5)
    row("Python round trip p50 (baseline: %s REQ/REP p50)" % pz, "Python round trip p50\nvs pyzmq REQ/REP",
        g("py_rtt_p50"), g("zmq_py_rtt_p50"), "ms", "<= 1x (no slower)", 1.0, lower_better=True)
    row("C, one p2p_node_send per message, callback delivery (baseline: %s C PUSH/PULL, one "
        "zmq_send per message)" % lz, "C p2p_node_send + callback\nvs libzmq PUSH/PULL",
        g("c_callback_single_send"), g("zmq_c_push_pull_single"), "msg/s", ">= 1x (aim 2x)", 1.0)
    row("Go one-way stream, 64 B (baseline: raw TCP)", "Go one-way stream\nvs raw TCP",
        g("go_stream_p2p"), g("go_stream_raw"), "msg/s", ">= 0.5x", 0.5)
    row("16 MiB messages (baseline: raw TCP)", "16 MiB messages\nvs raw TCP",
        g("go_large_p2p"), g("go_large_raw"), "GB/s", ">= 0.8x", 0.8)
    row("Go one-way stream, 64 B, native protocol (TLS 1.3) (baseline: plaintext protocol, same run)",
        "Go stream encrypted\nvs plaintext",
        g("go_stream_tls"), g("go_stream_plain"), "msg/s", ">= 0.8x", 0.8)
    row("16 MiB messages, native protocol (TLS 1.3) (baseline: plaintext protocol, same run)",
        "16 MiB encrypted\nvs plaintext",
        g("go_large_tls"), g("go_large_plain"), "GB/s", ">= 0.7x", 0.7)
    for c in ("zlib", "bzip2", "lzma"):
        row("%s, 64 KiB text, compress + decompress: Go codec alone, without base64 (baseline: "
            "CPython's own path, as p2pnetwork: C %s + base64)" % (c, {"zlib": "zlib", "bzip2": "libbz2", "lzma": "liblzma"}[c]),
            "%s codec (Go)\nvs CPython + base64" % c,
            g("go_codec_%s_alone" % c), g("cpy_codec_%s" % c), "MB/s", ">= 1x", 1.0)
    row("Python batched path, one process: send_batch + node_message_batch (baseline: %s "
        "PUSH/PULL above)" % pz, "Python batched stream\nvs pyzmq PUSH/PULL",
        g("py1_stream_batch"), g("zmq_py_push_pull"), "msg/s", ">= 2x", 2.0)
    return out


def rows(v):
    out = []
    for r in goal_rows(v):
        out.append((r["figure"], fmt(r["ours"], r["unit"]), fmt(r["base"], r["unit"]),
                    "n/a" if r["ratio"] is None else
                    ("%.2fx" % r["ratio"]) + (" the time" if r["lower_better"] else ""), r["goal_text"],
                    "n/a" if r["met"] is None else ("met" if r["met"] else "not met")))
    return out


def other_rows(v):
    """The figures of the earlier rounds, with their targets."""
    g = v.get
    out = []

    def row(figure, ours, base, unit, target, met, ratio=None, base_unit=None):
        if ratio is None and ours is not None and base:
            ratio = ours / base
        out.append((figure, fmt(ours, unit), fmt(base, base_unit or unit),
                    "n/a" if ratio is None else "%.2fx" % ratio, target,
                    "n/a" if ours is None else ("yes" if met else "NO")))

    o, b = g("go_rtt_p2p_p50"), g("go_rtt_raw_p50")
    row("Go round trip p50 (baseline: raw TCP ping-pong)", o, b, "us", "<=2x raw",
        o is not None and b and o <= 2 * b)
    o, b = g("go_rtt_p2p_p99"), g("go_rtt_raw_p99")
    row("Go round trip p99 (baseline: raw TCP ping-pong)", o, b, "us", "(reported)", True)
    o = g("go_stream_allocs")
    row("Go stream: allocations per message", o, None, "", "(reported)", True)
    ref_rtt = g("ref_rtt_p50")
    base_rtt = ref_rtt if ref_rtt is not None else REF_RTT
    o = g("py_rtt_p50")
    row("Python to Python round trip p50 (baseline: p2pnetwork%s)" % ("" if ref_rtt else ", from the issue"),
        o, base_rtt, "ms", "<=0.1 ms", o is not None and o <= 0.1)
    o = g("c_callback_batch")
    row("C callback delivery, sent with p2p_node_send_batch", o, None, "ev/s", ">=1M ev/s",
        o is not None and o >= 1e6)
    ref = g("ref_stream")
    base = ref if ref is not None else REF_STREAM
    src = "" if ref is not None else ", from the issue"
    # Met when both the ratio to the reference measured here and the
    # absolute figure the issue names (from its 5,800 msg/s) are reached.
    o = g("py_stream_batch")
    row("Python stream, two processes, batched (send_batch + node_message_batch) (baseline: p2pnetwork%s)"
        % src, o, base, "msg/s", ">=100x p2pnetwork (580k msg/s)",
        o is not None and o >= 100 * base and o >= 100 * REF_STREAM)
    o = g("py_stream_callback")
    row("Python stream, two processes, send_batch, one callback per message (baseline: p2pnetwork%s)"
        % src, o, base, "msg/s", ">=20x p2pnetwork (116k msg/s)",
        o is not None and o >= 20 * base and o >= 20 * REF_STREAM)
    o, b = g("py_send_to_nodes_call"), g("py_send_to_node_call")
    row("Python send_to_nodes per call, one peer (baseline: send_to_node)", o, b, "us",
        "<=1.2x send_to_node", o is not None and b and o <= 1.2 * b)
    o, b = g("go_scale_p2p_go_per_peer"), g("go_scale_raw_go_per_peer")
    peers = g("go_scale_peers")
    row("Memory per idle peer, %s peers on one node (baseline: Go conn + reader goroutine)"
        % ("%d" % peers if peers else "n/a"), o, b, "KiB", "<=32 KiB",
        o is not None and o <= 32 and peers is not None and peers >= 10000)
    o = g("go_slowpeer_broadcast")
    row("64 KiB broadcasts reaching each of 10 fast peers while one peer reads 40 KB/s", o, None, "msg/s",
        "(reported; 0.1 msg/s before issue 16)", True)
    o = g("go_slowpeer_stop")
    row("Stop with that slow peer's queue full (StopTimeout 10 s)", o, None, "s", "<=11 s",
        o is not None and o <= 11)
    for c in ("zlib", "bzip2", "lzma"):
        o, b = g("go_codec_%s_p2p" % c), g("go_codec_%s_alone" % c)
        row("%s through two nodes, 64 KiB text (baseline: Go codec alone)" % c, o, b, "MB/s",
            ">=0.8x codec alone", o is not None and b and o >= 0.8 * b)
    return out


def chart(v, path):
    """Draw issue 20's rows as a PNG: per row the baseline (1.0) and ours as
    relative speed (higher is better; the round trip is baseline / ours),
    on a log scale, with the goal marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = goal_rows(v)
    n = len(rs)
    fig, ax = plt.subplots(figsize=(10, 0.8 * n + 2.2), dpi=110)
    h = 0.36
    ys = list(range(n))[::-1]
    lo, hi = 0.1, 8.0
    for y, r in zip(ys, rs):
        ax.barh(y + h / 2, 1.0, h, color="#b0b0b0", label="baseline (= 1.0)" if y == ys[0] else None)
        sp = r["speed"]
        if sp is not None:
            lo, hi = min(lo, sp / 1.5), max(hi, sp * 1.5)
            ax.barh(y - h / 2, sp, h, color="#2e8b57" if r["met"] else "#d9534f")
            # right of the bar, the goal mark and the baseline, whichever ends last
            ax.text(max(sp, r["goal_speed"], 1.0) * 1.06, y - h / 2, "%.2fx  (%s vs %s)" % (sp, fmt(r["ours"], r["unit"]),
                                                               fmt(r["base"], r["unit"])),
                    va="center", fontsize=7.5)
        else:
            ax.text(lo * 1.1, y - h / 2, "n/a (not measured)", va="center", fontsize=8)
        gs = r["goal_speed"]
        ax.plot([gs, gs], [y - h - 0.08, y + h + 0.08], color="#1f3a93", lw=2.5,
                label="goal" if y == ys[0] else None)
        ax.text(gs, y + h + 0.1, "goal %gx" % gs, color="#1f3a93", fontsize=6.5, ha="center",
                va="bottom")
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64) if lo <= t <= hi]
    ax.set_xticks(ticks)
    ax.set_xticklabels(["%g" % t for t in ticks])
    ax.axvline(1.0, color="#707070", lw=0.8, ls=":")
    ax.set_yticks(ys)
    ax.set_yticklabels([r["short"] for r in rs], fontsize=8)
    ax.set_xlabel("speed relative to the baseline of the same run (log scale; higher is better;\n"
                  "the round trip is baseline time / our time)", fontsize=8)
    ax.set_title("p2pnode against what a user would pick instead (make bench, %s)" % time.strftime("%Y-%m-%d"),
                 fontsize=10)
    from matplotlib.patches import Patch
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color="#2e8b57"), Patch(color="#d9534f")]
    labels += ["ours, goal met", "ours, goal not met"]
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=7.5,
              frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(rs, head):
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rs:
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def main():
    v = load(sys.argv[1])
    t = table(rows(v), ("figure", "ours", "baseline", "ratio", "goal", "goal met"))
    o = table(other_rows(v), ("figure", "ours", "baseline", "ratio", "target", "met"))
    print(t)
    print()
    print(o)
    status = 0
    png = sys.argv[3] if len(sys.argv) > 3 else None
    if png:
        try:
            chart(v, png)
        except Exception as e:  # noqa: BLE001 (no matplotlib: the table still stands)
            print("report: chart not drawn: %s" % e, file=sys.stderr)
            status = 1
    if len(sys.argv) > 2:
        import os
        with open(sys.argv[2], "w") as f:
            f.write("# p2pnode benchmarks\n\n")
            f.write("Made by `make bench` on %s (2 cores, loopback, 64 B messages unless said). Every "
                    "baseline is measured in the same run; ratios are ours / baseline (of the time for "
                    "the round trips, where lower is better).\n\n" % time.strftime("%Y-%m-%d"))
            f.write("## Against what a user would pick instead (issue 20)\n\n")
            if png:
                f.write("![ours beside each baseline](%s)\n\n" % os.path.basename(png))
            f.write(t + "\n\n")
            f.write("How each pair is measured (bench/py_bench.py, bench/c/, bench/bench_test.go): the "
                    "Python streams put sender and receiver in one process, as the pyzmq PUSH/PULL "
                    "baseline (a sending thread, one `recv` per message); the round trips have the echo "
                    "side in a second process for both; Python pairs run interleaved twice, best of the "
                    "two kept; the C pair is best of three runs each (500k messages); the Go pairs are "
                    "the median of three interleaved runs; the codec rows time compress + decompress of "
                    "the same 64 KiB text in Go's codecs alone and in CPython's modules with p2pnetwork's "
                    "base64 and tag (run by the Go benchmark), interleaved, best of two each. In the chart, bars are speed "
                    "relative to the baseline (the round trip: baseline time / our time), so higher is "
                    "better on every row.\n\n")
            f.write("## Other figures (earlier rounds)\n\n")
            f.write(o + "\n")
            extra = v.get("c_batch_test_failures")
            if extra is not None:
                f.write("\nC batch test (order, no loss, bad arguments): %d failures.\n" % extra)
    return status


if __name__ == "__main__":
    sys.exit(main())
