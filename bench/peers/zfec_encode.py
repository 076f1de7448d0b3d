#!/usr/bin/python3
# zfec (the Tahoe-LAFS codec, python3-zfec): the same loop as the C++ encode peers: read FILE in
# segments, cut each into k equal padded blocks, produce the n-k parity blocks, discard them.
# Usage: zfec_encode.py FILE K N [SEGMENT_BYTES]
import sys, time, zfec

path, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
segment = int(sys.argv[4]) if len(sys.argv) > 4 else 4 << 20
blen = (segment + k - 1) // k
enc = zfec.Encoder(k, n)
want = tuple(range(k, n))
buf = bytearray(blen * k)
view = memoryview(buf)
total = 0
encsecs = 0.0
t0 = time.monotonic()
with open(path, "rb", buffering=0) as f:
    while True:
        got = f.readinto(view[:segment])
        if not got:
            break
        if got < blen * k:
            view[got:] = bytes(blen * k - got)
        blocks = tuple(view[i * blen:(i + 1) * blen] for i in range(k))
        e0 = time.monotonic()
        enc.encode(blocks, want)
        encsecs += time.monotonic() - e0
        total += got
        if got < segment:
            break
print("bytes=%d seconds=%.6f encode_seconds=%.6f" % (total, time.monotonic() - t0, encsecs))
