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
    # OpenAI-style clients send arguments as a JSON string and content null
    # next to tool calls; some templates expect exactly that.
    add("tool-call-openai-style", [{"role": "user", "content": "Weather in Paris?"},
                                   {"role": "assistant", "content": None, "tool_calls": [
                                       {"id": "call12345", "type": "function",
                                        "function": {"name": "get_weather", "arguments": "{\"location\": \"Paris\"}"}}]},
                                   {"role": "tool", "tool_call_id": "call12345", "content": "sunny"}], tools=TOOLS)
    # multimodal-style content parts (text only)
    add("content-parts", [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                          {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this."}]}])
    add("reasoning-content", [U1, {"role": "assistant", "content": "Fine.", "reasoning_content": "Greeting; answer briefly."},
                              U2], enable_thinking=True)
    add("thinking-off", [U1], enable_thinking=False)
    add("thinking-history", [U1, {"role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nFine, thanks."},
                             U2], enable_thinking=True)
    return c


# ---------------------------------------------------------------- engine features
# Small templates exercising one feature each; tests/test_jinja.c renders them
# with llmkit and compares with what jinja2 produced.

FEATURE_CTX = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],
               "d": {"b": 2, "a": 1, "C": 3}, "xs": [3, 1, 2, 1], "s": "  Hello World  ", "zh": "你好，世界",
               "n": None, "f": 2.5, "i": -7, "t": True, "objs": [{"k": "x", "v": 1}, {"k": "y", "v": 0}, {"k": "z"}]}

FEATURES = [
    # output and literals
    ("print-types", "{{ 1 }} {{ 1.5 }} {{ 1e20 }} {{ 0.0001 }} {{ 1e-5 }} {{ true }} {{ none }} {{ 'a' }} {{ [1, 'b', none, true] }}"),
    ("print-dict", "{{ {'a': 1, 'b': [2.0, 'x'], 'c': {'d': none}} }}|{{ d }}"),
    ("print-tuple", "{{ (1,) }} {{ (1, 2) }} {{ () }} {{ 1, 2 }}"),
    ("repr-quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'nl\\n\\ttab\\\\'] }}"),
    ("repr-unicode", "{{ [zh, '\\x01', '\\u00e9'] }}"),
    ("string-escapes", "{{ 'a\\nb\\tc\\\\d\\'e\\\"f\\x41\\u4e2d\\U0001F600\\d' }}"),
    ("string-adjacent", "{{ 'a' 'b' \"c\" }}"),
    ("float-repr", "{{ 0.1 + 0.2 }} {{ 1/3 }} {{ 10/2 }} {{ 2.0 ** 70 }} {{ -0.0 }} {{ 123456789012345678.0 }}"),
    # arithmetic and operators
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7 / 2 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 1 + 2 * 3 - 4 }} {{ -i }} {{ f * 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}"),
    ("concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ undefined_var }}|{{ 'a' + 'b' }}|{{ [1] + [2] }}"),
    ("compare", "{{ 1 < 2 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 != 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ true == 1 }} {{ none == none }} {{ 'a' == 'a' }}"),
    ("in", "{{ 'ell' in s }} {{ 1 in xs }} {{ 'a' in d }} {{ 'z' not in d }} {{ 5 not in xs }} {{ 'x' in undefined_var }}"),
    ("logic", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not 0 }} {{ not none }} {{ [] or {} }} {{ 'a' if t else 'b' }} {{ 'a' if not t else 'b' }} [{{ 'a' if false }}]"),
    ("precedence", "{{ not 1 == 2 }} {{ -2 ** 2 }} {{ 'a' ~ 2 * 3 }} {{ 1 + 2 * 3 ** 2 }} {{ 'ab' | upper ~ 'c' }} {{ -1 | abs }}"),
    # subscripts and slices
    ("index", "{{ xs[0] }} {{ xs[-1] }} {{ d['a'] }} {{ d.a }} {{ zh[1] }} {{ zh[-1] }} {{ messages[0].role }} {{ messages[-1]['content'] }} [{{ xs[10] }}] [{{ d.nope }}]"),
    ("slice", "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[1:3] }} {{ zh[1:3] }} {{ zh[::-1] }} {{ s[2:7] }} {{ xs[5:] }} {{ xs[-10:2] }} {{ messages[1:] | length }}"),
    # tests
    ("tests", "{{ n is none }} {{ n is not none }} {{ s is string }} {{ d is mapping }} {{ xs is iterable }} {{ s is iterable }} {{ 1 is number }} {{ f is number }} {{ xs is sequence }} {{ nope is defined }} {{ nope is undefined }} {{ d is defined }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ t is true }} {{ t is false }} {{ f is float }} {{ i is integer }} {{ 1 is eq 1 }} {{ 'x' is in 'xyz' }} {{ t is boolean }} {{ 'a' is lower }} {{ n is sameas none }}"),
    # filters
    ("f-trim", "[{{ s | trim }}] [{{ 'xxaxx' | trim('x') }}] [{{ '\\n\\u3000全角\\u3000' | trim }}]"),
    ("f-case", "{{ s | upper }} {{ s | lower }} {{ 'hello wORLD' | capitalize }} {{ 'hello wORLD-foo (bar) o\\'neil' | title }} {{ 'straße' | upper }}"),
    ("f-length", "{{ xs | length }} {{ zh | length }} {{ d | length }} {{ nope | length }} {{ xs | count }}"),
    ("f-tojson", "{{ d | tojson }}|{{ messages | tojson(indent=2) }}|{{ zh | tojson }}|{{ [1.5, none, true, 'a\"b\\n\\u0001'] | tojson }}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ {} | tojson(indent=2) }}|{{ [] | tojson }}|{{ d | tojson(indent='\\t') }}"),
    ("f-join", "{{ xs | join(', ') }} {{ xs | join }} {{ objs | join('-', attribute='k') }}"),
    ("f-first-last", "{{ xs | first }} {{ xs | last }} {{ zh | first }} {{ d | first }}"),
    ("f-default", "{{ nope | default('dflt') }} {{ n | default('x') }} {{ n | default('x', true) }} {{ '' | d('empty', boolean=true) }} {{ s | default('no') }}"),
    ("f-items", "{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %} {% for k, v in d.items() %}{{ k }}:{{ v }};{% endfor %} {{ d.keys() | list }} {{ d.values() | list }} {{ d | list }}"),
    ("f-list-string", "{{ 'abc' | list }} {{ 12 | string }} {{ (12 | string) + 'x' }} {{ none | string }}"),
    ("f-int-float", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 4.9 | int }} {{ '2.5' | float }} {{ 3 | float }} {{ 'q' | float }}"),
    ("f-abs-round", "{{ i | abs }} {{ -2.5 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 7 | round }}"),
    ("f-unique", "{{ xs | unique | list }} {{ ['a', 'A', 'b'] | unique | list }} {{ ['a', 'A'] | unique(case_sensitive=true) | list }}"),
    ("f-map", "{{ objs | map(attribute='k') | list }} {{ ['a', 'b'] | map('upper') | list }} {{ objs | map(attribute='v', default=9) | list }}"),
    ("f-select", "{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ xs | select('gt', 1) | list }} {{ xs | select('equalto', 1) | list }}"),
    ("f-selectattr", "{{ objs | selectattr('v') | list }} {{ objs | rejectattr('v') | list }} {{ objs | selectattr('k', 'equalto', 'y') | list }} {{ objs | selectattr('v', 'defined') | map(attribute='k') | join }} {{ messages | selectattr('role', 'eq', 'user') | list | length }}"),
    ("f-dictsort", "{{ d | dictsort }} {{ d | dictsort(true) }} {{ d | dictsort(by='value') }} {{ d | dictsort(reverse=true) }}"),
    ("f-indent", "[{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}] [{{ 'x\\n' | indent }}]"),
    ("f-replace", "{{ s | replace('l', 'L') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ zh | replace('，', ', ') }}"),
    ("f-safe", "{{ '<b>' | safe }} {{ ('<' | safe) + '<&\"\\'>' }} {{ '<' + ('&' | safe) }} {{ ('a' | safe) ~ '<' }}"),
    ("f-misc", "{{ xs | sort }} {{ xs | sort(reverse=true) }} {{ xs | reverse | list }} {{ 'abc' | reverse }} {{ xs | sum }} {{ xs | min }} {{ xs | max }} {{ 'a b  c' | wordcount }} {{ '<a>' | e }} {{ objs | map(attribute='k') | sort(reverse=true) | join }}"),
    ("f-generators-truthy", "{{ (xs | select('gt', 100)) is true }} {% if xs | select('gt', 100) %}gen-truthy{% endif %} {% if xs | select('gt', 100) | list %}no{% else %}empty-list{% endif %}"),
    ("f-chain-args", "{{ messages | map(attribute='content') | map('lower') | join(' / ') | upper }}"),
    # str / dict / list methods
    ("m-strip", "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '<think>a</think>'.lstrip('<think>') }}]"),
    ("m-split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ '</think>x'.split('</think>')[-1] }} {{ 'k=v=w'.split('=', 1) }} {{ ''.split() }} {{ 'a  b c  '.split(none, 1) }}"),
    ("m-affix", "{{ s.startswith('  He') }} {{ s.endswith('x') }} {{ 'abc'.startswith(('x', 'a')) }} {{ zh.endswith('世界') }}"),
    ("m-case-replace", "{{ 'ab'.upper() }} {{ 'AB'.lower() }} {{ 'they\\'re bill\\'s'.title() }} {{ 'aXb'.capitalize() }} {{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 1) }} {{ 'abc'.replace('', '-') }}"),
    ("m-dict", "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }} {{ d.items() | list }} {{ d.keys() | list }}"),
    ("m-misc", "{{ 'a-b'.find('-') }} {{ 'aXaXa'.count('a') }} {{ ', '.join(['x', 'y']) }} {{ xs.index(2) }} {{ xs.count(1) }} {{ '12'.isdigit() }} {{ 'a\\nb'.splitlines() }}"),
    # statements
    ("if-elif", "{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}"),
    ("for-loop-vars", "{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }}/{{ loop.cycle('a', 'b') }};{% endfor %}"),
    ("for-else", "{% for x in [] %}x{% else %}empty{% endfor %} {% for x in nope %}x{% else %}undef-empty{% endfor %}"),
    ("for-filter", "{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% endfor %}"),
    ("for-unpack", "{% for a, b in [(1, 2), [3, 4]] %}{{ a }}{{ b }}{% endfor %} {% for k in d %}{{ k }}{% endfor %} {% for ch in 'ab' %}{{ ch }}{% endfor %}"),
    ("for-nested", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }}{% endfor %}{{ loop.index }}|{% endfor %}"),
    ("break-continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("scoping", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }} {% if true %}{% set x = 5 %}{% endif %}{{ x }}"),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}"),
    ("set-block", "{% set body %}  Hello {{ messages[0].content }}  {% endset %}[{{ body }}] {% set t2 | trim | upper %}  x y  {% endset %}[{{ t2 }}]"),
    ("set-tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set c = [1, 2] %}{{ c }}"),
    ("macro", "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C', punct='.') }} {{ greet() }}"),
    ("macro-recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(4) }}"),
    ("macro-outer", "{% set pre = 'P' %}{% macro m(x) %}{{ pre }}{{ x }}{{ messages | length }}{% endmacro %}{{ m(1) }}"),
    ("filter-block", "{% filter upper %}abc {{ 'def' }}{% endfilter %}"),
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }}"),
    ("dict-global", "{{ dict(a=1, b='x') }} {{ namespace(a=1).a }}"),
    ("strftime", "{{ strftime_now('%Y-%m-%d %H:%M %d %b %Y %B') }}"),
    ("raw", "{% raw %}{{ not rendered }}{% endraw %}"),
    ("comment", "a{# comment #}b\n  {# indented comment #}\nc"),
    # whitespace control, trim_blocks and lstrip_blocks
    ("ws-trim-blocks", "{% if true %}\nline\n{% endif %}\nend"),
    ("ws-lstrip-blocks", "x\n    {% if true %}\n    in\n    {% endif %}\ny"),
    ("ws-minus", "a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif -%}  e"),
    ("ws-plus", "a\n  {%+ if true %}b{% endif +%}\nc"),
    ("ws-var-no-lstrip", "x\n    {{ 'v' }}\n  y"),
    ("ws-trailing-newline", "a\n"),
    ("ws-crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n"),
    ("ws-lstrip-after-text", "ab  {% if true %}x{% endif %}"),
    ("ws-comment-trim", "a\n{# c #}\nb\n  {#- c -#}  \nd"),
    ("ws-mixed", "{%- for m in messages -%}\n  <{{ m.role }}>\n  {%- if m.content %} {{ m.content }}{% endif %}\n{% endfor %}\n"),
    # found by differential fuzzing against jinja2
    ("repr-nonprintable", "{{ ['\\u3000', '\\xa0', '\\ue009', '\\u200b', '\\U0001F600', '\\x7f'] }}"),
    ("m-splitlines-all", "{{ 'a\\vb\\x1cc\\u2028d\\r\\ne'.splitlines() }}"),
    ("f-int-default-passthrough", "{{ 'x' | int('none') }} {{ 'y' | float(none) }}"),
    ("tests-case", "{{ '' is lower }} {{ 'abc1' is lower }} {{ 'ABC' is upper }} {{ '中' is lower }} {{ nope is sequence }}"),
    ("index-non-sequence", "[{{ t[0] }}] [{{ i['x'] }}] [{{ true[0:] }}] [{{ 5[1:2] }}]"),
    ("format-percent", "{{ '%s-%s' % (1, 'a') }} {{ '%d%%' % 5 }} {{ '%r' % 'q' }}"),
    ("with", "{% set a = 0 %}{% with a = 1, b = a %}{{ a }}{{ b }}{% set c = 2 %}{% endwith %}{{ a }}[{{ c }}]"),
    ("m-list-mutating-allowed", "{% set l = [1, 2, 3] %}{{ l.pop() }}{{ l }}{{ l.pop(0) }}{{ l.copy() }}{{ l.clear() }}{{ l }}{{ d.copy() }}"),
    ("m-format", "{{ '{}-{}'.format(1, 'a') }} {{ '{1}{0}'.format('x', 'y') }} {{ '{n}!'.format(n=5) }} {{ '{{x}}'.format() }}"),
    ("tests-filter-test", "{{ 'tojson' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ ('a' | safe) is escaped }} {{ 'a' is escaped }}"),
    ("f-format-truncate-batch", "{{ '%s=%d' | format('a', 3) }} {{ 'Hello wonderful world of templates' | truncate(20) }} {{ 'Hello wonderful world' | truncate(10, true) }} {{ 'short' | truncate(3, end='') }} {{ 'abc' | truncate(5) }} {{ (zh * 10) | truncate(9) }} {{ (zh * 10) | truncate(12, leeway=0) }} {{ xs | batch(3) | list }} {{ xs | batch(3, 0) | list }}"),
    ("unknown-filter-unreached", "{% if false %}{{ x | nosuchfilter }}{{ x is nosuchtest }}{% endif %}ok"),
    # undefined behaviour
    ("undefined", "[{{ nope }}] [{{ nope | default('d') }}] {{ nope is defined }} [{{ n.attr }}] {% if nope %}x{% else %}falsy{% endif %} {{ nope == nope }} {{ nope != 1 }}"),
]

