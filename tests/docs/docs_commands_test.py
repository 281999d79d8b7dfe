#!/usr/bin/env python3
"""docs.commands: every shell command in the deployment guides is exercised.

usage: docs_commands_test.py SOURCE_DIR RELAYTRUST_BINARY

Every fenced block tagged sh/bash/shell/console in the pages below must be preceded by a
marker comment (blank lines allowed in between):

  <!-- docs-test: run [exit=N] [expect="REGEX"] [fixture=NAME:REPO-PATH]... -->
      run the block for real with bash -e in a sandbox directory shared by all pages (in page
      order): /etc/relaytrust/ is redirected into the sandbox, `relaytrust` is the binary
      under test; only the programs in RUNNABLE may appear; the exit status must be N
      (default 0) and the combined output must match REGEX (re.MULTILINE).
  <!-- exercised-by: FILE [FILE...][; equivalent: DOC-PREFIX => TEXT]... -->
      each command's program, its subcommand (first bare word) and every --long option must
      appear as words in one of the FILEs; a command starting with DOC-PREFIX is checked as
      TEXT appearing verbatim in one of the FILEs instead (what the test does in its place).
An untagged fenced block, or a command block without a marker, fails the test.
"""
import os, re, shlex, shutil, subprocess, sys, tempfile

PAGES = ["docs/deploy-postfix.md", "docs/deploy-stalwart.md", "docs/troubleshooting.md"]
SHELL_TAGS = {"sh", "bash", "shell", "console", "zsh"}
RUNNABLE = {"relaytrust", "cat", "cp", "install", "mkdir", "grep", "head", "sed", "diff", "test"}
MARKER = re.compile(r"<!--\s*(docs-test|exercised-by):(.*?)-->", re.S)

src, binary = sys.argv[1], os.path.abspath(sys.argv[2])
failures = []
checked = 0


def fail(where, msg):
    failures.append(f"{where}: {msg}")
    print(f"FAIL {where}: {msg}")


def blocks(page):
    """(line number, tag, body, marker text or None) per fenced block."""
    lines = open(os.path.join(src, page), encoding="utf-8").read().split("\n")
    i, out, pending = 0, [], None
    while i < len(lines):
        line = lines[i]
        m = MARKER.search(line)
        if m:
            pending = (m.group(1), m.group(2).strip())
        fence = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", line)
        if fence:
            tag, start, body = fence.group(2).lower(), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith(fence.group(1)):
                body.append(lines[i])
                i += 1
            out.append((start, tag, "\n".join(body), pending))
            pending = None
        elif line.strip() and not m:
            pending = None if not line.lstrip().startswith("<!--") else pending
        i += 1
    return out


def commands(body):
    """Logical command lines: continuations joined, heredoc bodies skipped, split on | && ; ||."""
    raw, joined, heredoc = body.split("\n"), [], None
    buf = ""
    for line in raw:
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        buf += line.rstrip("\\") + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        h = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", buf)
        if h:
            heredoc = h.group(1)
        joined.append(buf.strip())
        buf = ""
    cmds = []
    for line in joined:
        if not line or line.startswith("#"):
            continue
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split, lex.commenters = True, "#"
        cur = []
        for tok in lex:
            if tok in ("|", "&&", "||", ";", "&"):
                if cur: cmds.append(cur)
                cur = []
            else:
                cur.append(tok)
        if cur:
            cmds.append(cur)
    result = []
    for words in cmds:
        clean, skip = [], False
        for w in words:
            if skip:
                skip = False
                continue
            if re.fullmatch(r"\d*(>>|>|<<|<|>&|<&)\d*-?", w) or w in ("<<", "<<-"):
                skip = True  # the redirection's target
                continue
            clean.append(w)
        while clean and re.fullmatch(r"[A-Za-z_]\w*=.*", clean[0]):
            clean.pop(0)
        if clean and clean[0] == "sudo":
            clean.pop(0)
        if clean:
            result.append(clean)
    return result


def key_tokens(cmd):
    prog = os.path.basename(cmd[0])
    keys = [prog]
    bare = [w for w in cmd[1:] if not w.startswith("-")]
    if bare and re.fullmatch(r"[a-z][a-z0-9-]*", bare[0]):
        keys.append(bare[0])
    keys += sorted({w.split("=", 1)[0] for w in cmd[1:] if w.startswith("--") and len(w) > 2})
    return prog, keys


