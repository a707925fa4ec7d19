#!/bin/bash
# Issue 13: HTTP/2. Against a server that offers h2 (the real API server, reached directly:
# the backend's proxy speaks HTTP/1.1) every request of a run shares one multiplexed
# HTTP/2 connection; with [kubernetes] http2 = no the same run goes over HTTP/1.1.
# kube-sim offers HTTP/1.1 only (ALPN): the client falls back to it.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 6 --zones 2 --time-scale 0.02
kc=$SIM/kubeconfig
[ "$BACKEND" = real ] && kc=$SIM/kubeconfig-direct-sa
write_ini "$WORK/seeder.ini" "[log]" "level = DEBUG"
printf 'nginx:1.27\nredis:7.4\n' >"$WORK/images.txt"
count() { grep -cE "$1" "$WORK/out"; }

seed --kubeconfig "$kc" --config "$WORK/seeder.ini"
is "$RC" 0 "a run with HTTP/2 allowed exits 0"
requests=$(count 'DEBUG .*: HTTP/(2|1\.1)(, new connection)?$')
ok $((requests < 10)) "the debug log names the protocol of every request ($requests)"
if [ "$BACKEND" = real ]; then
        is "$(count ': HTTP/2(, new connection)?$')" "$requests" "every request used HTTP/2"
        is "$(count ', new connection$')" 1 "all of them over one connection"
else
        is "$(count ': HTTP/1\.1(, new connection)?$')" "$requests" "kube-sim offers HTTP/1.1: every request fell back to it"
fi

write_ini "$WORK/seeder.ini" "[log]" "level = DEBUG" "[kubernetes]" "http2 = no"
printf 'busybox:1.36\n' >"$WORK/images.txt"
seed --kubeconfig "$kc" --config "$WORK/seeder.ini"
is "$RC" 0 "a run with http2 = no exits 0"
requests=$(count 'DEBUG .*: HTTP/(2|1\.1)(, new connection)?$')
is "$(count ': HTTP/1\.1(, new connection)?$')" "$requests" "http2 = no: every request used HTTP/1.1 ($requests)"
is "$(count ': HTTP/2')" 0 "http2 = no: none used HTTP/2"
is "$(py 'sum(1 for s in t["seeders"] for i in s["images"])')" 9 "3 seeders hold the 3 images"
done_testing
