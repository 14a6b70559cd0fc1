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


def rows(v):
    g = v.get
    out = []

    def row(figure, ours, base, unit, target, met, ratio=None, base_unit=None):
        if ratio is None and ours is not None and base:
            ratio = ours / base
        out.append((figure, fmt(ours, unit), fmt(base, base_unit or unit),
                    "n/a" if ratio is None else "%.2fx" % ratio, target,
                    "n/a" if ours is None else ("yes" if met else "NO")))

    o, b = g("go_stream_p2p"), g("go_stream_raw")
    row("Go one-way stream, 64 B (baseline: raw TCP)", o, b, "msg/s", ">=0.8x raw and >=2M msg/s",
        o is not None and b and o >= 0.8 * b and o >= 2e6)
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
    o = g("c_callback_single_send")
    row("C callback delivery, one p2p_node_send per message", o, None, "ev/s", "(reported)", True)
    ref = g("ref_stream")
    base = ref if ref is not None else REF_STREAM
    src = "" if ref is not None else ", from the issue"
    # Met when both the ratio to the reference measured here and the
    # absolute figure the issue names (from its 5,800 msg/s) are reached.
    o = g("py_stream_batch")
    row("Python stream, batched (send_batch + node_message_batch) (baseline: p2pnetwork%s)" % src, o, base,
        "msg/s", ">=100x p2pnetwork (580k msg/s)", o is not None and o >= 100 * base and o >= 100 * REF_STREAM)
    o = g("py_stream_callback")
    row("Python stream, one callback per message (baseline: p2pnetwork%s)" % src, o, base, "msg/s",
        ">=20x p2pnetwork (116k msg/s)", o is not None and o >= 20 * base and o >= 20 * REF_STREAM)
    o, b = g("py_send_to_nodes_call"), g("py_send_to_node_call")
    row("Python send_to_nodes per call, one peer (baseline: send_to_node)", o, b, "us",
        "<=1.2x send_to_node", o is not None and b and o <= 1.2 * b)
    o, b = g("go_large_p2p"), g("go_large_raw")
    row("16 MiB messages (baseline: raw TCP); payload copies: 2", o, b, "GB/s", ">=1 GB/s, <=2 copies",
        o is not None and o >= 1.0)
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
        row("%s through two nodes, 64 KiB text (baseline: codec alone)" % c, o, b, "MB/s",
            ">=0.8x codec alone", o is not None and b and o >= 0.8 * b)
    return out


def table(v):
    head = ("figure", "ours", "baseline", "ratio", "target", "met")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows(v):
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def main():
    v = load(sys.argv[1])
    t = table(v)
    print(t)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("# p2pnode benchmarks\n\n")
            f.write("Made by `make bench` on %s (2 cores, loopback). Baselines are measured in the "
                    "same run; ratios are ours / baseline.\n\n" % time.strftime("%Y-%m-%d"))
            f.write(t + "\n")
            extra = v.get("c_batch_test_failures")
            if extra is not None:
                f.write("\nC batch test (order, no loss, bad arguments): %d failures.\n" % extra)


if __name__ == "__main__":
    main()
