#!/bin/sh
# Webhook benchmark: wrk POSTs signed Shopify orders/create deliveries (a unique
# X-Shopify-Webhook-Id and X-Shopify-Event-Id each) to depotd, which verifies the HMAC and
# commits every delivery to the inbox (synchronous=FULL, group commit) before its 200;
# against nginx's `return 200` on the same box in the same run. Prints acknowledgements/s,
# p99 and the ratios to nginx, the CPU time depotd's threads spent per acknowledged
# delivery (less sensitive to other load on the box than the rates), then checks that
# every 200 is in the inbox.
# Usage: bench/webhooks/run.sh [BUILD_DIR]
# DURATION, CONNECTIONS: wrk settings. PERF_OUT=file: also `perf record -g` depotd during
# its first round (for profiling). POST_SHOP=domain: send another shop domain (an unknown shop
# measures the HTTP path alone: lookup and 404, no HMAC, no commit).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-$ROOT/build}
DURATION=${DURATION:-10s}
THREADS=2
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
SECRET=bench-webhook-secret
SHOP=bench.myshopify.com

command -v openssl >/dev/null 2>&1 || { echo "bench: openssl is missing" >&2; exit 1; }
BENCH_NAME=webhooks
# shellcheck source=../lib/wrk_vs_nginx.sh
. "$ROOT/bench/lib/wrk_vs_nginx.sh"

# ---- depotd with one Shopify channel -------------------------------------------------
printf 'sku,name,gtin,location,on_hand\nIPOD2008BLACK,iPod,,MAIN,100000000\n' >"$TMP/stock.csv"
"$CTL" --data-dir "$DATA" stock import "$TMP/stock.csv" >/dev/null
"$CTL" --data-dir "$DATA" channel add shopify --shop $SHOP --token shpat_bench \
    --webhook-secret $SECRET >/dev/null
DEPOTD_PORT=$(free_port)
printf 'rate_limit = 1000000\nrate_burst = 1000000\nlog_level = warn\n' >"$TMP/depotd.conf"
"$BUILD_DIR/bin/depotd" --data-dir "$DATA" --listen "127.0.0.1:$DEPOTD_PORT" \
    --config "$TMP/depotd.conf" 2>"$TMP/depotd.log" &
DEPOTD_PID=$!
wait_http "http://127.0.0.1:$DEPOTD_PORT/healthz"

# ---- the signed body and the wrk script ------------------------------------------------
BODY="$TMP/order.json"
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))), end="")' \
    "$ROOT/tests/fixtures/shopify/orders_create.json" >"$BODY"
export DEPOT_BENCH_BODY="$BODY" DEPOT_BENCH_SHOP="${POST_SHOP:-$SHOP}"
DEPOT_BENCH_HMAC=$(openssl dgst -sha256 -hmac "$SECRET" -binary <"$BODY" | base64)
export DEPOT_BENCH_HMAC
# Every request is a new delivery: round- and thread-unique webhook and event ids.
cat >"$TMP/webhook.lua" <<'EOF'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
function init(args)
    local f = io.open(os.getenv("DEPOT_BENCH_BODY"), "rb")
    body = f:read("*a")
    f:close()
    n = 0
    round = os.getenv("DEPOT_BENCH_ROUND")
end
function request()
    n = n + 1
    local id = round .. "-" .. tid .. "-" .. n
    return wrk.format("POST", "/webhooks/shopify", {
        ["Content-Type"] = "application/json",
        ["X-Shopify-Topic"] = "orders/create",
        ["X-Shopify-Shop-Domain"] = os.getenv("DEPOT_BENCH_SHOP"),
        ["X-Shopify-Hmac-Sha256"] = os.getenv("DEPOT_BENCH_HMAC"),
        ["X-Shopify-Webhook-Id"] = "bench-" .. id,
        ["X-Shopify-Event-Id"] = "event-" .. id,
        ["X-Shopify-Triggered-At"] = "2030-01-01T00:00:00Z",
    }, body)
end
EOF


