#!/usr/bin/env python3
"""Turns the text tables of bench/resp, bench/memcached and
bench/persist (files given as arguments) into chart JSON for
bench/chart/cmd/mkchart, one JSON document per line: NAME<TAB>JSON."""
import json, re, sys

resp_txt, mc_txt, persist_txt = (open(p).read() for p in sys.argv[1:4])

# RESP: | TEST | PIPELINE | redis | hotgrid | ratio |
rows = [r for r in re.findall(r"^\| (SET|GET) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", resp_txt, re.M)]
if rows:
    chart = {"Title": "redis-benchmark, 50 clients, 32-byte values", "Unit": "requests/s",
             "Series": ["redis-server", "hotgrid"],
             "Groups": [{"Label": f"{t} pipeline {p}", "Values": [float(r), float(h)]} for t, p, r, h in rows]}
    print("resp.png\t" + json.dumps(chart))

# memcached: "memcached  set   78783 ops/s ..." then "hotgrid    set ..."
mc = {}
for name, test, ops in re.findall(r"^(memcached|hotgrid)\s+(.+?)\s+(\d+) ops/s", mc_txt, re.M):
    mc.setdefault(test.strip(), {})[name] = float(ops)
groups = [{"Label": t, "Values": [v["memcached"], v["hotgrid"]]} for t, v in mc.items() if len(v) == 2]
if groups:
    chart = {"Title": "memaslap, 32 connections, 16-byte keys, 32-byte values", "Unit": "operations/s",
             "Series": ["memcached", "hotgrid"], "Groups": groups}
    print("memcached.png\t" + json.dumps(chart))

# persistence: | label | puts/s | ...
rows = re.findall(r"^\| ((?:in memory|file store)[^|]*) \| (\d+) \|", persist_txt, re.M)
if rows:
    chart = {"Title": "Puts/s by persistence mode (16 connections, 1 in flight each)", "Unit": "puts/s",
             "Series": ["hotgrid"], "Groups": [{"Label": l.strip(), "Values": [float(v)]} for l, v in rows]}
    print("persist.png\t" + json.dumps(chart))
