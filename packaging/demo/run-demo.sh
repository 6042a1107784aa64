#!/bin/sh
# `make demo`: seeds a demo data dir on first run (catalogue, a few orders, a packer and a
# supervisor) and starts depotd on it in the foreground. Ctrl-C stops it cleanly.
#   run-demo.sh BIN_DIR DATA_DIR
set -eu
bin=$1
dir=$2
ctl="$bin/depotctl --data-dir $dir"
here=$(dirname "$0")

if [ ! -f "$dir/depot.db" ]; then
    echo "demo: seeding $dir"
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
fi
$ctl verify
echo "demo: starting depotd (data dir $dir) on http://127.0.0.1:8080/ ; Ctrl-C to stop"
echo "demo: try  curl -s -c /tmp/depot-demo.cookies -H 'Content-Type: application/json' \\"
echo "             -d '{\"name\":\"supervisor\",\"password\":\"supervisor-demo\"}' \\"
echo "             http://127.0.0.1:8080/api/v1/login"
exec "$bin/depotd" --data-dir "$dir" --demo
