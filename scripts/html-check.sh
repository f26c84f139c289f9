#!/usr/bin/env bash
# Opens a bacaudit HTML report in headless Chromium and checks what a person would see:
#   1. the page's own script ran to the end (no console error, no CSP refusal, nothing loaded
#      from anywhere), the findings table has one row per finding and the SVG graph is drawn;
#   2. the table sorts (header buttons) and filters (text box, kind checkboxes) — exercised by a
#      test script in a copy of the page whose Content-Security-Policy is removed to let it run;
#   3. screenshots, light and dark, for a person to look at.
#
# usage: scripts/html-check.sh REPORT.html [OUT_DIR]
#   OUT_DIR (default: next to the report) receives REPORT.png, REPORT-dark.png and
#   REPORT.dom.html (the DOM after the script ran). Exit 0 when every check passed, 1 when one
#   failed, 2 when the check could not run (no report, no Chromium).
# CHROMIUM=/path/to/chromium overrides the browser. Run as root (CI), it installs Debian's
# chromium when missing.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 REPORT.html [OUT_DIR]" >&2
    exit 2
fi
html=$(realpath "$1")
mkdir -p "${2:-$(dirname "$html")}"
out_dir=$(realpath "${2:-$(dirname "$html")}")
mkdir -p "$out_dir"
name=$(basename "$html" .html)
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "html-check: installing chromium (apt-get)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    else
        echo "html-check: no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)" >&2
        exit 2
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One fresh profile per run; no network features, no first-run UI, no sandbox (containers, root).
browse() {
    local profile
    profile=$(mktemp -d "$work/profile.XXXXXX")
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --disable-dev-shm-usage --hide-scrollbars \
        --mute-audio --user-data-dir="$profile" "$@"
}

passed=0
failed=0
ok() {
    echo "ok: $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL: $1"
    failed=$((failed + 1))
}

# --- 1. the page as shipped: its script, its console, its table and graph ---------------------
dom="$out_dir/$name.dom.html"
browse --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "file://$html" \
    >"$dom" 2>"$work/console.log" || true

if grep -q 'data-script="ready"' "$dom"; then
    ok "the page's script ran to the end"
else
    fail "the page's script did not finish (no data-script=\"ready\" on <body>)"
fi

# Console errors, uncaught exceptions, CSP refusals (a blocked load or script) and failed loads.
if grep -E 'CONSOLE|Uncaught|Refused to|net::ERR_' "$work/console.log" >"$work/errors.log"; then
    fail "the console reported problems:"
    sed 's/^/    /' "$work/errors.log"
else
    ok "no console error, no CSP refusal, no failed load"
fi

declared=$(grep -o '<h2 id="findings-h">Findings <span class="muted">([0-9]*)' "$html" | grep -o '[0-9]*)' | tr -d ')' || true)
# Counts survive zero matches (grep exits 1 on none, and pipefail would end the script).
count() { { grep -o "$1" "$2" || true; } | wc -l; }
rows=$(count '<tr id="f-' "$dom")
if [ -z "$declared" ]; then
    fail "no findings heading in the page"
elif [ "$rows" -eq "$declared" ]; then
    ok "findings table shows $rows of $declared findings"
else
    fail "findings table shows $rows rows, the report has $declared findings"
fi
if [ "${declared:-0}" -gt 0 ]; then
    if grep -q "<output id=\"shown\" aria-live=\"polite\">$declared of $declared findings shown</output>" "$dom"; then
        ok "filter controls are live ($declared of $declared shown)"
    else
        fail "filter controls did not come alive"
    fi
fi

if grep -q 'Services</h2>' "$html"; then
    nodes=$(count '<g class="node' "$dom")
    edges=$(count '<path class="edge' "$dom")
    if grep -q '<svg class="graph"' "$dom" && [ "$nodes" -gt 0 ]; then
        ok "service graph drawn: $nodes services, $edges edges"
    else
        fail "no service graph in the page"
    fi
fi

# --- 2. sorting and filtering, driven by a test script ----------------------------------------
if [ "${declared:-0}" -gt 1 ]; then
    cat >"$work/selftest.js" <<'EOF'
