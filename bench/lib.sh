# Shell helpers shared by the side-by-side benchmark scripts (bench/resp,
# bench/resp-pinned, bench/security, bench/memcached); source it, do
# not run it.

# free_port prints a TCP port free on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# cpu_ticks PID prints the process's user + system time in clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# median reads numbers, one per line, and prints their median.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ratios A-ARRAY B-ARRAY prints the median of A[i]/B[i]: a paired ratio,
# each run compared with its peer's run taken just before it.
ratios() {
	local -n a=$1 b=$2
	for i in "${!a[@]}"; do python3 -c "print(${a[$i]}/${b[$i]})"; done | median
}

# need_redis installs Debian's redis-server and redis-tools if either is
# missing, and keeps the packaged service stopped.
need_redis() {
	command -v redis-benchmark >/dev/null && command -v redis-server >/dev/null && return
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools redis-server >/dev/null
	systemctl stop redis-server 2>/dev/null || service redis-server stop 2>/dev/null || true
}

# wait_port PORT... waits (5 s at most each) until every port on loopback
# accepts a TCP connection, and fails if one does not.
wait_port() {
	local p
	for p in "$@"; do
		python3 - "$p" <<-'PY'
			import socket, sys, time
			for _ in range(100):
			    try:
			        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
			        sys.exit(0)
			    except OSError:
			        time.sleep(0.05)
			sys.exit("nothing listens on port " + sys.argv[1])
		PY
	done
}

# wait_redis PORT... waits (5 s at most each) until every port answers PING.
wait_redis() {
	local p
	for p in "$@"; do
		for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
	done
}

# client_busy OUT CMD... runs a load generator, its output (both streams)
# to the file OUT, and prints its own CPU time (user + system) over its
# wall time: near 1, its thread is saturated and sets the pace.
client_busy() {
	local out=$1 w0 w1 cpu
	shift
	w0=$(date +%s%N)
	# bash's time keyword reports the command's user and system seconds.
	cpu=$( { TIMEFORMAT='%U %S'; time "$@" >"$out" 2>&1; } 2>&1)
	w1=$(date +%s%N)
	python3 -c "u, s = '$cpu'.split(); print(round((float(u) + float(s)) * 1e9 / ($w1 - $w0), 3))"
}

# redis_bench PORT PID PIPELINE TEST REQUESTS [PREFIX...] prints
# "requests/s server-µs-CPU-per-request client-busy" of one redis-benchmark
# run (50 clients, 32-byte values, 100k random keys) against the server PID
# listening on PORT; PREFIX (for example taskset -c 0) runs the client.
# client-busy is as client_busy prints it.
redis_bench() {
	local port=$1 pid=$2 pipeline=$3 test=$4 n=$5 t0 t1 rps out busy
	shift 5
	out=$(mktemp)
	t0=$(cpu_ticks "$pid")
	busy=$(client_busy "$out" "$@" redis-benchmark -p "$port" -c 50 -P "$pipeline" -n "$n" -d 32 \
		-r 100000 -t "$test" --csv)
	t1=$(cpu_ticks "$pid")
	rps=$(awk -F'"' -v t="${test^^}" '$2==t {print $4}' "$out")
	rm -f "$out"
	echo "$rps $(python3 -c "print(($t1-$t0)*1e6/$(getconf CLK_TCK)/$n)") $busy"
}