FEATURE_ERRORS = [
    ("err-raise", "{% if true %}\n  {{ raise_exception('Bad role: ' ~ messages[0].role) }}\n{% endif %}"),
    ("err-undefined-attr", "{{ nope.attr }}"),
    ("err-none-plus", "{{ 'a' + none }}"),
    ("err-tojson-undefined", "{{ nope | tojson }}"),
    ("err-call-undefined", "{{ nope() }}"),
    ("err-append", "{% set l = [] %}{{ l.append(1) }}"),
    ("err-none-iter", "{% for x in none %}{% endfor %}"),
    ("err-div0", "{{ 1 // 0 }}"),
    ("err-test-chain", "{{ 1 is number is true }}"),
    ("err-format-extra", "{{ 'a' % 'b' }}"),
    ("err-indent-int", "{{ 5 | indent }}"),
    ("err-filter-kwarg", "{{ 'a' | trim(bogus=1) }}"),
    ("err-test-args", "{{ 1 is number(2) }}"),
    ("err-break-outside", "{% break %}"),
    ("err-pow-overflow", "{{ 2.0 ** 100000 }}"),
    ("err-split-float", "{{ 'a b'.split(' ', 1.5) }}"),
    ("err-slice-non-sequence", "{{ t[0:] }}"),
    ("err-compare-list-tuple", "{{ [1] < (1, 2) }}"),
    ("err-dict-pop", "{{ d.pop('a') }}"),
    ("err-unknown-filter", "{{ x | nosuchfilter }}"),
    ("err-list-append", "{{ xs.append(1) }}"),
]


