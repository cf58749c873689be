# Sourced by the scripts: `quietly "what" command...` prints one line for the step and shows the command's own output
# only when it fails (then it exits with the command's status).
quietly() {
  local what=$1 log status
  shift
  log=$(mktemp)
  printf '%s ... ' "$what"
  if "$@" >"$log" 2>&1; then
    echo done
    rm -f "$log"
  else
    status=$?
    echo "failed (exit $status):"
    cat "$log" >&2
    rm -f "$log"
    exit "$status"
  fi
}
