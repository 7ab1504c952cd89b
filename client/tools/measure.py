#!/usr/bin/env python3
"""Measures two targets of the banter client (a recorded measurement, not a test).

1. Keystroke echo: the client runs in a pseudo-terminal connected to a real
   banterd; one printable key at a time is written to the pty master and the
   time until the client's redraw containing it is read back is recorded.
   The client's own CPU time per key (from /proc/PID/schedstat) is printed
   too: unlike the echo latency it hardly depends on what else the machine runs.
2. Idle CPU: user+system CPU ticks the client uses while connected and idle.

With FILL > 0, a line-mode client first says FILL messages (with wide
characters, many long enough to wrap) in the room, so each redraw has a
full pane to lay out.

Usage: measure.py BANTER BANTERD [KEYS] [IDLE_SECONDS] [FILL]
"""
import os, pty, re, select, signal, subprocess, sys, time

def read_until(fd, pattern, timeout):
    buf, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
        if r:
            buf += os.read(fd, 65536)
            if pattern in buf:
                return buf
    raise SystemExit(f"timeout waiting for {pattern!r}; got {buf[-300:]!r}")

def cpu_ns(pid):
    """Nanoseconds the process has run on a CPU (/proc/PID/schedstat)."""
    return int(open(f"/proc/{pid}/schedstat").read().split()[0])

def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def main():
    banter, banterd = sys.argv[1], sys.argv[2]
    keys = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    idle = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    fill = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    srv = subprocess.Popen([banterd, "--bind", "127.0.0.1", "--port", "0", "--rate", "0"],
                           stderr=subprocess.PIPE, text=True)
    port = None
    for line in srv.stderr:
        m = re.search(r"listening on [\d.]+:(\d+)", line)
        if m:
            port = m.group(1)
            break
    if fill:
        lines = "".join(
            f"filler {i} with some words 日本語 👍 to wrap around the pane a bit {'x' * (i % 70)}\n"
            for i in range(fill))
        subprocess.run([banter, "--port", port, "--name", "filler"], input=lines.encode(),
                       stdout=subprocess.DEVNULL, check=True, timeout=60)
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execv(banter, [banter, "--port", port, "--name", "measure"])
    read_until(fd, b"connected", 10)
    time.sleep(0.5)
    lat = []
    ns0 = cpu_ns(pid)
    for i in range(keys):
        ch = b"abcdefghijklmnopqrstuvwxyz"[i % 26:i % 26 + 1]
        if i % 60 == 59:
            os.write(fd, b"\x15")  # Ctrl-U keeps the line short
            read_until(fd, b"\x1b[?25h", 5)
        t0 = time.perf_counter()
        os.write(fd, ch)
        read_until(fd, b"\x1b[?25h", 5)  # each redraw ends by showing the cursor
        lat.append((time.perf_counter() - t0) * 1000)
    per_key_us = (cpu_ns(pid) - ns0) / keys / 1000
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
    print(f"keystroke echo over {keys} keys (ms): p50 {pct(0.5):.3f} p99 {pct(0.99):.3f} max {lat[-1]:.3f}")
    print(f"client CPU per key (load-independent): {per_key_us:.1f} us")
    os.write(fd, b"\x15")
    time.sleep(1)
    while select.select([fd], [], [], 0)[0]:
        os.read(fd, 65536)
    t0 = cpu_ticks(pid)
    end = time.monotonic() + idle
    while time.monotonic() < end:  # drain output (heartbeat redraws) while idle
        if select.select([fd], [], [], 0.5)[0]:
            os.read(fd, 65536)
    hz = os.sysconf("SC_CLK_TCK")
    used = cpu_ticks(pid) - t0
    print(f"idle CPU over {idle:.0f} s connected: {used} ticks ({used / hz * 1000:.0f} ms)")
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    srv.kill()

main()
