#!/usr/bin/env bash
# The HTML report in headless Chromium: writes the four pages (write_report_pages), loads each
# with `chromium --headless`, and checks the DOM the browser built (check_dom.py): every
# section present, a learning curve per trial, a lineage line per transfer, a scatter plot per
# dimension, axis labels; and no console message or page error in Chromium's log. A screenshot
# of each page goes to SCREENSHOT_DIR for a person to look at.
#
# Usage: check_pages.sh WRITE_REPORT_PAGES PAGE_DIR SCREENSHOT_DIR
set -euo pipefail
writer=$1 pages=$2 shots=$3
here=$(cd "$(dirname "$0")" && pwd)

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
  if [ -f /etc/debian_version ]; then
    echo "check_pages: chromium is not installed; run mpi_scripts/install_deps.sh (it installs Debian's chromium)" >&2
    exit 1
  fi
  echo "check_pages: no chromium on this non-Debian machine; skipped" >&2
  exit 77
fi

rm -rf "$pages" && mkdir -p "$pages" "$shots"
pages=$(cd "$pages" && pwd) shots=$(cd "$shots" && pwd)
"$writer" "$pages"
flags=(--headless --disable-gpu --no-first-run --no-default-browser-check --hide-scrollbars
       --enable-logging=stderr --v=0 --user-data-dir="$pages/profile")
[ "$(id -u)" -eq 0 ] && flags+=(--no-sandbox)
status=0
for kind in asha hyperband bohb pbt; do
  page="$pages/$kind.html"
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" >"$pages/$kind.dom.html" 2>"$pages/$kind.log" || {
    echo "check_pages: $browser failed on $page (log: $pages/$kind.log)" >&2; status=1; continue; }
  timeout 120 "$browser" "${flags[@]}" --window-size=1280,6000 --screenshot="$shots/$kind.png" "file://$page" \
    >>"$pages/$kind.log" 2>&1 || { echo "check_pages: no screenshot of $page" >&2; status=1; }
  [ -s "$shots/$kind.png" ] || { echo "check_pages: empty screenshot $shots/$kind.png" >&2; status=1; }
  /usr/bin/python3 "$here/check_dom.py" "$pages/$kind.dom.html" "$pages/$kind.expect" "$pages/$kind.log" || status=1
done
[ $status -eq 0 ] && echo "check_pages: 4 pages passed; screenshots in $shots"
exit $status
