#!/usr/bin/python3
"""swaks --pipe helper: connect from SOURCE_IP to HOST:PORT, send one PROXY v1 line, then relay
stdin to the socket and the socket to stdout. swaks 20201014 has no PROXY option, and bash's
/dev/tcp cannot choose the source address.

usage: proxy_pipe.py SOURCE_IP HOST PORT 'PROXY TCP4 <client> <server> <cport> <sport>'
"""
import os
import selectors
import socket
import sys


def main() -> int:
    source_ip, host, port, proxy_line = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sock = socket.create_connection((host, port), timeout=30, source_address=(source_ip, 0))
    sock.sendall(proxy_line.encode("ascii") + b"\r\n")
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        events = sel.select(timeout=30)
        if not events:
            return 1  # the server went quiet: never hang a test
        for key, _ in events:
            if key.fileobj is sock:
                data = sock.recv(65536)
                if not data:
                    return 0
                os.write(sys.stdout.fileno(), data)
            else:
                data = os.read(sys.stdin.fileno(), 65536)
                if not data:
                    sock.shutdown(socket.SHUT_WR)
                    sel.unregister(sys.stdin.fileno())
                else:
                    sock.sendall(data)


if __name__ == "__main__":
    sys.exit(main())
