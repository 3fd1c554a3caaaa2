#!/usr/bin/python3
"""Differential check of llmkit's template engine against Python's jinja2.

Renders each template file given (or every file in a given directory, e.g.
a libFuzzer corpus from build-fuzz/fuzz_jinja) with jinja2 configured as
transformers configures it (make_golden.compile_template) and with
`llmkit template FILE --context CONTEXT`, and prints the cases that differ:
one renders and the other fails, or both render different text. Errors on
both sides count as agreement.

Usage: /usr/bin/python3 tests/chat/diff_jinja.py LLMKIT_BIN CONTEXT.json PATH... [--show N]
"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_argv, sys.argv = sys.argv, sys.argv[:1]
import make_golden  # noqa: E402
sys.argv = _argv


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def main():
    args = sys.argv[1:]
    show = 20
    if "--show" in args:
        i = args.index("--show")
        show = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 3:
        print(__doc__)
        return 2
    binary, ctx_path, paths = args[0], args[1], args[2:]
    ctx = json.load(open(ctx_path, encoding="utf-8"))
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p))
        else:
            files.append(p)
    signal.signal(signal.SIGALRM, on_alarm)
    stats = {"same": 0, "differ": 0, "skipped": 0}
    for path in files:
        raw = open(path, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            stats["skipped"] += 1
            continue
        if "\0" in text:
            stats["skipped"] += 1
            continue
        signal.alarm(5)
        try:
            py = ("ok", make_golden.compile_template(text).render(**ctx))
        except Timeout:
            stats["skipped"] += 1
            continue
        except Exception as e:  # any jinja2 or Python error
            py = ("error", "%s: %s" % (type(e).__name__, e))
        finally:
            signal.alarm(0)
        r = subprocess.run([binary, "template", path, "--context", ctx_path,
                            "--date", make_golden.FIXED_DATE.strftime("%Y-%m-%d")],
                           capture_output=True, timeout=60)
        ours = ("ok", r.stdout.decode("utf-8", "replace")) if r.returncode == 0 else \
            ("error", r.stderr.decode("utf-8", "replace").strip())
        # add_generation_prompt etc. come from the context; llmkit's CLI
        # defaults add_generation_prompt to true only when the context lacks it.
        same = (py[0] == "error" and ours[0] == "error") or py == ours
        stats["same" if same else "differ"] += 1
        if not same and show > 0:
            show -= 1
            print("=====", path, repr(text[:200]))
            print("  jinja2:", py[0], repr(py[1][:300]))
            print("  llmkit:", ours[0], repr(ours[1][:300]))
    print(stats)
    return 1 if stats["differ"] else 0


if __name__ == "__main__":
    sys.exit(main())
