#!/usr/bin/env bash
# Captures the dashboard as text for the README: runs spt-tui with the given arguments in a
# detached tmux pane of COLS×ROWS (default 120×36), waits SECONDS (default 20), presses KEYS
# (tmux send-keys syntax, optional), prints the pane and quits.
#   tools/capture.sh 20 "" --replay sample-runs/fashion-mnist-mae-tiny
set -euo pipefail
wait=${1:-20}; keys=${2:-}; shift 2 || true
cols=${COLS:-120}; rows=${ROWS:-36}
bin=$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/spt-tui
session=spt-capture-$$
tmux new-session -d -s "$session" -x "$cols" -y "$rows" "LANG=C.UTF-8 ${NO_COLOR:+NO_COLOR=1} $bin $*"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
sleep "$wait"
[[ -n $keys ]] && { tmux send-keys -t "$session" $keys; sleep 1; }
tmux capture-pane -p -t "$session"
tmux send-keys -t "$session" q y
