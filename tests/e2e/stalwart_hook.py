#!/usr/bin/python3
"""Stalwart-shaped MTA-hook requests for the end-to-end tests, and a flat view of the answers.

    stalwart_hook.py request --stage STAGE --client-ip IP [--helo NAME] [--from ADDR]
                             [--rcpt ADDR] [--server-port N] [--eml FILE]
        prints the JSON Stalwart 0.16 POSTs at STAGE (connect, ehlo, mail, rcpt, data), in the
        shapes of ../shared/reference/stalwart-fixtures/derived/request-*.json: compact
        serde_json form, headers as [name, value] pairs with the value as received (leading
        space, folding and the CRLF kept), Stalwart's own Received header absent.
    stalwart_hook.py show FILE
        prints a hookd answer one fact per line, for grep:
            action=ACCEPT|REJECT|...
            response=STATUS ENHANCED MESSAGE
            header NAME: VALUE        (addHeader / insertHeader, value unfolded)
            mod TYPE NAME             (every other modification)
"""
import argparse
import json
import re
import sys


def read_message(path):
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8")
    raw = raw.replace("\r\n", "\n").replace("\n", "\r\n")  # as it arrives over SMTP
    head, sep, body = raw.partition("\r\n\r\n")
    headers = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and headers:
            headers[-1][1] += line + "\r\n"
            continue
        name, _, value = line.partition(":")
        headers.append([name, value + "\r\n"])
    return headers, body, len(raw.encode("utf-8"))


def request(args):
    stages = ["connect", "ehlo", "mail", "rcpt", "data"]
    n = stages.index(args.stage)
    client = {
        "ip": args.client_ip,
        "port": args.client_port,
        "ptr": None,
        "helo": args.helo if n >= 1 else None,
        "activeConnections": 1,
    }
    context = {
        "stage": args.stage,
        "client": client,
        "server": {"name": "Stalwart v0.16.19", "port": args.server_port, "ip": "127.0.0.1"},
    }
    if n == 4:
        context["queue"] = {"id": args.queue_id}
    context["protocol"] = {"version": 1}
    out = {"context": context}
    if n >= 2:
        out["envelope"] = {
            "from": {"address": getattr(args, "from")},
            "to": [{"address": args.rcpt}] if n >= 3 else [],
        }
    if n == 4:
        headers, body, size = read_message(args.eml)
        out["message"] = {"headers": headers, "contents": body, "size": size}
    sys.stdout.write(json.dumps(out, separators=(",", ":"), ensure_ascii=False))


def unfold(value):
    return re.sub(r"\s+", " ", value.replace("\r\n", "\n").replace("\n", "")).strip()


def show(args):
    with open(args.file, encoding="utf-8") as f:
        answer = json.load(f)
    print("action=" + str(answer.get("action")))
    response = answer.get("response")
    if response:
        print("response=%s %s %s" % (response.get("status"), response.get("enhanced_status"),
                                     response.get("message")))
    for m in answer.get("modifications") or []:
        kind = m.get("type")
        if kind in ("addHeader", "insertHeader"):
            print("header %s: %s" % (m.get("name"), unfold(m.get("value", ""))))
        else:
            print("mod %s %s" % (kind, m.get("name", "")))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("request")
    r.add_argument("--stage", required=True, choices=["connect", "ehlo", "mail", "rcpt", "data"])
    r.add_argument("--client-ip", required=True)
    r.add_argument("--client-port", type=int, default=50123)
    r.add_argument("--helo", default="client.e2e-relaytrust.net")
    r.add_argument("--from", default="")
    r.add_argument("--rcpt", default="bob@e2e-relaytrust.net")
    r.add_argument("--server-port", type=int, default=25)
    r.add_argument("--queue-id", default="1a2b3c4d5e6f7081")
    r.add_argument("--eml")
    s = sub.add_parser("show")
    s.add_argument("file")
    args = parser.parse_args()
    if args.command == "request":
        if args.stage == "data" and not args.eml:
            parser.error("--eml is needed at the data stage")
        request(args)
    else:
        show(args)


if __name__ == "__main__":
    main()
