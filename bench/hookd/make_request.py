#!/usr/bin/env python3
"""Writes the benchmark's hook request: one data-stage request as Stalwart 0.16 sends it, a
~10 KB message from the AV relay (its verdict headers, its Received hop, forged headers below,
a DKIM-Signature, a text body). post.lua (wrk) and handler_bench (in-process) both read it.

    make_request.py OUT.json
"""
import json
import sys

HEADERS = [
    ("X-Spam-Status", " No, score=1.2 required=5.0 tests=BAYES_00,DKIM_SIGNED,DKIM_VALID\r\n"
                      "\tautolearn=ham version=3.4.6\r\n"),
    ("X-Spam-Flag", " NO\r\n"),
    ("X-Virus-Scanned", " amavisd-new at relay.example.net\r\n"),
    ("Received", " from mail.sender.example (mail.sender.example [203.0.113.5])\r\n"
                 "\tby relay.example.net (amavisd-new) with ESMTPS id 4Xyz;\r\n"
                 "\tTue, 1 Jan 2030 00:00:00 +0000\r\n"),
    # Forged: below the relay's Received hop, so the relay did not write it.
    ("X-Spam-Status", " No, score=-10.0 required=5.0\r\n"),
    ("DKIM-Signature", " v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=mail;\r\n"
                       "\th=from:to:subject:date:message-id; "
                       "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                       "\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\r\n"),
    ("From", " Alice <alice@sender.example>\r\n"),
    ("To", " Bob <bob@example.org>\r\n"),
    ("Subject", " Quarterly numbers\r\n"),
    ("Date", " Tue, 1 Jan 2030 00:00:00 +0000\r\n"),
    ("Message-ID", " <20300101000000.12345@sender.example>\r\n"),
    ("MIME-Version", " 1.0\r\n"),
    ("Content-Type", " text/plain; charset=utf-8\r\n"),
]


def message_body(size):
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
    parts = ["Hello Bob,\r\n\r\n"]
    total = len(parts[0])
    while total < size:
        parts.append(line)
        total += len(line)
    parts.append("\r\n-- \r\nAlice\r\n")
    return "".join(parts)


def main():
    body = message_body(10 * 1024)
    size = 2 + len(body) + sum(len(n) + 1 + len(v) for n, v in HEADERS)
    request = {
        "context": {
            "stage": "data",
            "client": {"ip": "127.0.0.1", "port": 40000, "ptr": "relay.example.net.",
                       "helo": "relay.example.net", "activeConnections": 1},
            "server": {"name": "Stalwart v0.16.19", "port": 10025, "ip": "::"},
            "queue": {"id": "1a2b3c4d5e6f7081"},
            "protocol": {"version": 1},
        },
        "envelope": {"from": {"address": "alice@sender.example"},
                     "to": [{"address": "bob@example.org"}]},
        "message": {"headers": [[n, v] for n, v in HEADERS], "contents": body, "size": size},
    }
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(request, out, separators=(",", ":"))


if __name__ == "__main__":
    main()
