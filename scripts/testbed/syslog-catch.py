#!/usr/bin/env python3
"""syslog-catch.py SOCKET LOGFILE - a minimal syslog receiver for the test bed.

Cyrus IMAP logs only through syslog(3), i.e. datagrams to /dev/log. cyrus-up.sh
runs Cyrus in a private mount namespace whose /dev/log is SOCKET, so its log
lands in LOGFILE (one line per message, priority prefix kept) instead of being
lost on machines without a syslog daemon. Runs until killed (down.sh).
"""
import os
import socket
import sys


def main() -> None:
    path, logfile = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(logfile, "ab", buffering=0) as out:
        while True:
            data = sock.recv(65536)
            out.write(data.rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
