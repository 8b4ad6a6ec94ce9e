# Shell helpers shared by the side-by-side benchmark scripts (bench/resp,
# bench/security, test/memcached/bench); source it, do not run it.

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
