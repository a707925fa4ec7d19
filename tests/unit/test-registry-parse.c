/* SPDX-License-Identifier: MIT */
/* The registry parsers on bodies and headers shaped as the OCI image and distribution
 * specs and Docker's registry and token documentation show them (tests/data/registry). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "registry-parse.h"
#include "registry.h"
#include "tap.h"

#define DATA "tests/data/registry"

static void test_oci_index(void) {
        struct registry_manifest m = { .size = -1 };
        char *cause = NULL;
        size_t len;
        char *body = tap_data(DATA, "oci-index.json", &len);

        is_int(registry_manifest_parse(body, len, NULL, &m, &cause), 0, "OCI index parses");
        is_int(m.kind, REGISTRY_KIND_INDEX, "OCI index: kind index");
        is_str(m.media_type, REGISTRY_MT_OCI_INDEX, "OCI index: media type");
        is_int(m.n_platforms, 3, "OCI index: the attestation entry (unknown/unknown) is left out");
        is_str(m.platforms[0].arch, "ppc64le", "OCI index: first platform ppc64le");
        is_str(m.platforms[1].os, "linux", "OCI index: os");
        is_str(m.platforms[2].variant, "v8", "OCI index: arm64 variant v8");
        ok(m.platforms[1].digest && startswith(m.platforms[1].digest, "sha256:3e23"),
           "OCI index: entry digest kept");
        ok(registry_platform_matches(&m.platforms[2], "linux", "arm64", NULL), "arm64 node without variant matches v8");
        ok(registry_platform_matches(&m.platforms[2], "linux", "arm64", "v8"), "arm64/v8 matches");
        ok(!registry_platform_matches(&m.platforms[2], "linux", "arm64", "v9"), "arm64/v9 does not match v8");
        ok(!registry_platform_matches(&m.platforms[1], "windows", "amd64", NULL), "windows does not match linux");
        registry_manifest_done(&m);
        free(body);
        free(cause);
}

static void test_docker_list(void) {
        struct registry_manifest m = { .size = -1 };
        size_t len;
        char *body = tap_data(DATA, "docker-list.json", &len);

        is_int(registry_manifest_parse(body, len, NULL, &m, NULL), 0, "Docker manifest list parses");
        is_int(m.kind, REGISTRY_KIND_INDEX, "manifest list: kind index");
        is_int(m.n_platforms, 3, "manifest list: three platforms");
        is_str(m.platforms[2].arch, "arm", "manifest list: arm");
        is_str(m.platforms[2].variant, "v7", "manifest list: variant v7");
        ok(!m.platforms[1].variant, "manifest list: no variant on amd64");
        registry_manifest_done(&m);
        free(body);
}

static void test_image_manifests(void) {
        const char *files[] = { "oci-manifest.json", "docker-v2.json" };
        const char *types[] = { REGISTRY_MT_OCI_MANIFEST, REGISTRY_MT_DOCKER_V2 };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                struct registry_manifest m = { .size = -1 };
                size_t len;
                char *body = tap_data(DATA, files[i], &len);

                is_int(registry_manifest_parse(body, len, NULL, &m, NULL), 0, "%s parses", files[i]);
                is_int(m.kind, REGISTRY_KIND_IMAGE, "%s: kind image", files[i]);
                is_str(m.media_type, types[i], "%s: media type", files[i]);
                is_int(m.size, 7023 + 32654 + 16724 + 73109, "%s: size is config + layers", files[i]);
                ok(m.config_digest && startswith(m.config_digest, "sha256:3f79"), "%s: config digest", files[i]);
                registry_manifest_done(&m);
                free(body);
        }
}

static void test_manifest_content_type(void) {
        const char *d = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
        char body[512];
        struct registry_manifest m = { .size = -1 };

        /* Without mediaType in the body the Content-Type says what it is. */
        (void) snprintf(body, sizeof(body),
                        "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":10},\"layers\":[]}", d);
        is_int(registry_manifest_parse(body, strlen(body), REGISTRY_MT_DOCKER_V2 "; charset=utf-8", &m, NULL), 0,
               "manifest without mediaType: Content-Type with parameters used");
        is_str(m.media_type, REGISTRY_MT_DOCKER_V2, "media type from Content-Type");
        is_int(m.size, 10, "config only: size 10");
        registry_manifest_done(&m);
        is_int(registry_manifest_parse(body, strlen(body), NULL, &m, NULL), 0, "no type at all: OCI manifest assumed");
        is_str(m.media_type, REGISTRY_MT_OCI_MANIFEST, "OCI manifest assumed from its shape");
        registry_manifest_done(&m);
}

