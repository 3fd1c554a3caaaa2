#!/usr/bin/env bash
# `llmkit pull`, `list`, `rm` and MODEL resolution against a fake hub
# (tests/hub/fake_hub.py on 127.0.0.1; never the real internet): redirects,
# resume with Range after a dropped connection, retries, sha256 checks, gated
# and missing repos, path traversal, offline messages. The store is always a
# temporary LLMKIT_HOME.
set -u
bin=${LLMKIT_BIN:?}
src=${LLMKIT_SOURCE_DIR:?}
fx=${LLMKIT_FIXTURES:-}
command -v python3 >/dev/null || { echo "SKIP: python3 not found (needed for the fake hub)"; exit 77; }
fail=0
check() { # check NAME OUTPUT PATTERN
  if ! grep -qE -- "$3" <<<"$2"; then echo "FAIL: $1: output lacks /$3/"; echo "$2" | head -20; fail=1; fi
}
tmp=$(mktemp -d)
hub_pid=
stop_hub() { if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null; wait "$hub_pid" 2>/dev/null; hub_pid=; fi; }
trap 'stop_hub; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
start_hub() { # start_hub [fake_hub.py flags...]: sets HF_ENDPOINT
  stop_hub
  rm -f "$tmp/port" "$tmp/hub.log"
  python3 "$src/tests/hub/fake_hub.py" --root "$tmp/hub" --port-file "$tmp/port" --log "$tmp/hub.log" "$@" &
  hub_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  [ -s "$tmp/port" ] || { echo "FAIL: the fake hub did not start"; exit 1; }
  export HF_ENDPOINT="http://127.0.0.1:$(cat "$tmp/port")"
}
export LLMKIT_HOME="$tmp/store" LLMKIT_PULL_BACKOFF_MS=10 LLMKIT_PULL_RETRIES=0
unset HF_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'  # the fake hub is local: never through a proxy

# ---------------------------------------------------------------- the repos
# A tiny gpt2 HF folder (written here: config + safetensors), several copies.
python3 - "$tmp/hub" <<'PY'
import json, os, struct, sys
root = sys.argv[1]
def tensor_file(path, tensors):
    header, data = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
def hf_repo(repo, big=False):
    d = os.path.join(root, repo); os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    json.dump({"model_type": "gpt2", "vocab_size": 8, "n_embd": 4, "n_layer": 1, "n_head": 2,
               "n_positions": 16, "bos_token_id": 0, "eos_token_id": 0}, open(d + "/config.json", "w"))
    json.dump({"model_max_length": 16}, open(d + "/tokenizer_config.json", "w"))
    open(d + "/README.md", "w").write("# not needed by llmkit\n")
    open(d + "/onnx/model.onnx", "wb").write(b"\0" * 16)
    n = 4096 if big else 8  # vocab rows: "big" makes a 64 KiB file, enough to cut in half
    if big:
        json.dump({"model_type": "gpt2", "vocab_size": n, "n_embd": 4, "n_layer": 1, "n_head": 2,
                   "n_positions": 16, "bos_token_id": 0, "eos_token_id": 0}, open(d + "/config.json", "w"))
    tensor_file(d + "/model.safetensors", [
        ("wte.weight", [n, 4], [float(i % 97) for i in range(n * 4)]),
        ("wpe.weight", [16, 4], [float(-i) for i in range(64)]),
        ("h.0.attn.c_attn.weight", [4, 12], [float(i) for i in range(48)]),
        ("h.0.attn.c_attn.bias", [12], [1.0] * 12),
        ("ln_f.weight", [4], [1.0] * 4)])
for r in ("test/tiny-hf", "test/gated", "test/evil", "Qwen/Qwen2.5-0.5B-Instruct"):
    hf_repo(r)
for r in ("test/big", "test/big2", "test/big3", "test/big4", "test/corrupt"):
    hf_repo(r, big=True)
PY
gguf="$fx/gguf/stories260K.gguf"
if [ -f "$gguf" ]; then
  mkdir -p "$tmp/hub/test/tiny-gguf"
  cp "$gguf" "$tmp/hub/test/tiny-gguf/stories260K.gguf"
  cp "$gguf" "$tmp/hub/test/tiny-gguf/stories260K-copy.gguf"
  echo '{}' > "$tmp/hub/test/tiny-gguf/config.json"
else
  echo "note: $gguf absent: GGUF pulls not tested"
fi
touch "$tmp/sentinel"

start_hub --gated test/gated=s3cret --evil test/evil

