# Shared by the wrk benchmarks (bench/http, bench/webhooks): sourced, not run. Checks the
# tools and the build, makes a scratch dir that is removed on exit (with nginx and depotd
# stopped), starts the baseline nginx (one worker, `return 200`), prepares a depotd data
# dir with a throwaway master key, and wraps wrk and the reading of its report.
# Needs BUILD_DIR, DURATION, THREADS, CONNECTIONS and BENCH_NAME set by the caller; sets
# TMP, NGINX_PORT, DATA, CTL and the pids cleaned up on exit.

for tool in wrk nginx sqlite3 curl python3; do
    command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] || {
        echo "bench: $tool is missing (apt-get install wrk nginx sqlite3 curl python3)" >&2
        exit 1
    }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$BUILD_DIR/bin/depotd" ]; then
    echo "bench: $BUILD_DIR/bin/depotd not built; run 'make build' first" >&2
    exit 1
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Asan' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    echo "bench: $BUILD_DIR is a sanitizer build; use a RelWithDebInfo build ('make build')" >&2
    exit 1
fi

TMP=$(mktemp -d "/tmp/depot-bench-$BENCH_NAME.XXXXXX")
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

# ---- nginx: one worker, `return 200` -----------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<NGINX_CONF
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
NGINX_CONF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/"

# ---- a depotd data dir with a throwaway master key ----------------------------------
DATA="$TMP/data"
CTL="$BUILD_DIR/bin/depotctl"
export DEPOT_MASTER_KEY_FILE="$TMP/master.key"
head -c 32 /dev/urandom >"$DEPOT_MASTER_KEY_FILE"
chmod 600 "$DEPOT_MASTER_KEY_FILE"
"$CTL" --data-dir "$DATA" init >/dev/null

# ---- wrk and its report ---------------------------------------------------------------
# run NAME URL [SCRIPT]: wrk, its output kept in $TMP/NAME.txt
run() {
    echo "bench: $1 ($DURATION, $THREADS threads, $CONNECTIONS connections)" >&2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${3:+-s "$3"} "$2" \
        >"$TMP/$1.txt"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$TMP/$1.txt"; }
total() { awk '/requests in/ {print $1}' "$TMP/$1.txt"; }
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
