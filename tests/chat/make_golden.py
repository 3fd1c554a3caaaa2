#!/usr/bin/python3
"""Writes the golden chat-template renderings that tests/test_chat_template.c
checks llmkit against, byte for byte.

The reference is Python's jinja2 (Debian python3-jinja2) configured the way
Hugging Face transformers' apply_chat_template configures it
(transformers/utils/chat_template_utils.py, _compile_jinja_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
loopcontrols extension and a no-op {% generation %} tag, the tojson filter
replaced by json.dumps(ensure_ascii=False, indent, separators, sort_keys), and
the globals raise_exception and strftime_now. The template is rendered with
messages, tools, documents, add_generation_prompt, the tokenizer's special
tokens and extra keyword arguments (enable_thinking).

strftime_now is pinned to FIXED_DATE so the goldens do not change with the
day; the C test passes the same date to llmkit.

Output: tests/chat/golden/conversations.json (the battery of contexts) and
one tests/chat/golden/<family>__<template>.json per template with, for each
conversation, the expected output or the expected error.

Usage: /usr/bin/python3 tests/chat/make_golden.py [FIXTURES_DIR]
"""
import datetime
import glob
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden")
FIXTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "fixtures")
TEMPLATES = os.path.join(FIXTURES, "chat-templates")

# 2026-07-26 09:05:00 UTC, as seconds since the epoch (the C test uses the same).
FIXED_EPOCH = 1785056700
FIXED_DATE = datetime.datetime.fromtimestamp(FIXED_EPOCH, datetime.timezone.utc).replace(tzinfo=None)


