#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages: lint-clean with mandoc and groff, and complete: every long option of
# "clyde-seed --help", every command, exit status, message id, journal field and
# environment variable in clyde-seed(8); every section and key of src/config-keys.c
# with its default in seeder.ini(5); the pages the units' Documentation= names exist.
. "$top_srcdir/tests/systemd/lib.sh"

M8="$top_srcdir/man/clyde-seed.8"
M5="$top_srcdir/man/seeder.ini.5"
command -v mandoc >/dev/null 2>&1 || command -v groff >/dev/null 2>&1 ||
        skip_all_missing "neither mandoc nor groff installed (apt-get install mandoc groff-base)"

for page in "$M8" "$M5"; do
        name=$(basename "$page")
        if command -v mandoc >/dev/null 2>&1; then
                out=$(mandoc -T lint -W warning "$page" 2>&1)
                is "$out" "" "mandoc -T lint -W warning $name prints nothing"
        else
                skip_missing 1 "mandoc lint of $name: mandoc not installed (apt-get install mandoc)"
        fi
        if command -v groff >/dev/null 2>&1; then
                out=$(groff -ww -z -man "$page" 2>&1)
                is "$out" "" "groff -ww -z -man $name prints nothing"
        else
                skip_missing 1 "groff lint of $name: groff not installed (apt-get install groff-base)"
        fi
done

# Plain text without hyphenation or line breaks inside words.
render() {
        if command -v mandoc >/dev/null 2>&1; then
                mandoc -T ascii -O width=1000 "$1" | sed 's/.\x08//g'
        else
                groff -man -Tascii -rLL=1000n -P-c -P-b -P-o -P-u "$1" 2>/dev/null
        fi
}
render "$M8" >"$WORK/8.txt"
render "$M5" >"$WORK/5.txt"
# section NAME FILE: the text of one section of a rendered page.
section() { awk -v s="$1" '/^[^ ]/ { on = ($0 == s) } on' "$2"; }

# Every long option of --help.
"$CLYDE_SEED" --help >"$WORK/help" 2>&1
opts=$(grep -oE '^ +(-h, )?--[a-z-]+' "$WORK/help" | grep -oE -- '--[a-z-]+' | sort -u)
ok $([ "$(echo "$opts" | wc -l)" -ge 10 ]; echo $?) "--help lists $(echo "$opts" | wc -l) long options"
missing=
for o in $opts; do
        section OPTIONS "$WORK/8.txt" | grep -qE -- "(^|[ ,])$o( |,|$)" || missing="$missing $o"
done
is "$missing" "" "every long option of --help is described under OPTIONS"
missing=
for c in run status plan release; do
        section COMMANDS "$WORK/8.txt" | grep -qE "^ +$c( |$)" || missing="$missing $c"
done
is "$missing" "" "every command is described under COMMANDS"
for c in run status plan release; do
        grep -q "^ *$c " "$WORK/help" || echo "# note: '$c' is not in --help"
done

# Exit codes, from src/exitcode.h.
codes=$(sed -n 's/^ *EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' "$top_srcdir/src/exitcode.h")
ok $([ "$(echo "$codes" | wc -l)" -eq 9 ]; echo $?) "src/exitcode.h has 9 exit codes: $(echo $codes)"
missing=
for c in $codes; do
        section "EXIT STATUS" "$WORK/8.txt" | grep -qE "^ +$c( |$)" || missing="$missing $c"
done
is "$missing" "" "every exit code is under EXIT STATUS"
missing=
for c in $codes; do
        grep -qE "^\| $c \|" "$top_srcdir/README.md" || missing="$missing $c"
done
is "$missing" "" "every exit code is in README.md's exit-code table"

# Message ids, from src/log.h.
ids=$(sed -n 's/^#define CLYDE_MSGID_[A-Z_]* *"\([0-9a-f]*\)".*/\1/p' "$top_srcdir/src/log.h")
ok $([ "$(echo "$ids" | wc -l)" -ge 5 ]; echo $?) "src/log.h has $(echo "$ids" | wc -l) message ids"
missing=
for id in $ids; do
        section "MESSAGE IDS" "$WORK/8.txt" | grep -q "$id" || missing="$missing $id"
