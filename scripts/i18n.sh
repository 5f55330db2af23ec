#!/usr/bin/env bash
# Update the Chinese catalog after changing user-visible strings:
#   scripts/i18n.sh        extract msgids, merge them into the .po, compile the .mo
# Then translate the new (empty or fuzzy) entries in the .po and run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
pot=$(mktemp --suffix=.pot)
pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output -o "$pot" crm_core cli tui plugins >/dev/null
pybabel update -D tongxin -i "$pot" -d crm_core/locale -l zh_CN --no-fuzzy-matching --ignore-obsolete >/dev/null
pybabel compile -D tongxin -d crm_core/locale -l zh_CN --statistics
rm -f "$pot"
