#!/bin/sh
# HTTP benchmark: wrk against nginx's `return 200`, depotd's authenticated
# GET /api/v1/skus/SKU and its reserve call, on the same box in the same run; prints
# requests/s, p99 and the ratios to nginx. Usage: bench/http/run.sh [BUILD_DIR]
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-$ROOT/build}
DURATION=${DURATION:-10s}
THREADS=2
CONNECTIONS=32
ORDERS=200000 # more than the reserve run can use up

BENCH_NAME=http
# shellcheck source=../lib/wrk_vs_nginx.sh
. "$ROOT/bench/lib/wrk_vs_nginx.sh"

# ---- depotd: a stocked SKU, open orders to reserve, a supervisor token ----------------
printf 'sku,name,gtin,location,on_hand\nBENCH-1,Benchmark widget,,MAIN,100000000\n' \
    >"$TMP/stock.csv"
"$CTL" --data-dir "$DATA" stock import "$TMP/stock.csv" >/dev/null
# Open one-line orders straight into the database: the API has no bulk order import.
sqlite3 "$DATA/depot.db" <<EOF
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ORDERS)
INSERT INTO orders (id, external_id, number, status, created_at, updated_at)
SELECT i, 'bench-' || i, '#' || i, 'open', strftime('%s'), strftime('%s') FROM n;
INSERT INTO order_lines (order_id, line_no, sku_id, quantity)
SELECT id, 1, (SELECT id FROM skus WHERE code = 'BENCH-1'), 1 FROM orders;
COMMIT;
EOF
TOKEN=$("$CTL" --data-dir "$DATA" --json token create bench --role supervisor |
    sed -n 's/.*"token":[[:space:]]*"\([^"]*\)".*/\1/p')
DEPOTD_PORT=$(free_port)
cat >"$TMP/depotd.conf" <<EOF
rate_limit = 1000000
rate_burst = 1000000
log_level = warn
EOF
"$BUILD_DIR/bin/depotd" --data-dir "$DATA" --listen "127.0.0.1:$DEPOTD_PORT" \
    --config "$TMP/depotd.conf" 2>"$TMP/depotd.log" &
DEPOTD_PID=$!
wait_http "http://127.0.0.1:$DEPOTD_PORT/healthz"

# ---- wrk scripts --------------------------------------------------------------------
cat >"$TMP/get.lua" <<'EOF'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DEPOT_BENCH_TOKEN")
EOF
# Each request reserves a different open order: thread t takes orders t+1, t+1+T, ...
cat >"$TMP/reserve.lua" <<'EOF'
local threads, counter = 0, 0
function setup(thread)
    thread:set("first", threads + 1)
    threads = threads + 1
end
function init(args)
    stride = tonumber(os.getenv("DEPOT_BENCH_THREADS"))
end
function request()
    local id = first + counter * stride
    counter = counter + 1
    return wrk.format("POST", "/api/v1/orders/" .. id .. "/reserve",
        {["Authorization"] = "Bearer " .. os.getenv("DEPOT_BENCH_TOKEN"),
         ["Content-Type"] = "application/json"}, "{}")
end
EOF
export DEPOT_BENCH_TOKEN="$TOKEN" DEPOT_BENCH_THREADS="$THREADS"


run nginx "http://127.0.0.1:$NGINX_PORT/"
run get "http://127.0.0.1:$DEPOTD_PORT/api/v1/skus/BENCH-1" "$TMP/get.lua"
run reserve "http://127.0.0.1:$DEPOTD_PORT" "$TMP/reserve.lua"

RESERVED=$(sqlite3 "$DATA/depot.db" "SELECT count(*) FROM orders WHERE status = 'reserved'")
"$CTL" --data-dir "$DATA" verify >/dev/null || { echo "bench: verify failed" >&2; exit 1; }

printf '\n%-34s %12s %10s %12s %12s %8s\n' "" "requests/s" "p99 ms" "rps/nginx" \
    "p99/nginx" "errors"
for name in nginx get reserve; do
    case $name in
    nginx) label="nginx return 200" ;;
    get) label="depotd GET /api/v1/skus/SKU" ;;
    reserve) label="depotd POST .../orders/ID/reserve" ;;
    esac
    printf '%-34s %12s %10s %12s %12s %8s\n' "$label" "$(rps $name)" "$(p99 $name)" \
        "$(awk -v a="$(rps $name)" -v b="$(rps nginx)" 'BEGIN {printf "%.3f", a / b}')" \
        "$(awk -v a="$(p99 $name)" -v b="$(p99 nginx)" 'BEGIN {printf "%.1f", a / b}')" \
        "$(errors $name)"
done
echo "(orders reserved by the reserve run: $RESERVED; depotd verify: ok)"
