#!/usr/bin/python3
"""etcd (v3 API, gRPC) as a work queue, with python3-etcd3 (Debian packages no C++ etcd client).

  etcd_claim.py load  ENDPOINTS N            store N items q/item/00000000.. (100 puts per txn)
  etcd_claim.py claim ENDPOINTS N WORKERS    claim them with WORKERS processes; prints stats
  etcd_claim.py count ENDPOINTS              items left under the prefix

ENDPOINTS is comma-separated host:port client URLs of the members (127.0.0.1 only). Each worker
is its own process (no shared GIL) with its own gRPC channel to member (worker mod members);
followers forward writes to the leader, as for any etcd client.

A claim is one txn: `if version(key) > 0 then delete key with prev_kv` -- atomic on the cluster,
committed through Raft (a majority's WAL fsynced) before it answers. A worker walks the keys in
order from its own start (worker w of W starts at item w*N/W, and wraps), one txn per key; when a
txn fails (another worker took the key) it asks for the next key still there (one linearizable
range, keys only, limit 1, from the current key; from the head when past the end) and goes on
from there; it stops when no key is left. Every claimed key and the value returned by prev_kv
are written to WORKDIR/claimed.W; the parent checks that every key was claimed by exactly one
worker with its value, and none is left.

Prints: claims=C attempts=A seconds=S load_seconds=... (claim: the wall time from the moment all
workers are connected until the last one is done).
"""
import multiprocessing as mp
import os
import sys
import tempfile
import time

import etcd3

PREFIX = b"q/item/"
END = b"q/item0"  # PREFIX with its last byte + 1: the end of the prefix range
VALUE = b'{"argv":["true"]}'


def key(i):
    return PREFIX + b"%08d" % i


def client(endpoint):
    host, port = endpoint.rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=60)


def load(endpoints, n):
    c = client(endpoints[0])
    t0 = time.monotonic()
    for start in range(0, n, 100):
        ok, _ = c.transaction(compare=[], success=[c.transactions.put(key(i), VALUE)
                                                   for i in range(start, min(n, start + 100))],
                              failure=[])
        if not ok:
            sys.exit("load: txn failed")
    return time.monotonic() - t0


def next_key(c, after):
    """The first key still there at or after `after` in the prefix, else from the head; None when empty."""
    for lo in (after, PREFIX):
        r = c.get_range(lo, END, limit=1, keys_only=True)  # linearizable (quorum read)
        for _, meta in r:
            return meta.key
    return None


def worker(w, workers, n, endpoints, outdir, ready, go, attempts_out):
    c = client(endpoints[w % len(endpoints)])
    c.status()  # connect before the clock starts
    ready.wait()
    go.wait()
    k = key(w * n // workers)
    attempts = 0
    got = []
    while k is not None:
        attempts += 1
        ok, resp = c.transaction(compare=[c.transactions.version(k) > 0],
                                 success=[c.transactions.delete(k, prev_kv=True)], failure=[])
        if ok:
            # resp[0]: the delete's ResponseOp, with the deleted pair (prev_kv)
            prev = resp[0].response_delete_range.prev_kvs
            got.append((k, prev[0].value if len(prev) == 1 else None))
            i = int(k[len(PREFIX):]) + 1
            k = key(i) if i < n else next_key(c, PREFIX)
        else:
            k = next_key(c, k)
    with open(os.path.join(outdir, f"claimed.{w}"), "wb") as f:
        for kk, v in got:
            f.write(kk + b"\t" + (v if v is not None else b"<none>") + b"\n")
    attempts_out[w] = attempts


def claim(endpoints, n, workers):
    ctx = mp.get_context("spawn")  # gRPC does not survive fork; each worker makes its own channel
    ready = ctx.Barrier(workers + 1)
    go = ctx.Event()
    attempts = ctx.Array("l", workers)
    with tempfile.TemporaryDirectory(prefix="etcd-claim.") as outdir:
        ps = [ctx.Process(target=worker, args=(w, workers, n, endpoints, outdir, ready, go, attempts))
              for w in range(workers)]
        for p in ps:
            p.start()
        ready.wait()
        t0 = time.monotonic()
        go.set()
        for p in ps:
            p.join()
        secs = time.monotonic() - t0
        if any(p.exitcode != 0 for p in ps):
            sys.exit("claim: a worker failed")
        seen = {}
        for w in range(workers):
            with open(os.path.join(outdir, f"claimed.{w}"), "rb") as f:
                for line in f:
                    k, _, v = line.rstrip(b"\n").partition(b"\t")
                    if k in seen:
                        sys.exit(f"claim: {k!r} claimed twice (workers {seen[k]} and {w})")
                    if v != VALUE:
                        sys.exit(f"claim: {k!r} came with value {v!r}")
                    seen[k] = w
    missing = [i for i in range(n) if key(i) not in seen]
    if missing or len(seen) != n:
        sys.exit(f"claim: {len(missing)} of {n} items never claimed, {len(seen)} claimed")
    left = count(endpoints)
    if left:
        sys.exit(f"claim: {left} items left")
    return len(seen), sum(attempts), secs


def count(endpoints):
    c = client(endpoints[0])
    return sum(1 for _ in c.get_range(PREFIX, END, keys_only=True))


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    endpoints = a[1].split(",")
    if a[0] == "load":
        print(f"loaded={a[2]} load_seconds={load(endpoints, int(a[2])):.6f}")
    elif a[0] == "claim":
        claims, att, secs = claim(endpoints, int(a[2]), int(a[3]))
        print(f"claims={claims} attempts={att} seconds={secs:.6f} exactly_once=yes")
    elif a[0] == "count":
        print(count(endpoints))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