def check_exercised(where, body, marker):
    global checked
    parts = [p.strip() for p in marker.split(";")]
    files, equivalents = parts[0].split(), []
    for p in parts[1:]:
        m = re.fullmatch(r"equivalent:\s*(.+?)\s*=>\s*(.+)", p)
        if not m:
            fail(where, f"unreadable marker clause {p!r}")
            continue
        equivalents.append((m.group(1), m.group(2)))
    texts = []
    for f in files:
        path = os.path.join(src, f)
        if not os.path.isfile(path):
            fail(where, f"marker names {f}, which does not exist")
            return
        texts.append(open(path, encoding="utf-8", errors="replace").read())
    for cmd in commands(body):
        line = " ".join(cmd)
        eq = next((t for d, t in equivalents if line.startswith(d)), None)
        if eq is not None:
            if not any(eq in t for t in texts):
                fail(where, f"`{line}`: equivalent {eq!r} not found in {' '.join(files)}")
            else:
                checked += 1
                print(f"ok   {where}: `{line}` ~ {eq!r} in {' '.join(files)}")
            continue
        prog, keys = key_tokens(cmd)
        missing = [k for k in keys if not any(
            re.search(r"(?<![\w-])" + re.escape(k) + r"(?![\w-])", t) for t in texts)]
        if missing:
            fail(where, f"`{line}`: {', '.join(missing)} not in {' '.join(files)}: nothing exercises it")
        else:
            checked += 1
            print(f"ok   {where}: `{line}` ({' '.join(keys)}) in {' '.join(files)}")


def run_block(where, body, marker, sandbox):
    global checked
    opts = shlex.split(marker)
    if not opts or opts[0] != "run":
        fail(where, f"unknown docs-test marker {marker!r}")
        return
    want_exit, expect = 0, None
    for o in opts[1:]:
        k, _, v = o.partition("=")
        if k == "exit":
            want_exit = int(v)
        elif k == "expect":
            expect = v
        elif k == "fixture":
            name, _, repo_path = v.partition(":")
            shutil.copy(os.path.join(src, repo_path), os.path.join(sandbox, name))
        else:
            fail(where, f"unknown option {o!r}")
            return
    for cmd in commands(body):
        if os.path.basename(cmd[0]) not in RUNNABLE:
            fail(where, f"`{' '.join(cmd)}`: {cmd[0]} is not run in the sandbox; mark the block exercised-by")
            return
        for w in cmd:
            if (re.match(r"/(etc|var|usr|run|tmp|root|home|srv|opt|lib|boot|proc|sys|dev)(/|$)", w)
                    and not w.startswith("/etc/relaytrust/") and w != "/dev/null"):
                fail(where, f"`{' '.join(cmd)}`: {w} lies outside the sandbox")
                return
    script = body.replace("/etc/relaytrust/", os.path.join(sandbox, "etc/relaytrust") + "/")
    env = dict(os.environ, PATH=os.path.join(sandbox, "bin") + ":" + os.environ.get("PATH", ""))
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=sandbox, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    out = proc.stdout.replace(os.path.join(sandbox, "etc/relaytrust") + "/", "/etc/relaytrust/")
    if proc.returncode != want_exit:
        fail(where, f"exit {proc.returncode}, expected {want_exit}:\n{out}")
    elif expect and not re.search(expect, out, re.M):
        fail(where, f"output does not match {expect!r}:\n{out}")
    else:
        checked += len(commands(body))
        print(f"ok   {where}: ran {len(commands(body))} command(s), exit {proc.returncode}")


sandbox = tempfile.mkdtemp(prefix="relaytrust-docs-test.")
try:
    os.makedirs(os.path.join(sandbox, "etc/relaytrust"))
    os.makedirs(os.path.join(sandbox, "bin"))
    os.symlink(binary, os.path.join(sandbox, "bin/relaytrust"))
    for page in PAGES:
        if not os.path.isfile(os.path.join(src, page)):
            fail(page, "missing")
            continue
        for line, tag, body, marker in blocks(page):
            where = f"{page}:{line}"
            if tag == "":
                fail(where, "fenced block without a language tag (use sh for commands, text for output)")
            elif tag not in SHELL_TAGS:
                continue
            elif marker is None:
                fail(where, "shell block without a docs-test or exercised-by marker: nothing exercises it")
            elif marker[0] == "docs-test":
                run_block(where, body, marker[1], sandbox)
            else:
                check_exercised(where, body, marker[1])
finally:
    shutil.rmtree(sandbox, ignore_errors=True)

print(f"{checked} command(s) exercised, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