# ---------------------------------------------------------------- pull an HF folder
out=$("$bin" pull test/tiny-hf 2>&1); rc=$?
[ $rc -eq 0 ] || { echo "FAIL: pull test/tiny-hf exit $rc"; echo "$out"; fail=1; }
snap="$LLMKIT_HOME/models/test/tiny-hf/snapshots/main"
check "pull prints the path" "$out" "^$snap\$"
for f in config.json tokenizer_config.json model.safetensors; do
  cmp -s "$snap/$f" "$tmp/hub/test/tiny-hf/$f" || { echo "FAIL: $f not fetched intact"; fail=1; }
done
for f in README.md onnx/model.onnx model.safetensors.part; do
  [ ! -e "$snap/$f" ] || { echo "FAIL: $f fetched though not selected"; fail=1; }
done
check "refs holds the commit" "$(cat "$LLMKIT_HOME/models/test/tiny-hf/refs/main")" '^0123456789abcdef0123456789abcdef01234567$'
check "LFS file went through the redirect" "$(cat "$tmp/hub.log")" '^GET /cdn/test/tiny-hf/model.safetensors '
out=$("$bin" info test/tiny-hf 2>&1) || { echo "FAIL: info test/tiny-hf"; echo "$out"; fail=1; }
check "info by repo id" "$out" '^architecture: +gpt2$'
check "info by repo id@rev" "$("$bin" info test/tiny-hf@main 2>&1)" '^architecture: +gpt2$'

# A second pull fetches nothing again.
: > "$tmp/hub.log"
out=$("$bin" pull test/tiny-hf 2>&1) || { echo "FAIL: second pull"; fail=1; }
check "second pull" "$out" 'model.safetensors: already here'
if grep -q resolve "$tmp/hub.log"; then echo "FAIL: second pull downloaded again"; fail=1; fi

# --include replaces the selection; nested files land in folders.
out=$("$bin" pull test/tiny-hf@v1 --include 'onnx/*' --include README.md 2>&1) || { echo "FAIL: pull --include: $out"; fail=1; }
v1="$LLMKIT_HOME/models/test/tiny-hf/snapshots/v1"
[ -f "$v1/onnx/model.onnx" ] && [ -f "$v1/README.md" ] && [ ! -e "$v1/config.json" ] || { echo "FAIL: --include selection"; ls -R "$v1"; fail=1; }

# ---------------------------------------------------------------- GGUF
if [ -f "$gguf" ]; then
  out=$("$bin" pull test/tiny-gguf --file stories260K.gguf 2>&1) || { echo "FAIL: pull gguf: $out"; fail=1; }
  check "gguf path" "$out" 'snapshots/main/stories260K\.gguf$'
  [ ! -e "$LLMKIT_HOME/models/test/tiny-gguf/snapshots/main/stories260K-copy.gguf" ] || { echo "FAIL: unchosen gguf fetched"; fail=1; }
  check "info gguf by repo id" "$("$bin" info test/tiny-gguf 2>&1)" '^dim: +64$'
  # Every MODEL argument takes a stored repo id.
  check "tokenize by repo id" "$("$bin" tokenize test/tiny-gguf "Once upon a time" 2>&1)" '403'
  check "run by repo id" "$("$bin" run test/tiny-gguf -p "Once upon a time" -n 8 --temp 0 2>/dev/null)" 'there was a little girl'
  out=$("$bin" pull test/tiny-gguf --file nope.gguf 2>&1); rc=$?
  [ $rc -eq 1 ] || { echo "FAIL: --file missing exit $rc"; fail=1; }
  check "--file missing" "$out" "has no file 'nope.gguf'.*stories260K-copy.gguf"
fi

