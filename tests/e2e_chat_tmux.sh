#!/usr/bin/env bash
# `llmkit chat` as a person uses it, driven in a tmux terminal: a message and
# its streamed answer with the tokens/s line, /system, /clear, /save FILE,
# Ctrl-C during a long answer returns to the prompt, Ctrl-C or Ctrl-D at the
# prompt leaves, /exit leaves.
set -u
G="${LLMKIT_FIXTURES:-}/gguf"
if ! command -v tmux > /dev/null; then
  echo "SKIP: tmux is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
if [ ! -r "$G/stories260K-chatml.gguf" ]; then
  echo "SKIP: fixture gguf/stories260K-chatml.gguf not found"
  exit 77
fi
L="$LLMKIT_BIN"
M="$G/stories260K-chatml.gguf"
tmp=$(mktemp -d)
S="llmkit-chat-test-$$"
export TMUX_TMPDIR="$tmp"   # a private tmux server, never the user's
trap 'tmux kill-session -t "$S" 2>/dev/null; tmux kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; echo "--- screen:"; screen; fail=1; fi; }
screen() { tmux capture-pane -p -t "$S" -S -200 2>/dev/null; }
# waits up to $2 seconds for the screen to match the regex $1
wait_for() {
  local i
  for i in $(seq $(( $2 * 10 ))); do
    if screen | grep -Eq -- "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}
count() { screen | grep -Ec -- "$1"; }
# waits up to $3 seconds for $2 lines matching $1
wait_count() {
  local i
  for i in $(seq $(( $3 * 10 ))); do
    if [ "$(count "$1")" -ge "$2" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

tmux new-session -d -s "$S" -x 160 -y 50 \
  "'$L' chat '$M' --temp 0 -n 40 -c 2048 -t 1; echo CHAT-EXITED rc=\$?; sleep 60"
check 'wait_for "^>>>" 20' "the prompt appears"

tmux send-keys -t "$S" "hello there" Enter
check 'wait_for "tokens/s" 20' "an answer and its tokens/s line"
check 'wait_for "^>>>" 5' "back at the prompt"

# the second turn reuses the KV cache: fewer new prompt tokens than in all
tmux send-keys -t "$S" "go on" Enter
check 'wait_count "tokens/s" 2 20' "a second answer"
reuse=$(screen | grep -o "prompt [0-9]* tokens, [0-9]* new" | sed -n 2p)
check 'set -- $reuse; [ -n "$reuse" ] && [ "$4" -lt "$2" ]' "KV cache reused on the second turn: $reuse"

tmux send-keys -t "$S" "/system You are a storyteller." Enter
check 'wait_for "system message set" 5' "/system"
tmux send-keys -t "$S" "and then" Enter
check 'wait_count "tokens/s" 3 20' "a third answer"
tmux send-keys -t "$S" "/save $tmp/conv.json" Enter
check 'wait_for "saved 7 messages" 5' "/save reports the messages"
check '/usr/bin/python3 -c "
import json,sys
m=json.load(open(sys.argv[1]))
assert [x[\"role\"] for x in m]==[\"system\"]+[\"user\",\"assistant\"]*3, m
assert m[0][\"content\"]==\"You are a storyteller.\" and m[1][\"content\"]==\"hello there\"
" "$tmp/conv.json"' "the saved conversation"
tmux send-keys -t "$S" "/clear" Enter
check 'wait_for "conversation cleared" 5' "/clear"

# multi-line input: a trailing backslash continues the message
tmux send-keys -t "$S" 'first line\' Enter
check 'wait_for "^\.\.\." 5' "continuation prompt"
tmux send-keys -t "$S" "second line" Enter
check 'wait_count "tokens/s" 4 20' "multi-line message answered"
tmux send-keys -t "$S" "/save $tmp/ml.json" Enter
check 'wait_for "saved 3 messages" 5' "/save after /clear keeps only the system message and the new turn"
check '/usr/bin/python3 -c "
import json,sys
m=json.load(open(sys.argv[1]))
assert m[1][\"content\"]==\"first line\nsecond line\", m
" "$tmp/ml.json"' "the multi-line message joined with a newline"
tmux send-keys -t "$S" "/exit" Enter
check 'wait_for "CHAT-EXITED rc=0" 10' "/exit ends the session"
tmux kill-session -t "$S" 2>/dev/null

# Ctrl-C during a long answer (-n -1: to the end of the context) stops it
# and returns to the prompt; Ctrl-C at the prompt leaves.
tmux new-session -d -s "$S" -x 160 -y 50 \
  "'$L' chat '$M' --temp 0.8 --seed 1 -n -1 -c 2048 -t 1; echo CHAT-EXITED rc=\$?; sleep 60"
check 'wait_for "^>>>" 20' "the prompt appears (second session)"
tmux send-keys -t "$S" "tell me a very long story" Enter
sleep 0.5
tmux send-keys -t "$S" C-c
check 'wait_for "answer stopped" 10' "Ctrl-C stops the answer"
check 'wait_for "^>>>$" 5' "back at the prompt after Ctrl-C"
check '! screen | grep -q CHAT-EXITED' "the program is still running after Ctrl-C"
tmux send-keys -t "$S" C-c
check 'wait_for "CHAT-EXITED rc=0" 10' "Ctrl-C at the prompt leaves"
tmux kill-session -t "$S" 2>/dev/null

tmux new-session -d -s "$S" -x 160 -y 50 "'$L' chat '$M' -t 1; echo CHAT-EXITED rc=\$?; sleep 60"
check 'wait_for "^>>>" 20' "the prompt appears (third session)"
tmux send-keys -t "$S" C-d
check 'wait_for "CHAT-EXITED rc=0" 10' "Ctrl-D at the prompt leaves"
exit $fail
