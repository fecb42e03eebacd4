# Sourced by the findings scripts: one `spt compare` session per configuration, resumable.
# session OUT NAME ARGS…: runs `$spt compare ARGS…` into OUT/NAME unless OUT/NAME/compare.json
# exists (an unfinished one starts again). Everything an unfinished configuration writes stays
# in its git-ignored OUT/NAME.partial directory; when it finishes, the session and its console
# output (progress bars dropped, as OUT/NAME.txt) move out.
session() {
  local out=$1 name=$2 partial="$1/$2.partial"
  shift 2
  [[ -f "$out/$name/compare.json" ]] && return 0
  rm -rf "$out/$name" "$out/$name.txt" "$partial"
  mkdir -p "$partial"
  if "$spt" compare "$@" --runs-dir "$partial/runs" > "$partial/console.txt" 2>&1; then
    grep -v '\] *[0-9]*% ' "$partial/console.txt" > "$out/$name.txt" || true
    mv "$partial"/runs/*/ "$out/$name" && rm -rf "$partial"
    echo "done $name"
  else
    echo "FAILED $name (see $partial/console.txt)"
  fi
}
