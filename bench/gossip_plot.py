"""Draw the 1,000-node gossip run's delivery over time.

    python3 gossip_plot.py DELIVERIES.csv OUT.png [TITLE]

DELIVERIES.csv holds one line per delivery (publish index, milliseconds from
the publish to the subscriber's event), as BenchmarkGossipScale writes it
(GOSSIP_CSV). The plot shows the share of subscribers reached over time:
the median publish, and the band between the fastest and slowest of them.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict


def load(path: str) -> dict[int, list[float]]:
    by_pub: dict[int, list[float]] = defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            by_pub[int(row["publish"])].append(float(row["ms"]))
    for v in by_pub.values():
        v.sort()
    return by_pub


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    by_pub = load(sys.argv[1])
    if not by_pub:
        print("gossip_plot: no deliveries in " + sys.argv[1], file=sys.stderr)
        return 1
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [i / 100 for i in range(101)]

    def at(v: list[float], q: float) -> float:
        return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]

    curves = [[at(v, q) for q in levels] for v in by_pub.values()]
    med = [sorted(c[i] for c in curves)[len(curves) // 2] for i in range(len(levels))]
    lo = [min(c[i] for c in curves) for i in range(len(levels))]
    hi = [max(c[i] for c in curves) for i in range(len(levels))]
    pct = [q * 100 for q in levels]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_betweenx(pct, lo, hi, alpha=0.25, label="fastest to slowest publish")
    ax.plot(med, pct, label="median publish")
    ax.set_xlabel("time since publish (ms)")
    ax.set_ylabel("subscribers reached (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    title = sys.argv[3] if len(sys.argv) > 3 else f"Gossip delivery over time, {len(by_pub)} publishes"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print("gossip_plot: wrote " + sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
