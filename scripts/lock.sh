#!/usr/bin/env bash
# Refresh requirements/constraints.txt: the exact versions CI installs (.ci/run uses
# `pip install -c requirements/constraints.txt ".[test]"`), so a fresh machine gets the
# versions the last refresh tested instead of whatever is newest that day.
#
# Run it on purpose: when pyproject.toml's dependencies change, or to take newer
# versions (then run the whole suite, `ruff format --check .` and `mypy` before
# committing the new file). Never from CI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/lock-venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[test]"
{
  echo "# Pinned by scripts/lock.sh on $(date -u +%Y-%m-%d) with $("$venv/bin/python" -V)."
  echo "# Do not edit by hand: change pyproject.toml, run scripts/lock.sh, run the suite."
  "$venv/bin/python" -m pip freeze --all --exclude tongxin --exclude pip --exclude setuptools \
    | grep -v '^-e ' | LC_ALL=C sort -f
} >requirements/constraints.txt
rm -rf "$(dirname "$venv")"
echo "wrote requirements/constraints.txt"