struct bad_case {
        const char *body;
        const char *cause;
};

static void test_manifest_bad(void) {
        static const struct bad_case cases[] = {
                { "", "not a JSON object" },
                { "[]", "not a JSON object" },
                { "{\"schemaVersion\":2} x", "not a JSON object" },
                { "{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
                  "schemaVersion is not 2" },
                { "{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", "unsupported media type 'text/html'" },
                { "{\"schemaVersion\":2,\"mediaType\":\"" REGISTRY_MT_OCI_INDEX "\"}", "index without a manifests array" },
                { "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:abc\",\"size\":1}]}",
                  "manifests[0]: missing or invalid digest" },
                { "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\",\"size\":-1}]}",
                  "manifests[0]: missing or negative size" },
                { "{\"schemaVersion\":2,\"mediaType\":\"" REGISTRY_MT_DOCKER_V2 "\",\"layers\":[]}",
                  "manifest without a valid config descriptor" },
                { "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\",\"size\":1},\"layers\":[{\"size\":2}]}",
                  "layers[0]: missing or invalid digest or size" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct registry_manifest m = { .size = -1 };
                char *cause = NULL;
                is_int(registry_manifest_parse(cases[i].body, strlen(cases[i].body), NULL, &m, &cause), -EINVAL,
                       "bad manifest %zu refused", i);
                is_str(cause, cases[i].cause, "bad manifest %zu: cause", i);
                free(cause);
        }
}

static void test_config(void) {
        struct registry_platform p = { .size = -1 };
        char *cause = NULL;
        size_t len;
        char *body = tap_data(DATA, "config-arm64.json", &len);

        is_int(registry_config_parse(body, len, &p, NULL), 0, "image config parses");
        is_str(p.os, "linux", "config: os");
        is_str(p.arch, "arm64", "config: architecture");
        is_str(p.variant, "v8", "config: variant");
        registry_platform_done(&p);
        is_int(registry_config_parse("{\"os\":\"linux\"}", 14, &p, &cause), -EINVAL, "config without architecture refused");
        is_str(cause, "image config without os and architecture", "config: cause");
        free(cause);
        free(body);
}

struct challenge_case {
        const char *header;
        const char *scheme, *realm, *service, *scope, *error;
};

static void test_challenges(void) {
        static const struct challenge_case cases[] = {
                /* The distribution token-auth documentation's example. */
                { "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\"",
                  "Bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push", NULL },
                /* Docker Hub's answer to an anonymous manifest request. */
                { "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"",
                  "Bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:library/busybox:pull", NULL },
                /* distribution's htpasswd access controller. */
                { "Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", NULL, NULL, NULL },
                { "bearer  REALM=https://h:5001/auth , Service = \"reg\"", "bearer", "https://h:5001/auth", "reg", NULL, NULL },
                { "Bearer realm=\"r\",error=\"insufficient_scope\",scope=\"a\\\"b\"", "Bearer", "r", NULL, "a\"b",
                  "insufficient_scope" },
                /* Two challenges in one value: the first one's parameters only. */
                { "Basic realm=\"x\", Bearer realm=\"y\"", "Basic", "x", NULL, NULL, NULL },
                { "Bearer", "Bearer", NULL, NULL, NULL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct registry_challenge c = {};
                const struct challenge_case *k = &cases[i];
                is_int(registry_challenge_parse(k->header, &c, NULL), 0, "challenge %zu parses", i);
                is_str(c.scheme, k->scheme, "challenge %zu: scheme", i);
                is_str(c.realm, k->realm, "challenge %zu: realm", i);
                is_str(c.service, k->service, "challenge %zu: service", i);
                is_str(c.scope, k->scope, "challenge %zu: scope", i);
                is_str(c.error, k->error, "challenge %zu: error", i);
                registry_challenge_done(&c);
        }
        const char *bad[] = { "", "   ", "Bearer realm=\"unterminated", "(Bearer)" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_challenge c = {};
                char *cause = NULL;
                is_int(registry_challenge_parse(bad[i], &c, &cause), -EINVAL, "bad challenge '%s' refused", bad[i]);
                ok(cause != NULL, "bad challenge %zu: a cause", i);
                free(cause);
        }
}

static void test_token(void) {
        char *tok = NULL, *cause = NULL;
        int64_t exp = 0;
        size_t len;
        char *body = tap_data(DATA, "token-hub.json", &len);

        is_int(registry_token_parse(body, len, &tok, &exp, NULL), 0, "Docker Hub token answer parses");
        ok(tok && startswith(tok, "eyJ"), "token taken");
        is_int(exp, 300, "expires_in 300");
        free(tok);
        tok = NULL;
        const char *oauth = "{\"access_token\":\"abc\",\"expires_in\":10}";
        is_int(registry_token_parse(oauth, strlen(oauth), &tok, &exp, NULL), 0,
               "OAuth2-style access_token accepted");
        is_str(tok, "abc", "access_token value");
        is_int(exp, 60, "expires_in below 60 counts as 60");
        free(tok);
        is_int(registry_token_parse("{\"token\":\"\"}", 12, &tok, &exp, &cause), -EINVAL, "empty token refused");
        is_str(cause, "token response without a token", "empty token: cause");
        free(cause);
        free(body);
}

static void test_dockerconfig(void) {
        struct registry_creds c = {};
        const struct registry_cred *cr;
        char *cause = NULL;
        size_t len;
        char *body = tap_data(DATA, "dockerconfig.json", &len);

        is_int(registry_dockerconfig_parse(body, len, &c, &cause), 0, ".dockerconfigjson parses");
        is_int(c.n, 3, "three registries");
        cr = registry_creds_find(&c, "docker.io");
        ok(cr && streq(cr->username, "clyde") && streq(cr->password, "s3cr3t:pw"),
           "Docker Hub legacy key: auth decoded, the password keeps its colon");
        ok(registry_creds_find(&c, "index.docker.io") == cr, "index.docker.io finds Docker Hub's entry");
        cr = registry_creds_find(&c, "registry.example.com:5000");
        ok(cr && streq(cr->username, "robot$ci") && streq(cr->password, "hunter2"), "username/password entry");
        cr = registry_creds_find(&c, "localhost:5001");
        ok(cr && streq(cr->username, "u") && streq_ptr(cr->identity_token, "idtok-do-not-log"),
           "scheme, path and case of the key normalised; identitytoken kept");
        ok(!registry_creds_find(&c, "ghcr.io"), "no entry for another registry");
        /* A second secret does not override the first for the same host. */
        const char *second = "{\"auths\":{\"docker.io\":{\"username\":\"other\",\"password\":\"x\"}}}";
        is_int(registry_dockerconfig_parse(second, strlen(second), &c, NULL), 0, "second secret parses");
        ok(streq(registry_creds_find(&c, "docker.io")->username, "clyde"), "the first secret wins");
        registry_creds_done(&c);
        free(body);

        const char *bad[] = { "{}", "[]", "{\"auths\":[]}", "{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}",
                              "{\"auths\":{\"h\":{\"auth\":\"%%%\"}}}", "{\"auths\":{\"a b\":{}}}" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_creds b = {};
                is_int(registry_dockerconfig_parse(bad[i], strlen(bad[i]), &b, &cause), -EINVAL, "bad docker config %zu refused", i);
                ok(cause && !strstr(cause, "bm9jb2xvbg") && !strstr(cause, "nocolon"), "bad docker config %zu: cause '%s' quotes no credential",
                   i, strempty(cause));
                registry_creds_done(&b);
                free(cause);
                cause = NULL;
        }
}

static void test_base64(void) {
        char *out = NULL;
        size_t len = 0;

        is_int(registry_base64_decode("aGVsbG8=", 8, &out, &len), 0, "base64 with padding");
        is_str(out, "hello", "base64 value");
        free(out);
        is_int(registry_base64_decode("aGVsbG8", 7, &out, &len), 0, "base64 without padding");
        is_int(len, 5, "base64 length");
        free(out);
        is_int(registry_base64_decode("a", 1, &out, &len), -EINVAL, "base64 of one char refused");
        is_int(registry_base64_decode("a b=", 4, &out, &len), -EINVAL, "base64 with a space refused");
}

static void test_hosts(void) {
        const char *mirrors[] = { "docker.io=https://mirror.local:5000/", "docker.io=http://10.0.0.9:5000",
                            "127.0.0.1:5000=http://127.0.0.1:5000", NULL };
        const char *cas[] = { "mirror.local:5000=/etc/clyde/mirror-ca.pem", NULL };
        struct registry_hosts h = {};
        char **l = NULL, *cause = NULL;

        is_int(registry_hosts_parse(mirrors, cas, &h, NULL), 0, "hosts table parses");
        is_int(registry_hosts_endpoints(&h, "docker.io", &l), 0, "docker.io endpoints");
        ok(l && streq_ptr(l[0], "https://mirror.local:5000") && streq_ptr(l[1], "http://10.0.0.9:5000") &&
           streq_ptr(l[2], "https://registry-1.docker.io") && !l[3],
           "mirrors in order, then Docker Hub's own endpoint");
        strv_free(l);
        is_int(registry_hosts_endpoints(&h, "127.0.0.1:5000", &l), 0, "server entry endpoints");
        ok(l && streq_ptr(l[0], "http://127.0.0.1:5000") && !l[1], "a server entry for the registry itself replaces https");
        strv_free(l);
        is_int(registry_hosts_endpoints(&h, "ghcr.io", &l), 0, "unlisted registry");
        ok(l && streq_ptr(l[0], "https://ghcr.io") && !l[1], "unlisted registry: itself over https");
        strv_free(l);
        is_str(registry_hosts_ca(&h, "https://mirror.local:5000"), "/etc/clyde/mirror-ca.pem", "CA by endpoint host");
        ok(!registry_hosts_ca(&h, "https://ghcr.io"), "no CA for another host");
        registry_hosts_done(&h);

        const char *bad1[] = { "docker.io", NULL }, *bad2[] = { "docker.io=ftp://x", NULL },
             *bad3[] = { "docker.io=https://u:p@x", NULL }, *bad4[] = { "x=https://h/path", NULL };
        const char *const *bads[] = { bad1, bad2, bad3, bad4 };
        for (size_t i = 0; i < ELEMENTSOF(bads); i++) {
                is_int(registry_hosts_parse(bads[i], NULL, &h, &cause), -EINVAL, "bad mirror '%s' refused", bads[i][0]);
                ok(cause && strstr(cause, "expected registry=http(s)://host[:port]"), "bad mirror %zu: cause", i);
                free(cause);
                cause = NULL;
        }
        const char *badca[] = { "h=relative.pem", NULL };
        is_int(registry_hosts_parse(NULL, badca, &h, &cause), -EINVAL, "relative CA file refused");
        free(cause);
}

int main(void) {
        test_oci_index();
        test_docker_list();
        test_image_manifests();
        test_manifest_content_type();
        test_manifest_bad();
        test_config();
        test_challenges();
        test_token();
        test_dockerconfig();
        test_base64();
        test_hosts();
        return tap_done();
}