# ---------------------------------------------------------------- errors
out=$("$bin" pull test/missing 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: 404 repo exit $rc"; fail=1; }
check "404 repo" "$out" 'no such repo/revision/file'
out=$("$bin" pull test/tiny-hf@nope 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: 404 revision exit $rc"; fail=1; }
check "404 revision" "$out" 'no such repo/revision/file'
out=$("$bin" pull test/gated 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: gated exit $rc"; fail=1; }
check "401 gated" "$out" 'gated or private repo: set HF_TOKEN or pass --token'
out=$("$bin" pull test/gated --token wrong 2>&1)
check "401 wrong token" "$out" 'gated or private repo'
"$bin" pull test/gated --token s3cret >/dev/null 2>&1 || { echo "FAIL: gated with --token"; fail=1; }
"$bin" rm test/gated 2>/dev/null
HF_TOKEN=s3cret "$bin" pull test/gated >/dev/null 2>&1 || { echo "FAIL: gated with HF_TOKEN"; fail=1; }

: > "$tmp/hub.log"
for bad in '../etc' 'test/../x' '..' 'a/b/c' '.hidden/x' 'test/x@bad;rev' 'test/x@../../etc' 'test/x@-rf' "$(printf 'test/x\ny')"; do
  out=$("$bin" pull "$bad" 2>&1); rc=$?
  [ $rc -eq 1 ] || { echo "FAIL: pull '$bad' exit $rc"; fail=1; }
  check "refuse '$bad'" "$out" 'repo id|revision'
done
out=$("$bin" pull test/tiny-hf --file ../../x.gguf 2>&1); rc=$?
[ $rc -eq 1 ] && check "refuse --file ../" "$out" "'\.\.'" || { echo "FAIL: --file ../ exit $rc"; fail=1; }
[ ! -s "$tmp/hub.log" ] || { echo "FAIL: refused ids reached the hub"; cat "$tmp/hub.log"; fail=1; }
out=$("$bin" pull test/evil 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: evil listing exit $rc"; fail=1; }
check "evil listing" "$out" 'escape the model store; refusing'
[ -z "$(find "$tmp" -name escape.json)" ] || { echo "FAIL: escape.json written"; fail=1; }
grep -q '/resolve/' "$tmp/hub.log" && { echo "FAIL: evil repo files fetched"; fail=1; }

# ---------------------------------------------------------------- resume
start_hub --drop-once model.safetensors
out=$("$bin" pull test/big 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: dropped transfer exit $rc"; echo "$out"; fail=1; }
check "dropped transfer" "$out" 'cannot fetch model\.safetensors.*HF_ENDPOINT'
part="$LLMKIT_HOME/models/test/big/snapshots/main/model.safetensors.part"
[ -s "$part" ] || { echo "FAIL: no partial file kept"; fail=1; }
check "list shows partial" "$("$bin" list 2>&1)" '^test/big +main .*\(partial\)$'
check "partial does not resolve" "$("$bin" info test/big 2>&1)" 'not in the model store completely'
out=$("$bin" pull test/big 2>&1) || { echo "FAIL: resumed pull: $out"; fail=1; }
grep -qE 'GET /cdn/test/big/model.safetensors range=bytes=[1-9][0-9]*-' "$tmp/hub.log" || { echo "FAIL: no Range request"; cat "$tmp/hub.log"; fail=1; }
cmp -s "$tmp/hub/test/big/model.safetensors" "$LLMKIT_HOME/models/test/big/snapshots/main/model.safetensors" || { echo "FAIL: resumed file differs"; fail=1; }
[ ! -e "$part" ] || { echo "FAIL: .part left"; fail=1; }

# The same within one run: retries resume by themselves; a 503 listing is retried.
start_hub --drop-once model.safetensors --fail-api 1
out=$(LLMKIT_PULL_RETRIES=2 "$bin" pull test/big2 2>&1) || { echo "FAIL: pull with retries: $out"; fail=1; }
check "retry notice" "$out" 'retrying in'
grep -qE 'GET /cdn/test/big2/model.safetensors range=bytes=[1-9]' "$tmp/hub.log" || { echo "FAIL: retry without Range"; fail=1; }
cmp -s "$tmp/hub/test/big2/model.safetensors" "$LLMKIT_HOME/models/test/big2/snapshots/main/model.safetensors" || { echo "FAIL: retried file differs"; fail=1; }

# ---------------------------------------------------------------- checksum mismatch
start_hub --corrupt model.safetensors
out=$("$bin" pull test/corrupt 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: corrupt exit $rc"; fail=1; }
check "checksum mismatch" "$out" 'model\.safetensors: checksum mismatch: sha256 [0-9a-f]{64}, the hub says [0-9a-f]{64}; the corrupt file was removed'
ls "$LLMKIT_HOME/models/test/corrupt/snapshots/main/" | grep -q model.safetensors && { echo "FAIL: corrupt file kept"; fail=1; }

# ---------------------------------------------------------------- a moved branch
start_hub --commit fedcba9876543210fedcba9876543210fedcba98
out=$("$bin" pull test/tiny-hf 2>&1) || { echo "FAIL: pull after the branch moved: $out"; fail=1; }
check "moved branch" "$out" 'test/tiny-hf@main moved from 0123456789ab to fedcba987654: replacing'
check "refs updated" "$(cat "$LLMKIT_HOME/models/test/tiny-hf/refs/main")" '^fedcba9876543210fedcba9876543210fedcba98$'
[ -f "$snap/model.safetensors" ] && [ ! -e "$LLMKIT_HOME/models/test/tiny-hf/refs/main@pulling" ] || { echo "FAIL: moved branch re-pull"; fail=1; }

# ---------------------------------------------------------------- the token stays with the hub
start_hub --gated test/gated=s3cret --cdn-host localhost
"$bin" rm test/gated 2>/dev/null
HF_TOKEN=s3cret "$bin" pull test/gated >/dev/null 2>&1 || { echo "FAIL: gated pull via another CDN host"; fail=1; }
grep -q 'GET /api/models/test/gated/revision/main range=- auth=yes' "$tmp/hub.log" || { echo "FAIL: no token to the API"; fail=1; }
grep -q 'GET /cdn/test/gated/model.safetensors range=- auth=no' "$tmp/hub.log" || { echo "FAIL: token forwarded to another host"; cat "$tmp/hub.log"; fail=1; }

# ---------------------------------------------------------------- a server that ignores Range
start_hub --drop-once model.safetensors --no-range
out=$(LLMKIT_PULL_RETRIES=1 "$bin" pull test/big3 2>&1) || { echo "FAIL: pull without Range support: $out"; fail=1; }
cmp -s "$tmp/hub/test/big3/model.safetensors" "$LLMKIT_HOME/models/test/big3/snapshots/main/model.safetensors" || { echo "FAIL: file differs after a 200 to a Range request"; fail=1; }

# ---------------------------------------------------------------- a full disk (file size limit)
out=$(trap '' XFSZ; ulimit -f 16; "$bin" pull test/big4 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: full disk exit $rc"; echo "$out"; fail=1; }
check "full disk" "$out" 'model\.safetensors\.part: write failed: File too large'

# ---------------------------------------------------------------- progress on a terminal
if command -v script >/dev/null; then
  out=$(LLMKIT_HOME="$tmp/store-tty" script -qec "$bin pull test/big" /dev/null 2>&1)
  check "progress bar on a tty" "$out" 'model\.safetensors +\[#+\] +100% +64\.[0-9] KiB / 64\.[0-9] KiB'
  out=$("$bin" pull test/big 2>&1)
  grep -q '100%' <<<"$out" && { echo "FAIL: progress bar drawn into a pipe"; fail=1; }
fi

# ---------------------------------------------------------------- offline
stop_hub
out=$(HF_ENDPOINT=http://127.0.0.1:1 "$bin" pull test/tiny-hf@v1 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: offline exit $rc"; fail=1; }
check "offline" "$out" 'cannot fetch the file list of test/tiny-hf@v1 from http://127\.0\.0\.1:1: .*HF_ENDPOINT.*local model path'
check "store works offline" "$("$bin" info test/tiny-hf 2>&1)" '^architecture: +gpt2$'

# ---------------------------------------------------------------- list / rm
out=$("$bin" list 2>&1)
check "list hf" "$out" '^test/tiny-hf +main +[0-9.]+ [KM]?i?B +hf$'
check "list v1" "$out" '^test/tiny-hf +v1 '
[ -f "$gguf" ] && check "list gguf" "$out" '^test/tiny-gguf +main .* gguf$'
"$bin" rm test/tiny-hf@v1 2>/dev/null || { echo "FAIL: rm @v1"; fail=1; }
out=$("$bin" list 2>&1)
check "rm @v1 keeps main" "$out" '^test/tiny-hf +main'
grep -q 'tiny-hf +v1' <<<"$out" && { echo "FAIL: v1 still listed"; fail=1; }
"$bin" rm test/tiny-hf 2>/dev/null || { echo "FAIL: rm"; fail=1; }
[ ! -e "$LLMKIT_HOME/models/test/tiny-hf" ] || { echo "FAIL: rm left the folder"; fail=1; }
out=$("$bin" rm test/tiny-hf 2>&1); rc=$?
[ $rc -eq 1 ] && check "rm missing" "$out" 'not in the model store' || { echo "FAIL: rm missing exit $rc"; fail=1; }
for bad in '../store' 'test/..' '/tmp'; do
  out=$("$bin" rm "$bad" 2>&1); rc=$?
  [ $rc -eq 1 ] || { echo "FAIL: rm '$bad' exit $rc"; fail=1; }
done
[ -f "$tmp/sentinel" ] && [ -d "$LLMKIT_HOME/models" ] || { echo "FAIL: rm touched something outside"; fail=1; }
"$bin" pull --help | grep -q -- '--include' || { echo "FAIL: pull --help"; fail=1; }
"$bin" pull >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: pull usage exit"; fail=1; }
LLMKIT_HOME="$tmp/empty" "$bin" list 2>&1 | grep -q 'no models' || { echo "FAIL: empty list"; fail=1; }

[ $fail -eq 0 ] && echo "e2e_hub: ok"
exit $fail
