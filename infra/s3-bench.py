#!/usr/bin/env python3
"""Throughput and latency of S3 PUT and GET through Nuvem's endpoint and against the engine
directly, with the same client (boto3), in the same run, the two paths taking turns request by
request. Prints a Markdown table.

  /opt/nuvem/s3-clients/bin/python infra/s3-bench.py --nuvem http://127.0.0.1:9000 \
      --nuvem-key KEY --nuvem-secret SECRET --engine-file /var/lib/nuvem/s3-engine/engine.toml

The engine's own credentials are read from its file (root only); Nuvem's from the arguments.
"""
import argparse, os, statistics, time, tomllib
import boto3
from botocore.config import Config

def client(endpoint, key, secret):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))

def run(targets, bucket, size, count):
    """PUT, GET and DELETE `count` objects on every path, the paths taking turns request by
    request (in alternating order), so that a shared machine's drift over the run (other tenants,
    the engine's own state) weighs on both alike; each path has its own keys."""
    body = os.urandom(size)
    names = list(targets)
    puts = {n: [] for n in names}
    gets = {n: [] for n in names}
    def turns(i):
        return names if i % 2 == 0 else names[::-1]
    for i in range(count):
        for n in turns(i):
            t = time.perf_counter(); targets[n].put_object(Bucket=bucket, Key=f"{n}/o{i}", Body=body)
            puts[n].append(time.perf_counter() - t)
    for i in range(count):
        for n in turns(i):
            t = time.perf_counter()
            targets[n].get_object(Bucket=bucket, Key=f"{n}/o{i}")["Body"].read()
            gets[n].append(time.perf_counter() - t)
    for i in range(count):
        for n in names:
            targets[n].delete_object(Bucket=bucket, Key=f"{n}/o{i}")
    return puts, gets

def stats(samples, size):
    s = sorted(samples)
    p50 = statistics.median(s) * 1000
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))] * 1000
    mib_s = size * len(s) / sum(s) / 2**20
    ops = len(s) / sum(s)
    return p50, p99, mib_s, ops

def main():
    a = argparse.ArgumentParser()
    a.add_argument("--nuvem", required=True); a.add_argument("--nuvem-key", required=True)
    a.add_argument("--nuvem-secret", required=True); a.add_argument("--engine-file", required=True)
    a.add_argument("--small", type=int, default=300); a.add_argument("--large", type=int, default=12)
    args = a.parse_args()
    with open(args.engine_file, "rb") as f:
        e = tomllib.load(f)
    targets = {"engine directly": client(e["endpoint"], e["access_key"], e["secret_key"]),
               "through Nuvem": client(args.nuvem, args.nuvem_key, args.nuvem_secret)}
    bucket = f"bench-{os.getpid()}"
    targets["through Nuvem"].create_bucket(Bucket=bucket)  # Nuvem owns it; the engine sees it too
    rows = {}
    try:
        for size, count, label in [(4096, args.small, "4 KiB"), (16 * 2**20, args.large, "16 MiB")]:
            run(targets, bucket, size, 3)  # warm-up: connections, caches
            puts, gets = run(targets, bucket, size, count)
            for name in targets:
                rows[(label, name)] = (stats(puts[name], size), stats(gets[name], size))
    finally:
        targets["through Nuvem"].delete_bucket(Bucket=bucket)
    print("| object | op | path | p50 ms | p99 ms | MiB/s | ops/s |")
    print("|---|---|---|---|---|---|---|")
    for (label, name), (put, get) in rows.items():
        for op, (p50, p99, mib, ops) in (("PUT", put), ("GET", get)):
            print(f"| {label} | {op} | {name} | {p50:.2f} | {p99:.2f} | {mib:.1f} | {ops:.0f} |")
    print()
    for label in ("4 KiB", "16 MiB"):
        for i, op in enumerate(("PUT", "GET")):
            d = rows[(label, "engine directly")][i]; n = rows[(label, "through Nuvem")][i]
            print(f"- {label} {op}: throughput ratio {n[3] / d[3]:.2f}x, added p50 {n[0] - d[0]:+.2f} ms")

main()
