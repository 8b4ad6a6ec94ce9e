#!/usr/bin/env python3
"""Prints the issue #3 and #6 targets against what bench/core (its JSON,
argv[1]), bench/resp (its table, argv[2]) and bench/memcached (its text,
argv[3], optional) measured, as a Markdown table. RESP and memcached
ratios are the paired ones those scripts print (the median of per-round
ratios)."""
import json, re, sys

ts = {t["Name"]: t for t in json.load(open(sys.argv[1]))}
resp = open(sys.argv[2]).read()
h, j = ts.get("hotgrid"), ts.get("infinispan")
rows = []
if h and j:
    rows.append(("start-up, hotgrid / Infinispan", "≤ 0.01", h["StartupMS"] / j["StartupMS"]))
    rows.append(("idle RSS, hotgrid / Infinispan", "≤ 0.10", h["RSSIdleMiB"] / j["RSSIdleMiB"]))
    rows.append(("idle anonymous memory, hotgrid / Infinispan", "≤ 0.10", h["AnonIdleMiB"] / j["AnonIdleMiB"]))
    ratios = [(f'{a["Op"]} {a["Conns"]}×{a["Inflight"]}', a["OpsPerS"] / b["OpsPerS"], b["ServerCPUus"] / max(a["ServerCPUus"], 1e-9))
              for a, b in zip(h["Runs"], j["Runs"])]
    lo = min(ratios, key=lambda r: r[1])
    hi = max(ratios, key=lambda r: r[1])
    rows.append((f"Hot Rod throughput, hotgrid / Infinispan, lowest ({lo[0]})", "≥ 3", lo[1]))
    rows.append((f"Hot Rod throughput, hotgrid / Infinispan, highest ({hi[0]})", "≥ 3", hi[1]))
    cpu = min(ratios, key=lambda r: r[2])
    rows.append((f"Hot Rod operations per server CPU second, hotgrid / Infinispan, lowest ({cpu[0]})", "≥ 3", cpu[2]))
resp_ratios = [(f"{t} P{p}", float(r)) for t, p, r in re.findall(r"^\| (SET|GET) \| (\d+) \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", resp, re.M)]
if resp_ratios:
    lo = min(resp_ratios, key=lambda r: r[1])
    rows.append((f"RESP, hotgrid / redis-server, lowest ({lo[0]})", "≥ 1", lo[1]))
if len(sys.argv) > 3:
    # The paired ratio bench/memcached prints on each hotgrid line.
    mc_ratios = [(load.strip(), float(r)) for load, r in re.findall(
        r"^hotgrid\s+(\S+(?: -\S+)*(?: \d+)?)\s+\d+ ops/s .* ([\d.]+) x memcached", open(sys.argv[3]).read(), re.M)]
    if mc_ratios:
        lo = min(mc_ratios, key=lambda r: r[1])
        rows.append((f"memcached protocol, hotgrid / memcached, lowest ({lo[0]})", "≥ 1", lo[1]))
print("| target | wanted | measured | met |")
print("|---|---|---|---|")
for name, want, v in rows:
    op, bound = want.split()
    ok = v <= float(bound) if op == "≤" else v >= float(bound)
    print(f"| {name} | {want} | {v:.3g} | {'yes' if ok else '**no**'} |")
