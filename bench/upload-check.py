#!/usr/bin/env python3
"""An independent check of what banterd's upload path takes (issue 13).

One connection signs in, registers, joins a room, then uploads a file of
SIZE bytes N times back to back: UPLOAD, wait for UPLOAD_READY, every CHUNK
written at once with one sendall (so the server never waits for this
client, unlike banter-bench's files scenario, which keeps only 256 KiB
ahead of its socket so that its chat stays prompt), then wait for the ACK
(the file and its message are durable). It prints each upload's time and
the totals: MB/s to the ACK, and "wire" MB/s to the last byte written.

Usage: upload-check.py HOST PORT N SIZE same|distinct
  same      the same bytes every time (a duplicate after the first, as the
            bench does: the server still receives, hashes, writes and
            syncs it, then drops the temporary file)
  distinct  a few bytes changed per upload: a new file each time

It uses only the wire format of ../shared/PROTOCOL.md (§3, §10); run it
with bench/upload-check.sh, which starts a pinned banterd for it.
"""
import os
import socket
import struct
import sys
import time

HELLO, JOIN, REGISTER, UPLOAD, CHUNK = 0x01, 0x02, 0x09, 0x0B, 0x0C
WELCOME, ERROR, JOINED, ACK, REGISTERED, UPLOAD_READY = 0x21, 0x22, 0x23, 0x26, 0x2C, 0x30
CHUNK_DATA = 65536 - 128  # fits the default max_frame with room for the header


def s16(b):
    return struct.pack(">H", len(b)) + b


def frame(ty, body):
    return struct.pack(">IB", len(body) + 1, ty) + body


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, ty, body):
        self.sock.sendall(frame(ty, body))

    def recv(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    ty, body = self.buf[4], self.buf[5 : 4 + n]
                    self.buf = self.buf[4 + n :]
                    return ty, body
            more = self.sock.recv(1 << 20)
            if not more:
                sys.exit("the server closed the connection")
            self.buf += more

    def wait_for(self, want):
        while True:
            ty, body = self.recv()
            if ty == ERROR:
                sys.exit("ERROR %r" % body)
            if ty == want:
                return body


def chunks(size):
    """The CHUNK frames of one upload, and where each one's seq lies."""
    data = bytes((i * 7) % 256 for i in range(CHUNK_DATA))
    out, seq_at, off = bytearray(), [], 0
    while off < size:
        n = min(CHUNK_DATA, size - off)
        seq_at.append(len(out) + 5)
        out += frame(CHUNK, struct.pack(">IQI", 0, off, n) + data[:n])
        off += n
    return out, seq_at


def sign_in(c):
    name = b"up%d" % os.getpid()
    c.send(HELLO, struct.pack(">H", 1) + s16(name) + s16(b"") + struct.pack(">Q", 0))
    c.wait_for(WELCOME)
    c.send(REGISTER, s16(b"correct horse battery"))
    c.wait_for(REGISTERED)
    c.send(JOIN, s16(b"files") + struct.pack(">QH", 0, 0))
    c.wait_for(JOINED)


def upload(c, seq, size, body):
    """One upload; returns (seconds to the ACK, seconds to the last byte)."""
    t0 = time.perf_counter()
    head = struct.pack(">I", seq) + s16(b"files") + s16(b"check.bin")
    c.send(UPLOAD, head + struct.pack(">Q", size) + s16(b"application/octet-stream"))
    ready = c.wait_for(UPLOAD_READY)
    if struct.unpack(">IQ", ready[:12]) != (seq, 0):
        sys.exit("unexpected UPLOAD_READY %r" % ready)
    c.sock.sendall(body)
    t1 = time.perf_counter()
    while struct.unpack(">I", c.wait_for(ACK)[:4])[0] != seq:
        pass
    return time.perf_counter() - t0, t1 - t0


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in ("same", "distinct"):
        sys.exit(__doc__)
    host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    c = Conn(host, port)
    sign_in(c)
    body, seq_at = chunks(size)
    total = wire = 0.0
    for k in range(n):
        seq = 1000 + k
        for at in seq_at:
            struct.pack_into(">I", body, at, seq)
        if sys.argv[5] == "distinct":
            struct.pack_into(">Q", body, seq_at[0] + 16, seq * 1_000_003 + os.getpid() + int(time.time()))
        t, w = upload(c, seq, size, body)
        total, wire = total + t, wire + w
        print("upload %2d: %7.1f ms (wire %7.1f ms) %5.0f MB/s" % (k, t * 1e3, w * 1e3, size / t / 1e6))
    print("total: %.0f MB/s (wire %.0f MB/s) over %d uploads" % (n * size / total / 1e6, n * size / wire / 1e6, n))


if __name__ == "__main__":
    main()
