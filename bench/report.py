#!/usr/bin/python3
"""Helpers for bench/run (standard library only).

  report.py get FILE FIELD...          fields of the last JSON line of FILE ('a.b' for nested, 'a[0]' for lists)
  report.py mean FILE FIELD            mean of a JSON list field
  report.py hey FILE                   hey's text summary -> JSON (p50/p99 ms, requests, non-200, errors, rate)
  report.py wrk FILE                   wrk's text summary -> JSON (requests/s, p50/p99 ms, errors)
  report.py rec RESULTS BENCH KEY REP VALUE   appends one measurement
  report.py table RESULTS META [--accuracy]   the Markdown table of a run
"""
import json
import math
import re
import statistics
import sys


def last_json(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip().startswith("{")]
    if not lines:
        raise SystemExit(f"no JSON line in {path}")
    return json.loads(lines[-1])


def field(obj, path):
    for part in re.findall(r"[^.\[\]]+|\[-?\d+\]", path):
        if part.startswith("["):
            obj = obj[int(part[1:-1])]
        else:
            obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            return None
    return obj


def seconds(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def parse_hey(path):
    text = open(path).read()
    out = {"p50Ms": None, "p99Ms": None, "requests": 0, "non200": 0, "errors": 0, "rps": None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50Ms"), ("90", "p90Ms"), ("99", "p99Ms")):
        m = re.search(r"\s" + pct + r"%+ in ([\d.]+) secs", text)
        if m:
            out[key] = round(float(m.group(1)) * 1000, 3)
    for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", text):
        out["requests"] += int(n)
        if code != "200":
            out["non200"] += int(n)
    err = text.split("Error distribution:", 1)
    if len(err) > 1:
        out["errors"] = sum(int(n) for n in re.findall(r"\[(\d+)\]\s", err[1]))
    return out


def parse_wrk(path):
    text = open(path).read()
    out = {"rps": None, "p50Ms": None, "p99Ms": None, "errors": 0, "non2xx": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50Ms"), ("99", "p99Ms")):
        m = re.search(r"^\s+" + pct + r"%\s+(\S+)", text, re.M)
        if m:
            out[key] = seconds(m.group(1)) * 1000
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    return out


# ------------------------------------------------------------------------------------------------ the table

def records(path):
    """The recorded numbers of a results file, in order, as (bench, key, rep, value); missing and NaN values skipped."""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            v = r["value"]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            yield r["bench"], r["key"], r["rep"], float(v)


def load(path):
    data = {}
    for bench, key, _, v in records(path):
        data.setdefault((bench, key), []).append(v)
    return data


def load_reps(path):
    """(bench, key) -> {rep: value}: the runs of B3 are recorded with the seed as rep."""
    data = {}
    for bench, key, rep, v in records(path):
        data.setdefault((bench, key), {})[rep] = v
    return data


TUTORIAL = 99.26  # the Keras tutorial's test accuracy after 100 epochs, %
B3_MEAN_TARGET = 99.45  # issue #28, 20 epochs, seeds 42/2/1
B3_SEED_TARGET = 99.35
B3_TARGET_EPOCHS = 20


def pct(v):
    return f"{v * 100:.2f}%"


def b3(reps, meta):
    """B3: the headline row (the longest runs) and the accuracy-by-epoch table."""
    runs = {}  # epochs -> {seed: {test, dev, epoch_s, wall_s}}
    for (bench, key), by_seed in reps.items():
        m = re.fullmatch(r"(test|dev|epoch_s|wall_s)_e(\d+)", key)
        if bench != "B3" or not m:
            continue
        for seed, v in by_seed.items():
            runs.setdefault(int(m.group(2)), {}).setdefault(seed, {})[m.group(1)] = v
    order = [int(x) for x in str(meta.get("b3_seeds", "")).split() if x.lstrip("-").isdigit()]
    seeds = order + sorted({s for r in runs.values() for s in r} - set(order))
    peer = f"Keras tutorial {TUTORIAL:.2f}% (100 epochs)"
    target = f"mean >= {B3_MEAN_TARGET:.2f}%, every seed >= {B3_SEED_TARGET:.2f}%"
    tested = {e: {s: r["test"] for s, r in by.items() if "test" in r} for e, by in runs.items()}
    tested = {e: t for e, t in tested.items() if t}
    if not tested:
        return [f"| B3 | test accuracy, the trainer's defaults, {B3_TARGET_EPOCHS} epochs, seeds 42/2/1 | {target} | "
                f"not run (bench/run --accuracy) | {peer} | - | not run |"], []
    top = max(tested)
    accs = tested[top]
    vals = [accs[s] * 100 for s in seeds if s in accs]
    mean = statistics.mean(vals)
    sd = f", sd {statistics.stdev(vals):.2f} pt" if len(vals) > 1 else ""
    measured = ", ".join(f"seed {s}: {accs[s] * 100:.2f}%" for s in seeds if s in accs) \
        + f"; **mean {mean:.2f}%** (min {min(vals):.2f}%, max {max(vals):.2f}%{sd}, n={len(vals)})"
    if top != B3_TARGET_EPOCHS:
        status = f"- (targets are for {B3_TARGET_EPOCHS} epochs)"
    else:
        short = []
        if mean < B3_MEAN_TARGET:
            short.append(f"mean {B3_MEAN_TARGET - mean:.2f} pt short")
        low = [str(s) for s in seeds if s in accs and accs[s] * 100 < B3_SEED_TARGET]
        if low:
            short.append(f"below {B3_SEED_TARGET:.2f}%: seed{'s' if len(low) > 1 else ''} " + ", ".join(low))
        status = "**pass**" if not short else "**MISS** (" + "; ".join(short) + ")"
    row = (f"| B3 | test accuracy, the trainer's defaults, {top} epoch{'s' if top != 1 else ''}, seeds {'/'.join(str(s) for s in seeds if s in accs)} "
           f"(per seed, mean, spread) | {target} | {measured} | {peer} | {mean - TUTORIAL:+.2f} pt (mean - tutorial) | {status} |")

    def cell(r):
        if "test" not in r:
            return "failed"
        parts = []
        if "dev" in r:
            parts.append(f"dev {pct(r['dev'])}")
        if "epoch_s" in r:
            parts.append(f"{r['epoch_s']:.1f} s/epoch")
        return pct(r["test"]) + (f" ({', '.join(parts)})" if parts else "")

    def mean_of(by, k):
        v = [r[k] for r in by.values() if k in r]
        return statistics.mean(v) if v else None

    lines = ["", "Accuracy by epochs (B3): the trainer's defaults through the trainer service, one run per length and "
             "seed (the cosine schedule spans a run). Test accuracy after the run; in brackets the dev accuracy after "
             "its last epoch and its seconds per epoch (`Training.run`'s time over the epochs: training, dev "
             "evaluation, checkpoint publishing); wall per run: from `POST /api/runs` to the `COMPLETED` event (the "
             "dataset read from Kafka and the test evaluation included; the first run also waits out the trainer's JIT "
             "warm-up at start). Peer: the Keras tutorial, " + f"{TUTORIAL:.2f}% after 100 epochs.", "",
             "| Epochs | " + " | ".join(f"seed {s}" for s in seeds) + " | mean test (min-max, sd) | mean dev | "
             "s/epoch, median | wall per run, median | mean - tutorial |",
             "|---" * (len(seeds) + 6) + "|"]
    for e in sorted(runs):
        by = runs[e]
        t = [by[s]["test"] * 100 for s in seeds if s in by and "test" in by[s]]
        if t:
            spread = f" ({min(t):.2f}-{max(t):.2f}%" + (f", sd {statistics.stdev(t):.2f}" if len(t) > 1 else "") + ")"
            mt = f"**{statistics.mean(t):.2f}%**" + spread
            vs = f"{statistics.mean(t) - TUTORIAL:+.2f} pt"
        else:
            mt, vs = "n/a", "-"
        md = mean_of(by, "dev")
        es = [r["epoch_s"] for r in by.values() if "epoch_s" in r]
        ws = [r["wall_s"] for r in by.values() if "wall_s" in r and "test" in r]
        lines.append(f"| {e} | " + " | ".join(cell(by[s]) if s in by else "not run" for s in seeds)
                     + f" | {mt} | {pct(md) if md is not None else 'n/a'} | "
                     + (f"{statistics.median(es):.1f} s" if es else "n/a") + " | "
                     + (f"{statistics.median(ws):.0f} s" if ws else "n/a") + f" | {vs} |")
    return [row], lines


def summary(vals, fmt):
    """Median, then (min-max) over the repetitions; a single value stands alone."""
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt % med
    return f"{fmt % med} ({fmt % min(vals)}-{fmt % max(vals)})"


def verdict(value, op, target):
    if value is None:
        return "not run"
    ok = value <= target if op == "<=" else value >= target
    return "**pass**" if ok else "**MISS**"


def table(results_path, meta_path, accuracy):
    d = load(results_path)
    reps = load_reps(results_path)
    meta = json.load(open(meta_path))

    def g(b, k):
        return d.get((b, k), [])

    def med(b, k):
        v = g(b, k)
        return statistics.median(v) if v else None

    rows = []

    def row(bench, what, target, measured, peer, ratio, status):
        rows.append(f"| {bench} | {what} | {target} | {measured} | {peer} | {ratio} | {status} |")

    # B1
    if g("B1", "kafka_epoch_s"):
        row("B1", "training, s/epoch (img/s), Kafka-fed trainer vs DJL in memory", "<= 1.10x in-memory",
            summary(g("B1", "kafka_epoch_s"), "%.2f s") + f" ({summary(g('B1', 'kafka_ips'), '%.0f')} img/s; "
            f"the dataset read, once per trainer process, {summary(g('B1', 'kafka_read_s'), '%.1f s')}; "
            f"charged over the run's epochs {summary(g('B1', 'kafka_epoch_read_s'), '%.2f s')})",
            "DJL in memory " + summary(g("B1", "mem_epoch_s"), "%.2f s") + f" ({summary(g('B1', 'mem_ips'), '%.0f')} img/s)",
            summary(g("B1", "ratio_kafka_mem"), "%.3fx")
            + f" (with the read {summary(g('B1', 'ratio_kafka_read_mem'), '%.3fx')})",
            verdict(med("B1", "ratio_kafka_mem"), "<=", 1.10))
        row("B1", "training, DJL in memory vs plain PyTorch (Python)", "DJL >= 2.0x faster",
            "DJL " + summary(g("B1", "mem_epoch_s"), "%.2f s") + " (after the trainer's JIT warm-up at start, "
            + summary(g("B1", "mem_warmup_s"), "%.1f s") + ", as the service does it; not in epoch times)",
            f"PyTorch {meta.get('torch', '')} " + summary(g("B1", "py_epoch_s"), "%.2f s")
            + f" ({summary(g('B1', 'py_ips'), '%.0f')} img/s)",
            summary(g("B1", "ratio_py_mem"), "%.2fx") + " (Kafka-fed: " + summary(g("B1", "ratio_py_kafka"), "%.2fx") + ")",
            verdict(med("B1", "ratio_py_mem"), ">=", 2.0))
        row("B1", "peak RSS while training", "(reported)",
            "Kafka-fed trainer " + summary(g("B1", "kafka_rss_mb"), "%.0f MB") + "; DJL in memory "
            + summary(g("B1", "mem_rss_mb"), "%.0f MB"),
            "PyTorch " + summary(g("B1", "py_rss_mb"), "%.0f MB"),
            summary(g("B1", "ratio_rss_mem_py"), "%.2fx") + " (in-memory/PyTorch)", "-")
    # B2, B3
    if g("B2", "seconds"):
        row("B2", "cold `./pipeline up` to a served model with >= 99.2% test accuracy", "<= 120 s",
            summary(g("B2", "seconds"), "%.0f s") + " (accuracy " + summary(g("B2", "accuracy"), "%.4f") + ")",
            "-", "-", verdict(med("B2", "seconds"), "<=", 120))
    else:
        row("B2", "cold `./pipeline up` to a served model with >= 99.2% test accuracy", "<= 120 s",
            "not run (bench/run --accuracy)", "-", "-", "not run")
    b3_rows, b3_table = b3(reps, meta)
    rows.extend(b3_rows)
    # B4
    for rate in (100, 500, 1000):
        if g("B4", f"p99_ms_{rate}"):
            row("B4", f"POST /api/predict, one image, {rate} req/s (hey)", "(reported)",
                "p50 " + summary(g("B4", f"p50_ms_{rate}"), "%.1f ms") + "; p99 "
                + summary(g("B4", f"p99_ms_{rate}"), "%.1f ms") + "; achieved "
                + summary(g("B4", f"rps_{rate}"), "%.0f req/s") + "; failed " + summary(g("B4", f"failed_{rate}"), "%.0f"),
                "in-process DJL forward pass, one image: p50 " + summary(g("B4", "peer_p50_ms"), "%.2f ms") + ", p99 "
                + summary(g("B4", "peer_p99_ms"), "%.1f ms"),
                ("p99/peer p99 " + summary(g("B4", "ratio_p99_peer_500"), "%.1fx")) if rate == 500 else "-", "-")
    if g("B4", "health_p99_ms_500"):
        row("B4", "POST /api/predict p99 at 500 req/s vs the same server's `GET /v2/health/live` p99 at 500 req/s",
            "<= 3x the health endpoint's",
            "p99 " + summary(g("B4", "p99_ms_500"), "%.1f ms"),
            "health endpoint p99 " + summary(g("B4", "health_p99_ms_500"), "%.1f ms"),
            summary(g("B4", "ratio_p99_health_500"), "%.2fx"), verdict(med("B4", "ratio_p99_health_500"), "<=", 3.0))
    if g("B4", "cpu_ms"):
        row("B4", "server CPU per single-image prediction (process CPU time over a fixed count at 500 req/s)",
            "<= 2x the forward pass",
            summary(g("B4", "cpu_ms"), "%.2f ms"),
            "in-process forward pass, one image, p50 " + summary(g("B4", "peer_p50_ms"), "%.2f ms"),
            summary(g("B4", "ratio_cpu_forward"), "%.2fx"), verdict(med("B4", "ratio_cpu_forward"), "<=", 2.0))
    if g("B4", "max_rps"):
        row("B4", "POST /api/predict, maximum rate (wrk, 16 connections)", "(reported)",
            summary(g("B4", "max_rps"), "%.0f req/s") + " (p99 " + summary(g("B4", "max_p99_ms"), "%.0f ms") + ")",
            "same server, GET /v2/health/live " + summary(g("B4", "floor_rps"), "%.0f req/s"),
            summary(g("B4", "ratio_max_floor"), "%.2fx") + " of the HTTP floor", "-")
    if g("B4", "off_max_rps"):
        row("B4", "dynamic batching (1 ms window, default) vs the same service with `inference.http.batch-window=0`",
            "(reported)",
            "max rate " + summary(g("B4", "max_rps"), "%.0f req/s") + "; p99 at 500 req/s "
            + summary(g("B4", "p99_ms_500"), "%.1f ms") + "; CPU " + summary(g("B4", "cpu_ms"), "%.2f ms") + " per request",
            "without batching: max rate " + summary(g("B4", "off_max_rps"), "%.0f req/s") + "; p99 at 500 req/s "
            + summary(g("B4", "off_p99_ms_500"), "%.1f ms") + "; CPU " + summary(g("B4", "off_cpu_ms"), "%.2f ms")
            + " per request (" + summary(g("B4", "ratio_off_cpu_forward"), "%.2fx") + " the forward pass)",
            "max rate " + summary(g("B4", "ratio_max_on_off"), "%.2fx") + "; p99 " + summary(g("B4", "ratio_p99_on_off"), "%.2fx"),
            "-")
    if g("B4", "oip_ips"):
        row("B4", "Open Inference Protocol, batches of 256 (wrk, 2 connections)", ">= 0.6x in-process",
            summary(g("B4", "oip_ips"), "%.0f img/s"),
            "in-process DJL, 256-batches on 2 predictors " + summary(g("B4", "peer_batch_ips"), "%.0f img/s"),
            summary(g("B4", "ratio_oip_peer"), "%.2fx") + " of in-process",
            verdict(med("B4", "ratio_oip_peer"), ">=", 0.6))
    # B5
    if g("B5", "batched_ips"):
        row("B5", "Kafka scoring, produce to prediction, micro-batched (max.poll.records=256)", ">= 20,000 img/s",
            summary(g("B5", "batched_ips"), "%.0f img/s") + f" ({int(meta.get('b5_n', 0)):,} events per rep)",
            "one record per poll (max.poll.records=1) " + summary(g("B5", "single_ips"), "%.0f img/s")
            + f" ({int(meta.get('b5_single_n', 0)):,} events per rep)",
            summary(g("B5", "ratio_batched_single"), "%.1fx") + " micro-batched/one-at-a-time",
            verdict(med("B5", "batched_ips"), ">=", 20000))
    # B9
    if g("B9", "eos_ips"):
        row("B9", "exactly-once Kafka scoring vs a transactional pass-through of the same records", ">= 0.8x",
            summary(g("B9", "eos_ips"), "%.0f img/s"),
            "pass-through (same settings, trivial transform) " + summary(g("B9", "pt_ips"), "%.0f img/s"),
            summary(g("B9", "ratio_eos_pt"), "%.2fx") + " of the pass-through",
            verdict(med("B9", "ratio_eos_pt"), ">=", 0.8))
        row("B9", "at-least-once vs exactly-once scoring", ">= 1.0x",
            summary(g("B9", "alo_ips"), "%.0f img/s") + " at-least-once",
            "exactly-once " + summary(g("B9", "eos_ips"), "%.0f img/s"),
            summary(g("B9", "ratio_alo_eos"), "%.2fx"),
            verdict(med("B9", "ratio_alo_eos"), ">=", 1.0))
        if g("B9", "raw_ips"):
            row("B9", "exactly-once scoring of binary events (784 raw bytes) vs JSON events", "(reported)",
                summary(g("B9", "raw_ips"), "%.0f img/s") + " binary",
                "JSON " + summary(g("B9", "eos_ips"), "%.0f img/s"),
                summary(g("B9", "ratio_raw_eos"), "%.2fx"), "-")
    # B10
    if g("B10", "on_ips"):
        row("B10", "exactly-once Kafka scoring with tracing on (every event traced, spans exported over OTLP) vs off",
            ">= 0.95x",
            summary(g("B10", "on_ips"), "%.0f img/s") + " on",
            "off (the default) " + summary(g("B10", "off_ips"), "%.0f img/s"),
            summary(g("B10", "ratio_on_off"), "%.2fx"),
            verdict(med("B10", "ratio_on_off"), ">=", 0.95))
    # B6
    if g("B6", "swap_p99_ms"):
        failed = g("B6", "failed")
        row("B6", "hot swap: 20 swaps during 500 req/s, failed requests", "0 failed",
            "failed " + summary(failed, "%.0f") + "; swaps served " + summary(g("B6", "swaps"), "%.0f") + " of 20",
            "-", "-", verdict(max(failed) if failed else None, "<=", 0))
        row("B6", "hot swap: p99 during swaps vs steady 500 req/s", "<= 2x steady",
            "p99 " + summary(g("B6", "swap_p99_ms"), "%.1f ms") + " (p50 " + summary(g("B6", "swap_p50_ms"), "%.1f ms") + ")",
            "same load, no swaps: p99 " + summary(g("B6", "steady_p99_ms"), "%.1f ms") + " (p50 " + summary(g("B6", "steady_p50_ms"), "%.1f ms") + ")",
            summary(g("B6", "ratio_p99"), "%.2fx"), verdict(med("B6", "ratio_p99"), "<=", 2.0))
    # B7: the verdict uses RSS after a full GC (jcmd GC.run) at both points, so Java heap that is merely not yet
    # collected does not count as growth; the raw RSS is shown beside it.
    if g("B7", "rss_200_mb"):
        n = int(meta.get("b7_reloads", 200))
        row("B7", f"inference RSS after {n} reloads vs after 10 (after a full GC; raw RSS in brackets)", "<= +10%",
            f"after {n}: " + summary(g("B7", "rssgc_200_mb"), "%.0f MB") + " (raw " + summary(g("B7", "rss_200_mb"), "%.0f MB") + ")",
            "after 10: " + summary(g("B7", "rssgc_10_mb"), "%.0f MB") + " (raw " + summary(g("B7", "rss_10_mb"), "%.0f MB") + ")",
            summary(g("B7", "growthgc_pct"), "%+.1f%%") + " (raw " + summary(g("B7", "growth_pct"), "%+.1f%%") + ")",
            verdict(med("B7", "growthgc_pct"), "<=", 10.0))
    # B8
    if g("B8", "log_s"):
        row("B8", "ingest 70,000 images onto Kafka", "<= 10 s",
            summary(g("B8", "log_s"), "%.1f s") + " (the service's \"Ingested ... in X s\"; POST to DONE, "
            "file reading and checks included: " + summary(g("B8", "wall_s"), "%.1f s") + ")",
            "plain producer, same bytes and settings " + summary(g("B8", "peer_s"), "%.1f s"),
            summary(g("B8", "ratio_peer"), "%.2fx") + " of the plain producer",
            verdict(med("B8", "log_s"), "<=", 10.0))

    head = [f"Medians over {meta.get('reps', '?')} repetitions, (min-max) beside them; ratios are per repetition, then the median.", "",
            "| | Benchmark | Target | Measured | Peer, same run | Ratio | |",
            "|---|---|---|---|---|---|---|"]
    return "\n".join(head + rows + b3_table)


def main():
    cmd = sys.argv[1]
    if cmd == "get":
        obj = last_json(sys.argv[2])
        print(" ".join("" if field(obj, p) is None else str(field(obj, p)) for p in sys.argv[3:]))
    elif cmd == "mean":
        vals = field(last_json(sys.argv[2]), sys.argv[3])
        print(statistics.mean(vals) if vals else "")
    elif cmd == "hey":
        print(json.dumps(parse_hey(sys.argv[2])))
    elif cmd == "wrk":
        print(json.dumps(parse_wrk(sys.argv[2])))
    elif cmd == "rec":
        _, _, path, bench, key, rep, value = sys.argv
        try:
            v = float(value)
        except ValueError:
            v = None
        with open(path, "a") as f:
            f.write(json.dumps({"bench": bench, "key": key, "rep": int(rep), "value": v}) + "\n")
    elif cmd == "table":
        print(table(sys.argv[2], sys.argv[3], "--accuracy" in sys.argv))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
