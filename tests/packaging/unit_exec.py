#!/usr/bin/env python3
"""Reads an installed systemd unit the way systemd would run it, for a machine without systemd.

  unit_exec.py UNIT KEY            the value of [Service] KEY (last assignment wins)
  unit_exec.py UNIT --argv KEY     the command line of Exec KEY (ExecStart, ExecStartPre,
                                   ExecReload), NUL-separated, after systemd's variable
                                   expansion with Environment= and EnvironmentFile=
  unit_exec.py UNIT --env          the unit's environment, NAME=value lines

Expansion as systemd.service(5) says: "${NAME}" within a word is replaced in place; a word
that is exactly "$NAME" becomes the value split at whitespace (no word when empty). $MAINPID
comes from the environment variable MAINPID. Exec prefixes (-, @, +, !, :) are refused: the
relaytrust units use none.
"""
import os
import re
import shlex
import sys


def service_settings(path):
    settings = []  # (key, value) in file order
    section = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service" and "=" in line:
            key, value = line.split("=", 1)
            settings.append((key.strip(), value.strip()))
    return settings


def env_file_assignments(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            name, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[name.strip()] = value
    return env


def unit_environment(settings):
    env, files = {}, {}
    for key, value in settings:
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, val = assignment.partition("=")
                env[name] = val
        elif key == "EnvironmentFile":
            optional = value.startswith("-")
            path = value[1:] if optional else value
            if os.path.exists(path):
                files.update(env_file_assignments(path))
            elif not optional:
                sys.exit(f"unit_exec.py: EnvironmentFile {path} is missing")
    env.update(files)  # EnvironmentFile= overrides Environment= (systemd.exec(5))
    return env


def expand(command, env):
    if command[:1] in "-@+!:":
        sys.exit(f"unit_exec.py: Exec prefix {command[0]!r} is not supported")
    argv = []
    for word in shlex.split(command):
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda m: env.get(m.group(1), ""), word))
    return argv


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    settings = service_settings(args[0])
    env = unit_environment(settings)
    if args[1] == "--env":
        for name, value in env.items():
            print(f"{name}={value}")
        return
    if args[1] == "--argv":
        values = [v for k, v in settings if k == args[2]]
        if len(values) != 1:
            sys.exit(f"unit_exec.py: {args[0]} has {len(values)} {args[2]}= lines, expected 1")
        if "MAINPID" in os.environ:
            env["MAINPID"] = os.environ["MAINPID"]
        sys.stdout.write("".join(a + "\0" for a in expand(values[0], env)))
        return
    values = [v for k, v in settings if k == args[1]]
    if not values:
        sys.exit(f"unit_exec.py: {args[0]} has no {args[1]}=")
    print(values[-1])


if __name__ == "__main__":
    main()
