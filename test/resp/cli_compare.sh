#!/usr/bin/env bash
# Runs test/resp/cli_commands.txt through redis-cli against hotgrid and a
# reference Redis, at RESP2 and RESP3 (-3), and fails on any difference.
#   cli_compare.sh HOTGRID_PORT REDIS_PORT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hg=$1 ref=$2
rc=0
for proto in 2 3; do
	flag=()
	[[ $proto == 3 ]] && flag=(-3)
	n=0 bad=0
	while IFS= read -r line; do
		[[ -z $line || $line == \#* ]] && continue
		n=$((n + 1))
		# eval keeps the quoting of the line ("two words").
		a=$(eval "redis-cli -p $hg ${flag[*]} $line" 2>&1)
		b=$(eval "redis-cli -p $ref ${flag[*]} $line" 2>&1)
		if [[ $a != "$b" ]]; then
			bad=$((bad + 1))
			echo "RESP$proto differs: $line"
			echo "  hotgrid: $(printf %q "$a")"
			echo "  redis:   $(printf %q "$b")"
		fi
	done <"$here/cli_commands.txt"
	echo "redis-cli RESP$proto: $((n - bad)) passed, $bad failed"
	((bad)) && rc=1
done
exit $rc
