#!/bin/bash
# The registry client's bearer-token flow against a stand-in registry that speaks it
# (tests/registry/fake-token-registry.py): a token fetched with the pull secret's
# credentials as basic auth, an anonymous token for a public repository, a refused token
# request, a 429 with Retry-After waited out; neither the password nor a token is logged.
. "$top_srcdir/tests/integration/lib.sh"
RESOLVE=$top_builddir/tests/registry/registry-resolve
json() { "$PYTHON3" -c "import json,sys; d=[json.loads(l) for l in sys.stdin if l.strip()]; print($1)"; }

"$PYTHON3" "$top_srcdir/tests/registry/fake-token-registry.py" "$WORK/requests" >"$WORK/ready" 2>"$WORK/fake.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/ready" && break; sleep 0.1; done
read -r _ PORT DIGEST <"$WORK/ready"
[ -n "${PORT:-}" ] || { echo "Bail out! the stand-in registry did not start: $(cat "$WORK/fake.err")"; exit 1; }
R=127.0.0.1:$PORT
printf '{"auths":{"%s":{"username":"clyde","password":"pw-Tok3n-7"}}}' "$R" >"$WORK/creds.json"

out=$("$RESOLVE" -m "$R=http://$R" -a "$WORK/creds.json" "$R/seed/private:1" 2>"$WORK/err")
is "$(json 'd[0]["rc"], d[0]["digest"]' <<<"$out")" "0 $DIGEST" "bearer: resolved with a token fetched with the secret's credentials"
is "$(json 'd[0]["platforms"][0]["arch"]' <<<"$out")" arm64 "bearer: the config blob read with the token gives the platform"
seq_=$("$PYTHON3" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(" ".join("%s:%s:%s:%s" % (x["method"], x["path"].split("?")[0].split("/")[-2] if x["path"].startswith("/v2") else "token", x["auth"], x["status"]) for x in r))' "$WORK/requests")
is "$seq_" "HEAD:manifests:None:401 GET:token:Basic:200 HEAD:manifests:Bearer:200 GET:manifests:Bearer:200 GET:blobs:Bearer:200" \
        "bearer: 401, token with basic auth, then every request with the bearer token (reused)"
grep -q 'scope=repository%3Aseed%2Fprivate%3Apull' "$WORK/requests"; ok $? "bearer: the challenge's scope is sent to the realm"
: >"$WORK/requests"

out=$("$RESOLVE" -m "$R=http://$R" "$R/seed/public:1" 2>>"$WORK/err")
is "$(json 'd[0]["rc"]' <<<"$out")" 0 "bearer: an anonymous token for a public repository"
grep -qE '"path": "/token[^"]*", "status": 200, "auth": null' "$WORK/requests"
ok $? "bearer: the anonymous token request carries no credentials"

out=$("$RESOLVE" -m "$R=http://$R" "$R/seed/private:1" 2>>"$WORK/err")
is "$(json 'd[0]["rc"]' <<<"$out")" -13 "bearer without credentials: -EACCES"
json 'd[0]["cause"]' <<<"$out" | grep -q "token service refused the anonymous request (HTTP 401)"; ok $? "the cause says the token service refused"

out=$("$RESOLVE" -m "$R=http://$R" -a "$WORK/creds.json" "$R/seed/limited:1" 2>>"$WORK/err")
is "$(json 'd[0]["rc"]' <<<"$out")" 0 "429: resolved after Retry-After"
grep -q "HTTP 429 with Retry-After, retrying in 1000 ms" "$WORK/err"; ok $? "429: the wait follows Retry-After (1 s)"

! grep -qE 'pw-Tok3n-7|tok-SECRET-42|anon-tok-1|Y2x5ZGU6cHctVG9rM24tNw' "$WORK/err"; ok $? "no password or token in the client's log"
done_testing
