#!/bin/sh
# `make demo`: seeds a demo data dir on first run (catalogue, a few orders, a packer and a
# supervisor) and starts depotd on it in the foreground. Ctrl-C stops it cleanly.
#   run-demo.sh BIN_DIR DATA_DIR
set -eu
bin=$1
dir=$2
ctl="$bin/depotctl --data-dir $dir"
here=$(dirname "$0")
scanner_port="$(realpath -m "$dir")/dev/scanner-1"  # ports are absolute paths
printer_port="$(realpath -m "$dir")/dev/zebra-1"

if [ ! -f "$dir/depot.db" ]; then
    echo "demo: seeding $dir"
    mkdir -p "$(dirname "$dir")"  # depotctl creates the data dir, not its parents
    $ctl init
    $ctl stock import "$here/stock.csv"
    $ctl order create --external-id DEMO-1001 --number 1001 --line COF-ESP-250:2 \
        --line MUG-CER-WHT:1
    $ctl order create --external-id DEMO-1002 --number 1002 --line BRW-FP-1L:1
    $ctl order create --external-id DEMO-1003 --number 1003 --line TEA-EARL-100:3 \
        --line BRW-FLT-100:5
    $ctl order reserve 1
    $ctl order reserve 2
    printf 'packer-demo\n' | $ctl user add packer --role packer --password -
    printf 'supervisor-demo\n' | $ctl user add supervisor --role supervisor --password -
    echo "demo: users packer/packer-demo and supervisor/supervisor-demo"
    $ctl printer add zebra-1 --backend serial --address "$printer_port" --stock 4x6
    $ctl station add PACK-1 --printer zebra-1
    $ctl scanner add scanner-1 --station PACK-1 --port "$scanner_port"
fi
# The packing station's barcode scanner: a simulator on a pseudo-terminal at a stable
# path (it exits with depotd). Scan into the station with `depotctl scan`.
mkdir -p "$(dirname "$scanner_port")"
"$bin/depot-scan-sim" --link "$scanner_port" >/dev/null &
echo "demo: scan at station PACK-1 with  $ctl scan --station PACK-1 ']E02006100000115'"
# The station's label printer: a ZPL printer simulator on a pseudo-terminal (it exits
# with depotd); each label it receives is a file in $dir/labels.
mkdir -p "$dir/labels"
"$bin/depot-printer-sim" --pty "$printer_port" --labels "$dir/labels" \
    --control "$dir/printer.sock" >/dev/null &
echo "demo: labels printed on zebra-1 land in $dir/labels; try  $ctl printer test zebra-1"
echo "demo: make it run out of paper with  $bin/depot-printer-sim --ctl $dir/printer.sock paper-out  (ok to undo)"
$ctl verify
echo "demo: starting depotd (data dir $dir) on http://127.0.0.1:8080/ ; Ctrl-C to stop"
echo "demo: try  curl -s -c /tmp/depot-demo.cookies -H 'Content-Type: application/json' \\"
echo "             -d '{\"name\":\"supervisor\",\"password\":\"supervisor-demo\"}' \\"
echo "             http://127.0.0.1:8080/api/v1/login"
# The simulators' pseudo-terminals are no serial ports to libserialport; the test-only
# shim (tests/pty_shim) makes them acceptable to the demo's depotd, as in the tests.
shim="$bin/../tests/bin/libdepot_pty_shim.so"
if [ -f "$shim" ]; then
    asan=$(ldd "$bin/depotd" | awk '/libasan/ { print $3 }')
    export LD_PRELOAD="${asan:+$asan }$shim"
fi
exec "$bin/depotd" --data-dir "$dir" --demo
