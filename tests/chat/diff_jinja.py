#!/usr/bin/python3
"""Differential check of llmkit's template engine against Python's jinja2.

Renders each template file given (or every file in a given directory, e.g.
a libFuzzer corpus from build-fuzz/fuzz_jinja) with jinja2 configured as
transformers configures it (make_golden.compile_template) and with
`llmkit template FILE --context CONTEXT`, and prints the cases that differ:
one renders and the other fails, or both render different text. Errors on
both sides count as agreement.

Usage: /usr/bin/python3 tests/chat/diff_jinja.py LLMKIT_BIN CONTEXT.json PATH... [--show N]
       /usr/bin/python3 tests/chat/diff_jinja.py LLMKIT_BIN --random N [--seed S] [--show N]

The second form renders every fixture template (as make_golden.py finds
them) against N random conversations: random roles, empty/None/list
content, tool calls with object or string arguments, reasoning_content,
three tool sets with nested schemas, documents, enable_thinking.
"""
import random
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


TOOLS2 = [{"type": "function", "function": {
    "name": "search", "description": "Search the web.\nReturns results.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "the query"},
        "limit": {"type": "integer", "description": "max results", "default": 10},
        "filters": {"type": "array", "items": {"type": "string", "enum": ["news", "images"]}},
        "opts": {"type": "object", "properties": {"safe": {"type": "boolean"}, "ratio": {"type": "number"}}},
        "mode": {"type": ["string", "null"], "enum": ["fast", "deep"]}},
        "required": ["query"]}}},
    {"type": "function", "function": {"name": "noargs", "description": "",
                                      "parameters": {"type": "object", "properties": {}}}}]
TOOLS3 = [{"type": "code_interpreter"},
          {"type": "function", "function": {"name": "calc", "parameters": {
              "type": "object", "properties": {"expr": {"type": "string"}}, "required": ["expr"]}}}]
TEXTS = ["Hello", "", "  spaced  ", "多行\n文本", "<think>\nhmm\n</think>\n\nAnswer", "a 'quote' \"dq\" \\ back",
         "😀 emoji", "line1\nline2\n"]


def random_context(rng):
    def content():
        r = rng.random()
        if r < 0.7:
            return rng.choice(TEXTS)
        if r < 0.8:
            return None
        return [{"type": "text", "text": rng.choice(TEXTS)}] + ([{"type": "image"}] if rng.random() < 0.3 else [])

    def message(role):
        m = {"role": role, "content": content()}
        if role == "assistant" and rng.random() < 0.3:
            m["tool_calls"] = [{"id": "call12345", "type": "function", "function": {
                "name": rng.choice(["get_weather", "search"]),
                "arguments": rng.choice([{"location": "Paris"}, {}, {"a": 1, "b": [1.5, None, True]}, '{"q": "s"}'])}}
                for _ in range(rng.randint(1, 2))]
        if role == "assistant" and rng.random() < 0.2:
            m["reasoning_content"] = "thinking..."
        if role == "tool":
            m["tool_call_id"] = "call12345"
            m["name"] = "get_weather"
        if rng.random() < 0.05:
            del m["content"]
        return m

    msgs = [message("system")] if rng.random() < 0.5 else []
    for i in range(rng.randint(1, 5)):
        msgs.append(message(rng.choice(["user", "assistant", "user", "tool"]) if i else "user"))
    ctx = {"messages": msgs, "add_generation_prompt": rng.random() < 0.6, "bos_token": "<s>", "eos_token": "</s>",
           "tools": rng.choice([make_golden.TOOLS, TOOLS2, TOOLS3]) if rng.random() < 0.5 else None,
           "documents": None}
    if rng.random() < 0.15:
        ctx["documents"] = [{"title": "Doc 1", "text": "Paris is in France."}, {"title": "文档", "text": "北京"}]
    if rng.random() < 0.3:
        ctx["enable_thinking"] = rng.random() < 0.5
    return ctx


def render_both(binary, text, tmpl_path, ctx, ctx_path):
    try:
        py = ("ok", make_golden.compile_template(text).render(**ctx))
    except Exception as e:  # any jinja2 or Python error
        py = ("error", "%s: %s" % (type(e).__name__, e))
    r = subprocess.run([binary, "template", tmpl_path, "--context", ctx_path,
                        "--date", make_golden.FIXED_DATE.strftime("%Y-%m-%d")], capture_output=True, timeout=60)
    ours = ("ok", r.stdout.decode("utf-8", "replace")) if r.returncode == 0 else \
        ("error", r.stderr.decode("utf-8", "replace").strip())
    return py, ours


def random_mode(binary, n, seed, show):
    import tempfile
    rng = random.Random(seed)
    contexts = [random_context(rng) for _ in range(n)]
    stats = {"same": 0, "differ": 0}
    with tempfile.TemporaryDirectory() as tmp:
        ctx_paths = []
        for i, ctx in enumerate(contexts):
            ctx_paths.append(os.path.join(tmp, "ctx%d.json" % i))
            with open(ctx_paths[-1], "w", encoding="utf-8") as f:
                json.dump(ctx, f, ensure_ascii=False)
        for tid, _, _, text, _ in make_golden.templates():
            tmpl_path = os.path.join(tmp, "t.jinja")
            with open(tmpl_path, "w", encoding="utf-8") as f:
                f.write(text)
            for ctx, ctx_path in zip(contexts, ctx_paths):
                py, ours = render_both(binary, text, tmpl_path, ctx, ctx_path)
                same = (py[0] == "error" and ours[0] == "error") or py == ours
                stats["same" if same else "differ"] += 1
                if not same and show > 0:
                    show -= 1
                    print("=====", tid, json.dumps(ctx, ensure_ascii=False)[:300])
                    print("  jinja2:", py[0], repr(py[1][:300]))
                    print("  llmkit:", ours[0], repr(ours[1][:300]))
    print(stats)
    return 1 if stats["differ"] else 0


def main():
    args = sys.argv[1:]
    show = 20
    if "--show" in args:
        i = args.index("--show")
        show = int(args[i + 1])
        del args[i:i + 2]
    if len(args) >= 3 and args[1] == "--random":
        seed = 1
        if "--seed" in args:
            seed = int(args[args.index("--seed") + 1])
        return random_mode(args[0], int(args[2]), seed, show)
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