done
is "$missing" "" "every message id is under MESSAGE IDS"

# Journal fields (from src/log.c) and the environment.
fields=$(grep -oE '"(CLYDE_[A-Z]+|CONFIG_FILE|CONFIG_LINE)"' "$top_srcdir/src/log.c" | tr -d '"' | sort -u)
missing=
for f in $fields; do
        section "JOURNAL FIELDS" "$WORK/8.txt" | grep -q "$f=" || missing="$missing $f"
done
is "$missing" "" "every journal field of src/log.c is under JOURNAL FIELDS: $(echo $fields)"
missing=
for v in KUBECONFIG HOME JOURNAL_STREAM NOTIFY_SOCKET CLYDE_TEST_CRASH_AT_STEP; do
        section ENVIRONMENT "$WORK/8.txt" | grep -qE "(^ +|, )$v(,| |$)" || missing="$missing $v"
done
is "$missing" "" "the environment variables are under ENVIRONMENT"
for s in SYNOPSIS FILES EXAMPLES "THE TRACKER" SYSTEMD METRICS; do
        grep -q "^$s\$" "$WORK/8.txt"
        ok $? "clyde-seed(8) has a $s section"
done
grep -q 'kubectl apply' "$WORK/8.txt" && grep -q 'image_pull_secrets' "$WORK/8.txt" &&
        grep -q 'OnCalendar\|enable --now clyde-seed.timer' "$WORK/8.txt"
ok $? "examples: the timer, clyde-seed && kubectl apply, a private registry"

# seeder.ini(5): every key of the table with its type and default.
"$PYTHON3" - "$top_srcdir/src/config-keys.c" >"$WORK/keys" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
for m in re.finditer(r'\{\s*"(\w+)",\s*"(\w+)",\s*KEY_\w+,\s*OFF\(\w+\),\s*"([^"]*)"', src):
    print("\t".join(m.groups()))
EOF
nkeys=$(wc -l <"$WORK/keys")
ok $([ "$nkeys" -ge 30 ]; echo $?) "src/config-keys.c has $nkeys keys"
missing=
while IFS="$(printf '\t')" read -r sec key def; do
        [ -n "$def" ] || def=empty
        section "[$sec] SECTION" "$WORK/5.txt" | grep -qF " $key = " || { missing="$missing [$sec]$key"; continue; }
        section "[$sec] SECTION" "$WORK/5.txt" | grep -F " $key = " | grep -qF "(default: $def)" ||
                missing="$missing [$sec]$key(default $def)"
done <"$WORK/keys"
is "$missing" "" "every key is in its section of seeder.ini(5) with its default"
missing=
for sec in $(cut -f1 "$WORK/keys" | sort -u); do
        grep -q "^\[$sec\] SECTION\$" "$WORK/5.txt" || missing="$missing $sec"
done
is "$missing" "" "every section has a heading in seeder.ini(5)"
documented=$(for sec in $(cut -f1 "$WORK/keys" | sort -u); do section "[$sec] SECTION" "$WORK/5.txt"; done |
        grep -c '^       [a-z0-9_]* = ')
is "$documented" "$nkeys" "seeder.ini(5) documents no key the table lacks"

# The units name these pages; the pages' titles match.
for u in "$top_builddir/systemd/clyde-seed.service" "$top_srcdir/systemd/clyde-seed.timer"; do
        grep -q '^Documentation=man:clyde-seed(8) man:seeder.ini(5)$' "$u"
        ok $? "$(basename "$u") documents man:clyde-seed(8) man:seeder.ini(5)"
done
grep -q '^\.TH CLYDE\\-SEED 8 ' "$M8" && grep -q '^\.TH SEEDER.INI 5 ' "$M5"
ok $? "the pages are clyde-seed(8) and seeder.ini(5)"
done_testing
