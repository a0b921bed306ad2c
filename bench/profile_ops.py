#!/usr/bin/python3
"""Sums a libtorch Chrome trace (ProfileTraining's) per operation: self time (an operation's time less the
operations it called), total time and calls, largest self time first; prints a Markdown table.

    python3 bench/profile_ops.py trace.json [rows]
"""
import collections
import json
import sys


def main():
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    spans = [e for e in events if e.get("ph") == "X" and "dur" in e]
    by_thread = collections.defaultdict(list)
    for e in spans:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    self_us = collections.Counter()
    total_us = collections.Counter()
    calls = collections.Counter()
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [event, children's time]
        for e in evs:
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"]:
                done, child = stack.pop()
                self_us[done["name"]] += done["dur"] - child
            if stack:
                stack[-1][1] += e["dur"]
            stack.append([e, 0])
            total_us[e["name"]] += e["dur"]
            calls[e["name"]] += 1
        while stack:
            done, child = stack.pop()
            self_us[done["name"]] += done["dur"] - child
    all_self = sum(self_us.values())
    print(f"| operation | self ms | share | total ms | calls |")
    print(f"|---|---|---|---|---|")
    for name, us in self_us.most_common(rows):
        print(f"| `{name}` | {us / 1000:.1f} | {100 * us / all_self:.1f}% | {total_us[name] / 1000:.1f} | {calls[name]} |")
    print(f"| all | {all_self / 1000:.1f} | 100% | | {sum(calls.values())} |")


if __name__ == "__main__":
    main()