(function () {
  var problems = [];
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr")); };
  var visible = function () { return rows().filter(function (r) { return !r.hidden; }); };
  var total = rows().length;
  var heads = document.querySelectorAll("#findings-table thead th");
  // Status column: numeric sort, ascending then descending.
  var status = heads[4];
  var keys = function () { return rows().map(function (r) { return r.cells[4].getAttribute("data-sort"); }); };
  var num = function (k) { return k === "" ? -1 : Number(k); };
  status.querySelector("button").click();
  var up = keys().map(num);
  if (status.getAttribute("aria-sort") !== "ascending") problems.push("first click is not ascending");
  for (var i = 1; i < up.length; i++) if (up[i - 1] > up[i]) problems.push("not ascending at row " + i);
  status.querySelector("button").click();
  var down = keys().map(num);
  if (status.getAttribute("aria-sort") !== "descending") problems.push("second click is not descending");
  for (var j = 1; j < down.length; j++) if (down[j - 1] < down[j]) problems.push("not descending at row " + j);
  if (rows().length !== total) problems.push("sorting lost rows");
  // Text filter: every visible row holds the words, and some rows are hidden.
  var filter = document.getElementById("filter");
  var word = rows()[0].cells[3].textContent.trim().split("/").pop().toLowerCase();
  filter.value = word;
  filter.dispatchEvent(new Event("input"));
  var shown = visible();
  if (shown.length === 0) problems.push("filter '" + word + "' hides every row");
  shown.forEach(function (r) { if (r.textContent.toLowerCase().indexOf(word) < 0) problems.push("filter shows a row without '" + word + "'"); });
  var expected = rows().filter(function (r) { return r.textContent.toLowerCase().indexOf(word) >= 0; }).length;
  if (shown.length !== expected) problems.push("filter shows " + shown.length + " rows, " + expected + " match");
  if (document.getElementById("shown").textContent !== expected + " of " + total + " findings shown") problems.push("count not updated");
  filter.value = "";
  filter.dispatchEvent(new Event("input"));
  if (visible().length !== total) problems.push("clearing the filter does not show every row");
  // Kind checkboxes: unchecking a kind hides exactly its rows.
  var box = document.querySelector("#controls input[name=kind]:checked");
  var kind = box.value;
  var ofKind = rows().filter(function (r) { return r.getAttribute("data-kind") === kind; }).length;
  box.click();
  if (visible().some(function (r) { return r.getAttribute("data-kind") === kind; })) problems.push("unchecked kind still shown");
  if (visible().length !== total - ofKind) problems.push("unchecking " + kind + " hid the wrong rows");
  box.click();
  if (visible().length !== total) problems.push("re-checking " + kind + " does not restore its rows");
  document.body.setAttribute("data-selftest", problems.length ? "fail: " + problems.join("; ") : "pass");
})();
EOF
    # The copy: same page, CSP meta removed so the test script may run, test script appended.
    grep -v 'http-equiv="Content-Security-Policy"' "$html" | sed '/<\/body>/,$d' >"$work/selftest.html"
    { echo "<script>"; cat "$work/selftest.js"; echo "</script>"; echo "</body>"; echo "</html>"; } >>"$work/selftest.html"
    browse --virtual-time-budget=5000 --dump-dom "file://$work/selftest.html" \
        >"$work/selftest.dom.html" 2>/dev/null || true
    verdict=$(grep -o 'data-selftest="[^"]*"' "$work/selftest.dom.html" || true)
    if [ "$verdict" = 'data-selftest="pass"' ]; then
        ok "sorting by status and filtering by text and by kind work"
    else
        fail "interaction test: ${verdict:-the test script did not run}"
    fi
fi

# --- 3. screenshots ----------------------------------------------------------------------------
png="$out_dir/$name.png"
dark="$out_dir/$name-dark.png"
rm -f "$png" "$dark"
browse --virtual-time-budget=5000 --window-size=1400,3000 --screenshot="$png" "file://$html" \
    >/dev/null 2>&1 || true
browse --virtual-time-budget=5000 --window-size=1400,3000 --force-dark-mode \
    --blink-settings=preferredColorScheme=0 --screenshot="$dark" "file://$html" >/dev/null 2>&1 || true
if [ -s "$png" ] && [ -s "$dark" ]; then
    ok "screenshots: $png, $dark"
else
    fail "no screenshot written"
fi

echo "html-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