class GenerationTag(Extension):
    """transformers' AssistantTracker, minus the tracking: the body is rendered as is."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_DATE.strftime(fmt)


def compile_template(text):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(text)


# ---------------------------------------------------------------- the battery

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name, e.g. 北京"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}]

TOOL_CALL = {"id": "call12345", "type": "function",
             "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}

SYS = {"role": "system", "content": "You are a helpful assistant."}
U1 = {"role": "user", "content": "Hello, how are you?"}
A1 = {"role": "assistant", "content": "I'm doing great. How can I help you today?"}
U2 = {"role": "user", "content": "I'd like to show off how chat templating works!"}


def conversations():
    c = []

    def add(name, messages, agp=True, tools=None, **extra):
        ctx = {"messages": messages, "add_generation_prompt": agp}
        if tools is not None:
            ctx["tools"] = tools
        ctx.update(extra)
        c.append({"name": name, "context": ctx})

    # The three conversations of ollama's template tests (see PROVENANCE.md).
    add("user", [U1])
    add("user-assistant-user", [U1, A1, U2])
    add("system-user-assistant-user", [SYS, U1, A1, U2])
    add("system-user", [SYS, U1])
    add("user-no-gen", [U1], agp=False)
    add("user-assistant-no-gen", [U1, A1], agp=False)
    add("chinese", [{"role": "system", "content": "你是一个乐于助人的助手。"},
                    {"role": "user", "content": "你好！请介绍一下北京。"},
                    {"role": "assistant", "content": "北京是中国的首都，历史悠久。"},
                    {"role": "user", "content": "谢谢 \"引号\" and 'quotes' \\ 😀"}])
    add("empty-content", [{"role": "user", "content": ""}, {"role": "assistant", "content": ""},
                          {"role": "user", "content": "  spaced  \n"}])
    add("tools", [SYS, {"role": "user", "content": "What's the weather in Paris?"}], tools=TOOLS)
    add("tool-call", [{"role": "user", "content": "What's the weather in Paris?"},
                      {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
                      {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
                       "content": "{\"temperature\": 22, \"condition\": \"晴\"}"},
                      ], tools=TOOLS)
    add("tool-call-answer", [{"role": "user", "content": "What's the weather in Paris?"},
                             {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
                             {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
                              "content": "22 degrees"},
                             {"role": "assistant", "content": "It is 22 °C in Paris."},
                             {"role": "user", "content": "Thanks!"}], tools=TOOLS)
    add("thinking-off", [U1], enable_thinking=False)
    add("thinking-history", [U1, {"role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nFine, thanks."},
                             U2], enable_thinking=True)
    return c


# ---------------------------------------------------------------- templates

def special_tokens(cfg):
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        v = cfg.get(key)
        if isinstance(v, dict):
            v = v.get("content")
        if isinstance(v, str):
            out[key] = v
    return out


DEFAULT_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


def templates():
    """Yields (id, fixture-relative path, key-or-None, template text, special tokens)."""
    def rel(p):
        return os.path.relpath(p, FIXTURES)
    for p in sorted(glob.glob(os.path.join(TEMPLATES, "llamacpp-templates", "*.jinja"))):
        yield "llamacpp__" + os.path.basename(p)[:-6], rel(p), None, open(p, encoding="utf-8").read(), DEFAULT_TOKENS
    for p in sorted(glob.glob(os.path.join(TEMPLATES, "chujiezheng", "chat_templates", "*.jinja"))):
        yield "chujiezheng__" + os.path.basename(p)[:-6], rel(p), None, open(p, encoding="utf-8").read(), DEFAULT_TOKENS
    p = os.path.join(TEMPLATES, "ollama", "qwen3-8b_chat_template.jinja")
    if os.path.exists(p):
        yield "ollama__qwen3-8b", rel(p), None, open(p, encoding="utf-8").read(), DEFAULT_TOKENS
    for d in sorted(glob.glob(os.path.join(TEMPLATES, "tokenizer_configs", "*"))):
        name = os.path.basename(d)
        cfg_path = os.path.join(d, "tokenizer_config.json")
        cfg = json.load(open(cfg_path, encoding="utf-8")) if os.path.exists(cfg_path) else {}
        toks = special_tokens(cfg) or DEFAULT_TOKENS
        ct = cfg.get("chat_template")
        if isinstance(ct, str):
            yield "hf__" + name, rel(cfg_path), None, ct, toks
        elif isinstance(ct, list):
            for item in ct:
                yield "hf__%s__%s" % (name, item["name"]), rel(cfg_path), item["name"], item["template"], toks
        for extra in ("chat_template.jinja", "chat_template.json"):
            p = os.path.join(d, extra)
            if not os.path.exists(p):
                continue
            if extra.endswith(".json"):
                text = json.load(open(p, encoding="utf-8"))["chat_template"]
            else:
                text = open(p, encoding="utf-8").read()
            yield "hf__%s__%s" % (name, extra.replace(".", "_")), rel(p), None, text, toks


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, "*.json")):
        os.remove(old)
    convs = conversations()
    with open(os.path.join(OUT, "conversations.json"), "w", encoding="utf-8") as f:
        json.dump({"fixed_epoch": FIXED_EPOCH, "conversations": convs}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total = ok = 0
    for tid, path, key, text, toks in templates():
        tmpl = compile_template(text)
        cases = []
        for conv in convs:
            ctx = dict(toks)
            ctx.update(conv["context"])
            # transformers always passes these two, None when absent.
            ctx.setdefault("tools", None)
            ctx.setdefault("documents", None)
            total += 1
            try:
                cases.append({"name": conv["name"], "output": tmpl.render(**ctx)})
                ok += 1
            except jinja2.exceptions.TemplateError as e:
                cases.append({"name": conv["name"], "error": type(e).__name__, "message": str(e)})
            except Exception as e:  # e.g. TypeError from '+' on None
                cases.append({"name": conv["name"], "error": type(e).__name__, "message": str(e)})
        with open(os.path.join(OUT, tid + ".json"), "w", encoding="utf-8") as f:
            json.dump({"template": path, "key": key, "special_tokens": toks, "cases": cases},
                      f, ensure_ascii=False, indent=1)
            f.write("\n")
    print("make_golden: %d renderings (%d errors) from jinja2 %s into %s" % (total, total - ok, jinja2.__version__, OUT))


if __name__ == "__main__":
    main()
