# Shared by scripts/start and scripts/test: find Python 3.11+, make .venv, install what the
# project needs, and reinstall only when pyproject.toml changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Touchbase needs Python 3.11 or newer; none was found on PATH." >&2
  return 1
}

ensure_venv() {
  local extras="$1"
  local py stamp want
  if [ ! -x .venv/bin/python ]; then
    py="$(find_python)"
    echo "Creating .venv with $("$py" --version)..." >&2
    "$py" -m venv .venv
  fi
  stamp=".venv/.installed-$extras"
  want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing Touchbase and its dependencies into .venv (first run takes a minute)..." >&2
    # pip's and setuptools' own chatter goes to a log, shown only when the install fails.
    local log=".venv/install.log"
    if ! {
      .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip &&
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --compile -e ".[$extras]"
    } >"$log" 2>&1; then
      cat "$log" >&2
      echo "Installing into .venv failed (the log above is in $log)." >&2
      return 1
    fi
    echo "$want" > "$stamp"
  fi
}