# CPU ticks (user + system) of depotd's event loop (the main thread), of the threads
# named $1 (webhook-verify, webhook-commit, inbox-worker), or of the whole process (all).
cpu_ticks() {
    case $1 in
    loop) awk '{print $14 + $15}' "/proc/$DEPOTD_PID/task/$DEPOTD_PID/stat" ;;
    all) awk '{print $14 + $15}' "/proc/$DEPOTD_PID/stat" ;;
    *) for t in /proc/$DEPOTD_PID/task/*; do
           [ "$(cat "$t/comm")" = "$1" ] && awk '{print $14 + $15}' "$t/stat"
       done | awk '{n += $1} END {print n + 0}' ;;
    esac
}
THREADS_CPU="loop webhook-verify webhook-commit inbox-worker all"

# One round: nginx, then depotd with its threads' CPU ticks before and after.
round() { # N
    export DEPOT_BENCH_ROUND=$1
    run "nginx-$1" "http://127.0.0.1:$NGINX_PORT/" "$TMP/webhook.lua"
    for t in $THREADS_CPU; do eval "cpu0_$(echo $t | tr - _)=$(cpu_ticks $t)"; done
    PERF_PID=""
    if [ -n "${PERF_OUT:-}" ] && [ "$1" = 1 ]; then
        perf record -q -g -o "$PERF_OUT" -p "$DEPOTD_PID" 2>/dev/null &
        PERF_PID=$!
    fi
    run "webhook-$1" "http://127.0.0.1:$DEPOTD_PORT" "$TMP/webhook.lua"
    if [ -n "$PERF_PID" ]; then
        kill -INT "$PERF_PID"
        wait "$PERF_PID" || true
    fi
    for t in $THREADS_CPU; do
        v=$(echo $t | tr - _)
        eval "cpu_$v=\$((\${cpu_$v:-0} + $(cpu_ticks $t) - cpu0_$v))"
    done
}
r=1
while [ $r -le "$ROUNDS" ]; do
    round $r
    r=$((r + 1))
done

STORED=$(sqlite3 "$DATA/depot.db" "SELECT count(*) FROM inbox")
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN {printf "%.3f", a / b}'; }
printf '\n%-40s %12s %10s %12s %12s %8s\n' "" "requests/s" "p99 ms" "rps/nginx" \
    "p99/nginx" "errors"
ACKED=0
ALL=0
r=1
while [ $r -le "$ROUNDS" ]; do
    for name in nginx webhook; do
        case $name in
        nginx) label="round $r: nginx return 200 (same POSTs)" ;;
        webhook) label="round $r: depotd POST /webhooks/shopify" ;;
        esac
        printf '%-40s %12s %10s %12s %12s %8s\n' "$label" "$(rps $name-$r)" \
            "$(p99 $name-$r)" "$(ratio $name-$r nginx-$r)" \
            "$(awk -v a="$(p99 $name-$r)" -v b="$(p99 nginx-$r)" 'BEGIN {printf "%.1f", a / b}')" \
            "$(errors $name-$r)"
    done
    ACKED=$((ACKED + $(total webhook-$r) - $(errors webhook-$r)))
    ALL=$((ALL + $(total webhook-$r)))
    r=$((r + 1))
done
r=1
MEDIAN=$(while [ $r -le "$ROUNDS" ]; do ratio webhook-$r nginx-$r; echo; r=$((r + 1)); done |
    sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "median acknowledgements/nginx over $ROUNDS round(s): $MEDIAN"
echo "(acknowledged: about $ACKED; stored in the inbox: $STORED)"
HZ=$(getconf CLK_TCK)
PER=$ACKED
if [ "$ACKED" -gt 0 ]; then
    printf 'CPU per acknowledged delivery (us):'
else # POST_SHOP: nothing is acknowledged; the cost of each refused request
    PER=$ALL
    printf 'CPU per request, none acknowledged (us):'
fi
for t in $THREADS_CPU; do
    v=$(echo $t | tr - _)
    eval "d=\$cpu_$v"
    printf ' %s %s' "$t" "$(awk -v d="$d" -v hz="$HZ" -v n="$PER" \
        'BEGIN {printf "%.0f", n ? d * 1e6 / hz / n : 0}')"
done
echo
[ "$STORED" -ge "$ACKED" ] || { echo "bench: fewer deliveries stored than acknowledged" >&2; exit 1; }
