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

# ---- tools -------------------------------------------------------------------------
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "bench: installing:$missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ ! -x "$BUILD_DIR/bin/depotd" ]; then
    echo "bench: $BUILD_DIR/bin/depotd not built; run 'make build' first" >&2
    exit 1
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Asan' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    echo "bench: $BUILD_DIR is a sanitizer build; run 'make build' (RelWithDebInfo) first" >&2
    exit 1
fi

# ---- scratch space and clean-up ----------------------------------------------------
TMP=$(mktemp -d /tmp/depot-bench-http.XXXXXX)
NGINX_PID=""
DEPOTD_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [ -n "$DEPOTD_PID" ] && kill "$DEPOTD_PID" 2>/dev/null && wait "$DEPOTD_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url
    i=0
    until curl -s -o /dev/null "$1"; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "bench: $1 did not come up" >&2; exit 1; }
        sleep 0.1
    done
}

# ---- nginx: one worker, `return 200` -------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { return 200 "ok\n"; }
    }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/"

# ---- depotd: a stocked SKU, open orders to reserve, a supervisor token ----------------
DATA="$TMP/data"
CTL="$BUILD_DIR/bin/depotctl"
export DEPOT_MASTER_KEY_FILE="$TMP/master.key"
head -c 32 /dev/urandom >"$DEPOT_MASTER_KEY_FILE"
chmod 600 "$DEPOT_MASTER_KEY_FILE"
"$CTL" --data-dir "$DATA" init >/dev/null
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

# run NAME URL [SCRIPT]: wrk, its output kept in $TMP/NAME.txt
run() {
    echo "bench: $1 ($DURATION, $THREADS threads, $CONNECTIONS connections)" >&2
    if [ -n "${3:-}" ]; then
        wrk -t$THREADS -c$CONNECTIONS -d"$DURATION" --latency -s "$3" "$2" >"$TMP/$1.txt"
    else
        wrk -t$THREADS -c$CONNECTIONS -d"$DURATION" --latency "$2" >"$TMP/$1.txt"
    fi
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$TMP/$1.txt"; }
# p99 in milliseconds (wrk prints us, ms or s)
p99() {
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f", v }' \
        "$TMP/$1.txt"
}
errors() {
    awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {n += 1} END {print n + 0}' \
        "$TMP/$1.txt"
}

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