# ---------------------------------------------------------------- ollama

OLLAMA_CASES = {"user": [U1], "user-assistant-user": [U1, A1, U2],
                "system-user-assistant-user": [SYS, U1, A1, U2]}
# ollama's upstream test strips one trailing space for these (PROVENANCE.md).
OLLAMA_STRIP_SPACE = {"chatqa", "llama2-chat", "mistral-instruct", "openchat", "vicuna"}
# ollama renders without BOS (its tokenizer adds it); the EOS varies by family.
OLLAMA_TOKENS = [("", ""), ("", "</s>"), ("", "<|endoftext|>"), ("", "<|end|>"), ("", "<|eot_id|>"),
                 ("", "<eos>"), ("", "<|im_end|>")]


def ollama_matches():
    """Which (HF template in ollama/index.json, conversation) pairs jinja2
    renders exactly as ollama's expected output, and with which tokens. The
    others differ in jinja2 too: ollama's Go templates do not reproduce
    every HF template (default system prompts, BOS handling, ...)."""
    base = os.path.join(TEMPLATES, "ollama")
    index = json.load(open(os.path.join(base, "index.json"), encoding="utf-8"))
    matches, total = [], 0
    for i, entry in enumerate(index):
        tmpl = compile_template(entry["template"])
        for case, msgs in OLLAMA_CASES.items():
            path = os.path.join(base, "rendered", entry["name"] + ".gotmpl", case)
            if not os.path.exists(path):
                continue
            want = open(path, encoding="utf-8").read()
            total += 1
            for bos, eos in OLLAMA_TOKENS:
                try:
                    got = tmpl.render(messages=msgs, add_generation_prompt=True, bos_token=bos, eos_token=eos,
                                      tools=None, documents=None)
                except Exception:
                    continue
                strip = entry["name"] in OLLAMA_STRIP_SPACE and got.endswith(" ")
                if (got[:-1] if strip else got) == want:
                    matches.append({"index": i, "name": entry["name"], "case": case, "bos_token": bos,
                                    "eos_token": eos, "strip_trailing_space": strip})
                    break
    return {"total": total, "cases": OLLAMA_CASES, "matches": matches}


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
    features = []
    for name, text in FEATURES + FEATURE_ERRORS:
        case = {"name": name, "template": text}
        try:
            case["output"] = compile_template(text).render(**FEATURE_CTX)
        except Exception as e:
            case["error"] = type(e).__name__
            case["message"] = str(e)
        features.append(case)
    with open(os.path.join(HERE, "features.json"), "w", encoding="utf-8") as f:
        json.dump({"fixed_epoch": FIXED_EPOCH, "context": FEATURE_CTX, "cases": features}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("make_golden: %d feature cases" % len(features))
    om = ollama_matches()
    with open(os.path.join(HERE, "ollama_matches.json"), "w", encoding="utf-8") as f:
        json.dump(om, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("make_golden: jinja2 reproduces %d of %d ollama renderings" % (len(om["matches"]), om["total"]))
    print("make_golden: %d renderings (%d errors) from jinja2 %s into %s" % (total, total - ok, jinja2.__version__, OUT))


if __name__ == "__main__":
    main()
