# Sourced by the registry tests (after tests/integration/lib.sh): Debian's docker-registry
# on loopback (plain, TLS with its own CA, htpasswd), images built offline with umoci and
# pushed with skopeo. Nothing here reaches the internet.

REG_PIDS=()
reg_cleanup() {
        local p
        for p in "${REG_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        cleanup
}
trap reg_cleanup EXIT

# The tools, or skip (a FAILURE in CI, where tools/deps installs them).
reg_need_tools() {
        local t missing=
        for t in docker-registry skopeo umoci htpasswd openssl; do
                command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
        done
        [ -z "$missing" ] && return 0
        if [ "${CI:-}" = true ]; then
                echo "Bail out! missing in CI:$missing (tools/deps installs them)"
                exit 1
        fi
        echo "1..0 # SKIP missing:$missing"
        exit 77
}

free_port() { "$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# reg_start NAME PORT [tls CERT KEY] [auth HTPASSWD]: a registry in $WORK/reg-NAME whose
# access log is $WORK/reg-NAME/log.
reg_start() {
        local name=$1 port=$2 dir=$WORK/reg-$1 tls= auth=
        shift 2
        while [ $# -gt 0 ]; do
                case $1 in
                tls) tls="  tls: {certificate: $2, key: $3}"; shift 3 ;;
                auth) auth="auth: {htpasswd: {realm: clyde-test, path: $2}}"; shift 2 ;;
                esac
        done
        mkdir -p "$dir/data"
        cat >"$dir/config.yml" <<EOC
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http:
  addr: 127.0.0.1:$port
$tls
$auth
EOC
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        REG_PIDS+=($!)
        for _ in $(seq 1 100); do
                grep -q "listening on" "$dir/log" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "Bail out! registry $name did not start: $(tail -n 3 "$dir/log")"
        exit 1
}

# Requests of the access log (method and path), e.g. reg_requests plain | grep -c blobs
reg_requests() { grep -oE '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/[^ ]*' "$WORK/reg-$1/log" | tr -d '"'; }

# build_image LAYOUT TAG ARCH FILE...: a tiny OCI image, one layer per file, built offline.
build_image() {
        local layout=$1 tag=$2 arch=$3 f
        shift 3
        [ -d "$layout" ] || umoci init --layout "$layout" >/dev/null
        umoci new --image "$layout:$tag" >/dev/null
        for f in "$@"; do umoci insert --image "$layout:$tag" "$f" "/data/$(basename "$f")" >/dev/null; done
        umoci config --image "$layout:$tag" --architecture "$arch" --os linux --config.user 65534:65534 >/dev/null
}

# push LAYOUT TAG DEST [skopeo flags...]
push() {
        local layout=$1 tag=$2 dest=$3
        shift 3
        skopeo copy --quiet --dest-tls-verify=false "$@" "oci:$layout:$tag" "docker://$dest" >/dev/null
}

# The digest a registry answers for a reference (HEAD, every manifest type accepted).
head_digest() { # head_digest URL REPO TAG [curl flags...]
        local url=$1 repo=$2 tag=$3
        shift 3
        curl -sSI "$@" -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
                "$url/v2/$repo/manifests/$tag" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# A CA and a server certificate for 127.0.0.1 in $WORK/pki.
make_pki() {
        local d=$WORK/pki
        mkdir -p "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=clyde test CA" \
                -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
                -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
}
