#!/bin/bash
# The command line as an operator meets it: --help, --version, --check-config with a good
# and a bad seeder.ini, usage errors, and a missing kubeconfig.
. "$top_srcdir/tests/integration/lib.sh"
DATA=$top_srcdir/tests/data/config

out=$("$CLYDE_SEED" --help); is "$?" 0 "--help exits 0"
for opt in --base-dir --seeder-percentage --namespace --log-level --no-stdout --seeder-tracker-file \
        --images-to-seed --log-file --config --kubeconfig --context --check-config --version --help; do
        grep -q -- "$opt" <<<"$out"; ok $? "--help lists $opt"
done
grep -q -- "--seeder-percentage VALUE .*(default: '40')" <<<"$out"; ok $? "--help shows the percentage default"
grep -q -- "--images-to-seed VALUE .*(default: 'images.txt')" <<<"$out"; ok $? "--help shows the images default"
grep -q -- "--seeder-tracker-file VALUE .*(default: 'seeder_tracker.json')" <<<"$out"; ok $? "--help shows the tracker default"
grep -q -- "--log-file VALUE .*(default: 'seeder.log')" <<<"$out"; ok $? "--help shows the log default"
"$CLYDE_SEED" --version | grep -qE '^clyde-seed [0-9]+\.[0-9]+'; ok $? "--version prints the version"

# A good file: every value with its source.
out=$("$CLYDE_SEED" --config "$DATA/good.ini" --check-config --namespace ops --base-dir "$WORK")
is "$?" 0 "--check-config on a good file exits 0"
is "$(tail -n 1 <<<"$out")" "configuration OK" "it ends with 'configuration OK'"
grep -qE "^percentage += 25.5 +# .*good.ini:3$" <<<"$out"; ok $? "a file value shows file:line"
grep -qE "^namespace += ops +# command line$" <<<"$out"; ok $? "a command-line value shows 'command line'"
grep -qE "^helper_image += docker.io/library/busybox:1.36.1-musl +# default$" <<<"$out"; ok $? "a default shows 'default'"
grep -qE "^tracker_file += $WORK/state/tracker.json " <<<"$out"; ok $? "a relative path resolves against --base-dir"
is "$(grep -cE '^[a-z_]+ += ' <<<"$out")" 45 "every key is printed"

# A bad file: every error with file:line, exit 78.
out=$("$CLYDE_SEED" --config "$DATA/bad.ini" --check-config 2>&1)
is "$?" 78 "--check-config on a bad file exits 78"
is "$(grep -cE "^$DATA/bad.ini:[0-9]+: " <<<"$out")" 13 "all 13 errors are listed with file:line"
grep -q "bad.ini:3: unknown key 'forks' in \[seeder\]" <<<"$out"; ok $? "unknown key reported as in the issue"
grep -q "allowed 1..50" <<<"$out"; ok $? "an out-of-range value names the allowed range"

# A decimal must be a finite number: nan and inf are refused with file:line (78) before
# anything could convert them to an integer; on the command line they are usage errors.
for v in nan inf -inf; do
        printf '[kubernetes]\nqps = %s\n' "$v" >"$WORK/qps.ini"
        out=$("$CLYDE_SEED" --config "$WORK/qps.ini" --check-config 2>&1)
        is "$?" 78 "qps = $v: --check-config exits 78"
        grep -q "^$WORK/qps.ini:2: invalid value '$v' for 'qps' in \[kubernetes\]: expected a finite decimal number" <<<"$out"
        ok $? "qps = $v: the error names file:line"
done
"$CLYDE_SEED" --config /dev/null --seeder-percentage nan --check-config >/dev/null 2>&1
is "$?" 64 "--seeder-percentage nan exits 64"

# Usage errors are 64; a named config file that is missing is 78.
"$CLYDE_SEED" --frobnicate >/dev/null 2>&1; is "$?" 64 "an unknown option exits 64"
"$CLYDE_SEED" --config /dev/null --seeder-percentage 150 --check-config >/dev/null 2>&1
is "$?" 64 "--seeder-percentage 150 exits 64"
"$CLYDE_SEED" --config /dev/null --seeder-percentage 0.5 --check-config >/dev/null 2>&1
is "$?" 0 "--seeder-percentage 0.5 is accepted"
"$CLYDE_SEED" --config "$WORK/none.ini" --check-config >/dev/null 2>&1; is "$?" 78 "a missing --config file exits 78"
for lvl in debug INFO Warning error CRITICAL notice; do
        "$CLYDE_SEED" --config /dev/null --log-level "$lvl" --check-config >/dev/null 2>&1
        is "$?" 0 "--log-level $lvl is accepted"
done

# The images file is read before anything else, even from a pipe; a kubeconfig that does
# not exist is a configuration error (78) naming the file.
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" --log-file '' --kubeconfig "$WORK/missing-kubeconfig" \
        --images-to-seed <(printf 'nginx:1.27\n') >"$WORK/out" 2>&1
is "$?" 78 "a missing kubeconfig exits 78"
grep -q "missing-kubeconfig" "$WORK/out"; ok $? "the error names the kubeconfig"
# The images file is read and checked before the kubeconfig: a bad line in a pipe wins.
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" --log-file '' --kubeconfig "$WORK/missing-kubeconfig" \
        --images-to-seed <(printf 'nginx:1.27\nBad:Image\n') >"$WORK/out" 2>&1
is "$?" 78 "an invalid line in a piped images file exits 78"
grep -q "/dev/fd/[0-9]*:2: invalid image reference 'Bad:Image'" "$WORK/out"
ok $? "--images-to-seed <(printf ...) was read, and checked before the kubeconfig"
grep -q "missing-kubeconfig" "$WORK/out"; ok $((!$?)) "the kubeconfig was not looked at yet"
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" --log-file '' --images-to-seed "$WORK/nope.txt" >"$WORK/out" 2>&1
is "$?" 78 "a missing images file exits 78"
grep -q "cannot read images file '$WORK/nope.txt'" "$WORK/out"; ok $? "the error names the images file"

# The log file: created 0640 whatever the umask, appended.
(umask 000; "$CLYDE_SEED" --config /dev/null --base-dir "$WORK" --images-to-seed "$WORK/nope.txt" >/dev/null 2>&1)
is "$(stat -c %a "$WORK/seeder.log")" 640 "seeder.log is created 0640 with umask 000"
grep -q "cannot read images file" "$WORK/seeder.log"; ok $? "the log file holds the error"
done_testing
