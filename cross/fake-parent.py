#!/usr/bin/env python3
"""A stand-in streaming parent for the smoke test, on 127.0.0.1 only.

  fake-parent.py PORTFILE OUTFILE SECONDS

Listens on an ephemeral loopback port (written to PORTFILE), accepts one child, reads its
STREAM request, accepts it with capabilities that leave out compression and replication
(so the metrics arrive as plain text right away), records everything the child sends for
SECONDS, and writes it to OUTFILE (the request first). Exits 1 if no child connected.
Replace with a real nanodata parent once nanodata can receive.
"""
import os
import socket
import sys
import time

# VCAPS | HLABELS | CLAIM | CLABELS: the stream protocol's version bitmask
ACCEPT = b"Hit me baby, push them over with the version=%d" % (64 | 128 | 256 | 512)


def main():
    portfile, outfile, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(seconds + 30)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        return 1
    got = b""
    conn.settimeout(10)
    while b"\r\n\r\n" not in got:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    conn.sendall(ACCEPT)
    end = time.time() + seconds
    while time.time() < end:
        conn.settimeout(max(0.1, end - time.time()))
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    with open(outfile, "wb") as f:
        f.write(got)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
