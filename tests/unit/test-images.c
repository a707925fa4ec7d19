/* SPDX-License-Identifier: MIT */
/* Image references, the images file, container names, kubelet name matching. */
#include <errno.h>
#include <stdlib.h>

#include "images.h"
#include "labelsel.h"
#include "macro.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct ref_case {
        const char *in;
        const char *normalized; /* NULL: invalid */
        const char *cause;      /* substring of the cause when invalid */
};

static const struct ref_case ref_cases[] = {
        { "nginx", "docker.io/library/nginx:latest" },
        { "nginx:1.27", "docker.io/library/nginx:1.27" },
        { "user/app", "docker.io/user/app:latest" },
        { "docker.io/nginx", "docker.io/library/nginx:latest" },
        { "index.docker.io/library/nginx:1", "docker.io/library/nginx:1" },
        { "index.docker.io/user/app", "docker.io/user/app:latest" },
        { "ghcr.io/a/b", "ghcr.io/a/b:latest" },
        { "ghcr.io/a/b/c/d:v1", "ghcr.io/a/b/c/d:v1" },
        { "localhost/app", "localhost/app:latest" },
        { "localhost:5000/app:dev", "localhost:5000/app:dev" },
        { "registry:5000/app", "registry:5000/app:latest" },
        { "10.0.0.1:5000/team/app:v2", "10.0.0.1:5000/team/app:v2" },
        { "[::1]:5000/app", "[::1]:5000/app:latest" },
        { "[2001:db8::1]/app:x", "[2001:db8::1]/app:x" },
        { "Registry.Example.COM/app", "Registry.Example.COM/app:latest" },
        { "nginx@sha256:" D64, "docker.io/library/nginx@sha256:" D64 },
        { "nginx:1.27@sha256:" D64, "docker.io/library/nginx:1.27@sha256:" D64 },
        { "a/b@sha512:" D64 D64, "docker.io/a/b@sha512:" D64 D64 },
        { "a@multihash+base58:" D64, "docker.io/library/a@multihash+base58:" D64 },
        { "x/a_c__d---e.f/g-h:T_1.x-y", "docker.io/x/a_c__d---e.f/g-h:T_1.x-y" },
        { "a.b_c/x", NULL, "invalid registry host" },
        { "a:_tag", "docker.io/library/a:_tag" },
        { "Nginx", NULL, "repository name must be lowercase" },
        { "user/App", NULL, "repository name must be lowercase" },
        { "ghcr.io/Org/app", NULL, "repository name must be lowercase" },
        { "", NULL, "empty" },
        { "nginx:", NULL, "invalid tag" },
        { "nginx:-x", NULL, "invalid tag" },
        { "nginx:.x", NULL, "invalid tag" },
        { "nginx:a/b", NULL, "" },
        { "nginx@sha256:abc", NULL, "invalid digest" },
        { "nginx@sha256:" D64 "0", NULL, "invalid digest" },
        { "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL, "invalid digest" },
        { "nginx@md5", NULL, "invalid digest" },
        { "nginx@1sha:" D64, NULL, "invalid digest" },
        { "nginx@sha256:" D64 "@sha256:" D64, NULL, "invalid digest" },
        { "a..b", NULL, "invalid repository path" },
        { "a___b", NULL, "invalid repository path" },
        { "a_-b", NULL, "invalid repository path" },
        { "-a", NULL, "invalid repository path" },
        { "a-", NULL, "invalid repository path" },
        { "a//b", NULL, "invalid repository path" },
        { "a/", NULL, "invalid repository path" },
        { "/a", NULL, "" },
        { "ghcr.io/", NULL, "invalid repository path" },
        { "-bad.io/a", NULL, "invalid registry host" },
        { "bad-.io/a", NULL, "invalid registry host" },
        { "host:port/a", NULL, "invalid registry host" },
        { "host:/a", NULL, "invalid registry host" },
        { "[::1/a", NULL, "invalid registry host" },
        { "[]:5000/a", NULL, "invalid registry host" },
        { "[zz::1]/a", NULL, "invalid registry host" },
        { "ngi nx", NULL, "whitespace" },
        { "ngi\x01nx", NULL, "control character" },
        { D64, NULL, "image ID" },
        { "@sha256:" D64, NULL, "missing repository name" },
        { ":tag", NULL, "missing repository name" },
};

static void test_refs(void) {
        for (size_t i = 0; i < ELEMENTSOF(ref_cases); i++) {
                const struct ref_case *c = &ref_cases[i];
                _cleanup_(image_ref_done) struct image_ref r = {};
                _cleanup_(freep) char *why = NULL;
                int k = image_ref_parse(c->in, &r, &why);

                if (c->normalized) {
                        is_int(k, 0, "'%s' is valid (%s)", c->in, strempty(why));
                        is_str(r.normalized, c->normalized, "'%s' normalises", c->in);
                } else {
                        is_int(k, -EINVAL, "'%s' is invalid", c->in);
                        ok(why && strstr(why, c->cause), "'%s' cause '%s' contains '%s'", c->in, strempty(why),
                           c->cause);
                }
        }
}

static void test_ref_parts_and_lengths(void) {
        _cleanup_(image_ref_done) struct image_ref r = {};
        char name[300], tag[140];
        int k;

        is_int(image_ref_parse("ghcr.io/org/app:v1@sha256:" D64, &r, NULL), 0, "parts parse");
        is_str(r.domain, "ghcr.io", "domain");
        is_str(r.path, "org/app", "path");
        is_str(r.tag, "v1", "tag");
        is_str(r.digest, "sha256:" D64, "digest");
        image_ref_done(&r);

        is_int(image_ref_parse("busybox@sha256:" D64, &r, NULL), 0, "digest-only parses");
        ok(!r.tag, "digest-only has no tag");
        image_ref_done(&r);

        /* Name exactly 255 characters (as written) is fine, 256 is not. */
        memset(name, 'a', sizeof(name));
        memcpy(name, "r.io/", 5);
        name[255] = '\0';
        is_int(image_ref_parse(name, &r, NULL), 0, "name of 255 characters");
        image_ref_done(&r);
        name[255] = 'a';
        name[256] = '\0';
        k = image_ref_parse(name, &r, NULL);
        is_int(k, -EINVAL, "name of 256 characters");
        /* The limit counts the normalised name: 240 characters gain "docker.io/library/". */
        memset(name, 'b', 240);
        name[240] = '\0';
        is_int(image_ref_parse(name, &r, NULL), -EINVAL, "short name too long once normalised");
        name[237] = '\0';
        is_int(image_ref_parse(name, &r, NULL), 0, "237 + 18 = 255 is fine");
        image_ref_done(&r);

        memset(tag, 'x', sizeof(tag));
        memcpy(tag, "a:", 2);
        tag[2 + 128] = '\0';
        is_int(image_ref_parse(tag, &r, NULL), 0, "tag of 128 characters");
        image_ref_done(&r);
        tag[2 + 128] = 'x';
        tag[2 + 129] = '\0';
        is_int(image_ref_parse(tag, &r, NULL), -EINVAL, "tag of 129 characters");

        ok(image_digest_valid("sha256:" D64), "digest valid");
        ok(image_digest_valid("sha384:" D64 "0123456789abcdef0123456789abcdef"), "sha384 digest valid");
        ok(!image_digest_valid("sha384:" D64), "sha384 too short");
        ok(image_digest_valid("custom.alg_x:0123456789ABCDEF0123456789abcdef"), "generic algorithm, 32 hex");
        ok(!image_digest_valid("custom:0123456789abcdef0123456789abcde"), "generic algorithm, 31 hex");
        ok(!image_digest_valid("alg+:" D64), "algorithm ending in a separator");
        ok(!image_digest_valid(NULL), "NULL digest");
}

static void test_file(void) {
        static const char text[] =
                "# images to seed\n"
                "\n"
                "  nginx  \n"
                "nginx:1.27 # pinned\n"
                "\tdocker.io/library/nginx:latest\t\n"
                "ghcr.io/a/b#not-a-comment\n"
                "Nginx\n"
                "busybox@sha256:" D64 "\r\n"
                "user/app:bad:tag\n"
                "redis";
        _cleanup_(image_list_freep) struct image_list *l = NULL;
        char **errors = NULL;

        is_int(images_parse(text, sizeof(text) - 1, "images.txt", &l, &errors), -EINVAL, "file with errors");
        ok(!l, "no list on error");
        ok(errors && errors[0] && errors[1] && errors[2] && !errors[3], "three errors collected");
        if (errors && errors[0] && errors[1] && errors[2]) {
                ok(startswith(errors[0], "images.txt:6: invalid image reference 'ghcr.io/a/b#not-a-comment': "),
                   "error 1: %s", errors[0]);
                is_str(errors[1], "images.txt:7: invalid image reference 'Nginx': repository name must be lowercase",
                       "error 2");
                ok(startswith(errors[2], "images.txt:9: invalid image reference 'user/app:bad:tag'"), "error 3: %s",
                   errors[2]);
        }
        strv_free(errors);
}

static void test_file_ok(void) {
        static const char text[] =
                "nginx\n"
                "  nginx:1.27   # pinned \n"
                "docker.io/library/nginx:latest\n"
                "busybox@sha256:" D64 "\r\n"
                "index.docker.io/library/nginx:1.27\n"
                "\n#end";
        _cleanup_(image_list_freep) struct image_list *l = NULL;
        char **errors = NULL;

        is_int(images_parse(text, sizeof(text) - 1, "images.txt", &l, &errors), 0, "valid file");
        ok(!errors, "no errors");
        is_int(l->n, 3, "three distinct images");
        is_str(l->entries[0].ref.normalized, "docker.io/library/nginx:latest", "first");
        is_int(l->entries[0].line, 1, "first line");
        is_str(l->entries[1].ref.normalized, "docker.io/library/nginx:1.27", "second");
        is_str(l->entries[1].original, "nginx:1.27", "original text, trimmed");
        is_str(l->entries[2].ref.normalized, "docker.io/library/busybox@sha256:" D64, "third, CRLF stripped");
        is_int(l->entries[2].line, 4, "third line");
        ok(l->warnings && l->warnings[0] && l->warnings[1] && !l->warnings[2], "two duplicate warnings");
        if (l->warnings && l->warnings[0])
                is_str(l->warnings[0],
                       "images.txt:3: duplicate image 'docker.io/library/nginx:latest' (docker.io/library/nginx:latest, as on line 1), ignoring",
                       "warning text");
}

static void test_file_edge(void) {
        static const char nul[] = "nginx\nbad\0x\nredis\n";
        _cleanup_(image_list_freep) struct image_list *l = NULL;
        char **errors = NULL;

        is_int(images_parse("", 0, "empty", &l, &errors), 0, "empty file parses");
        is_int(l->n, 0, "empty file has no images");
        l = image_list_free(l);
        is_int(images_parse("# only\n\n   \n", 12, "c", &l, NULL), 0, "comments only");
        is_int(l->n, 0, "comments only: no images");
        l = image_list_free(l);
        is_int(images_parse(nul, sizeof(nul) - 1, "f", &l, &errors), -EINVAL, "NUL byte refused");
        ok(errors && errors[0] && !errors[1], "one error");
        if (errors && errors[0])
                is_str(errors[0], "f:2: invalid image reference 'bad?x': contains a NUL byte", "NUL message");
        strv_free(errors);
}

static void test_container_names(void) {
        static const struct {
                const char *ref, *name;
        } cases[] = {
                { "docker.io/library/nginx:latest", "nginx" },
                { "docker.io/library/nginx:1.27", "nginx-1-27" },
                { "localhost:5000/team/my_app:V1.2", "my-app-v1-2" },
                { "docker.io/library/busybox@sha256:" D64, "busybox-0123456789ab" },
                { "docker.io/library/busybox:1.36@sha256:" D64, "busybox-1-36" },
                { "docker.io/library/a__b:_x_", "a-b-x" },
                { "docker.io/library/clyde-seed:init", "clyde-seed-init" },
        };
        static const char *const batch[] = {
                "docker.io/library/nginx:latest",
                "ghcr.io/other/nginx:latest",
                "quay.io/third/nginx",
                "docker.io/library/clyde-seed:init",
                "r.io/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:t",
                "q.io/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:t",
        };
        char **names = NULL, *bad = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *n = NULL;
                is_int(image_container_name(cases[i].ref, &n), 0, "name for %s", cases[i].ref);
                is_str(n, cases[i].name, "name for %s", cases[i].ref);
        }
        is_int(images_container_names(batch, ELEMENTSOF(batch), &names), 0, "batch names");
        is_str(names[0], "nginx", "batch 0");
        is_str(names[1], "nginx-2", "batch 1 deduplicated");
        is_str(names[2], "nginx-3", "batch 2 deduplicated");
        is_str(names[3], "clyde-seed-init-2", "reserved name avoided");
        ok(names[6] == NULL, "strv terminated");
        for (size_t i = 0; i < ELEMENTSOF(batch); i++) {
                ok(dns_label_valid(names[i]), "'%s' is a DNS-1123 label", names[i]);
                ok(!streq(names[i], IMAGES_RESERVED_NAME), "'%s' is not reserved", names[i]);
                for (size_t j = 0; j < i; j++)
                        ok(!streq(names[i], names[j]), "'%s' unique vs %zu", names[i], j);
        }
        is_int(strlen(names[4]), 63, "long name cut to 63");
        ok(names[5][61] == '-' && names[5][62] == '2', "long duplicate ends in -2: %s", names[5]);
        strv_free(names);
        is_int(image_container_name("Bad", &bad), -EINVAL, "unparseable reference");
        ok(!bad, "nothing stored on failure");
}

static void test_matching(void) {
        _cleanup_(image_ref_done) struct image_ref tag = {}, dig = {}, both = {};
        _cleanup_(freep) char *d = NULL;

        is_int(image_ref_parse("nginx:1.27", &tag, NULL), 0, "want tag");
        is_int(image_ref_parse("ghcr.io/a/b@sha256:" D64, &dig, NULL), 0, "want digest");
        is_int(image_ref_parse("ghcr.io/a/b:v1@sha256:" D64, &both, NULL), 0, "want both");

        ok(image_name_matches("docker.io/library/nginx:1.27", &tag), "full name matches tag");
        ok(image_name_matches("nginx:1.27", &tag), "short name matches tag");
        ok(image_name_matches("docker-pullable://nginx:1.27", &tag), "docker-pullable prefix");
        ok(!image_name_matches("docker.io/library/nginx:1.28", &tag), "other tag");
        ok(!image_name_matches("docker.io/library/nginx@sha256:" D64, &tag), "digest cannot prove a tag");
        ok(!image_name_matches("docker.io/other/nginx:1.27", &tag), "other repository");
        ok(!image_name_matches("sha256:" D64, &tag), "image ID");
        ok(!image_name_matches("", &tag), "empty");
        ok(!image_name_matches(NULL, &tag), "NULL");
        ok(image_name_matches("ghcr.io/a/b@sha256:" D64, &dig), "digest matches");
        ok(image_name_matches("ghcr.io/a/b@sha256:" D64, &both), "digest matches tag+digest");
        ok(!image_name_matches("ghcr.io/a/b:v1", &both), "tag alone does not prove the digest");
        ok(!image_name_matches("ghcr.io/a/c@sha256:" D64, &dig), "same digest, other repository");

        is_int(image_id_digest("docker.io/library/nginx@sha256:" D64, &d), 0, "imageID digest");
        is_str(d, "sha256:" D64, "digest extracted");
        free(d);
        d = NULL;
        is_int(image_id_digest("docker-pullable://nginx@sha256:" D64, &d), 0, "docker-pullable imageID");
        is_str(d, "sha256:" D64, "digest extracted after prefix");
        free(d);
        d = NULL;
        is_int(image_id_digest("sha256:" D64, &d), 0, "bare digest");
        is_int(image_id_digest("", &d), -ENOENT, "empty imageID: not pulled");
        is_int(image_id_digest(NULL, &d), -ENOENT, "NULL imageID");
        is_int(image_id_digest("nginx@sha256:zz", &d), -EINVAL, "bad digest");
        is_int(image_id_digest("nginx:1.27", &d), -EINVAL, "no digest");
}

static int read_fixture(const char *name, char **ret, size_t *ret_len) {
        char path[512], *buf = NULL;
        size_t size = 0;
        FILE *f, *out;
        int c;

        snprintf(path, sizeof(path), "%s/%s", IMAGES_DATA_DIR, name);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        out = open_memstream(&buf, &size);
        while ((c = fgetc(f)) != EOF)
                fputc(c, out);
        fclose(f);
        fclose(out);
        *ret = buf;
        *ret_len = size;
        return 0;
}

static void test_fixtures(void) {
        _cleanup_(image_list_freep) struct image_list *l = NULL;
        _cleanup_(freep) char *valid = NULL, *crlf = NULL, *invalid = NULL;
        size_t lv, lc, li, n_errors = 0;
        char **errors = NULL;

        if (!ok(read_fixture("valid.txt", &valid, &lv) == 0 && read_fixture("crlf.txt", &crlf, &lc) == 0 &&
                        read_fixture("invalid.txt", &invalid, &li) == 0,
                "fixtures readable from %s", IMAGES_DATA_DIR))
                return;
        is_int(images_parse(valid, lv, "valid.txt", &l, &errors), 0, "valid.txt parses");
        is_int(l->n, 13, "valid.txt: 13 distinct images");
        ok(l->warnings && l->warnings[0] && l->warnings[1] && !l->warnings[2], "valid.txt: 2 duplicates");
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_(image_ref_done) struct image_ref again = {};
                is_int(image_ref_parse(l->entries[i].ref.normalized, &again, NULL), 0, "normalised form reparses");
                is_str(again.normalized, l->entries[i].ref.normalized, "normalisation is idempotent");
                ok(image_name_matches(l->entries[i].ref.normalized, &l->entries[i].ref), "matches itself");
        }
        is_str(l->entries[0].ref.normalized, "docker.io/library/nginx:latest", "valid.txt first");
        is_str(l->entries[12].ref.normalized, "a.b.c/d__e/f.g-h---i/j_k:Tag_With.Upper-Case", "valid.txt last");
        l = image_list_free(l);
        is_int(images_parse(crlf, lc, "crlf.txt", &l, NULL), 0, "crlf.txt parses");
        is_int(l->n, 2, "crlf.txt: 2 images");
        is_str(l->entries[1].ref.normalized, "docker.io/library/redis:7", "CR stripped");
        l = image_list_free(l);
        is_int(images_parse(invalid, li, "invalid.txt", &l, &errors), -EINVAL, "invalid.txt refused");
        for (char **e = errors; e && *e; e++, n_errors++) {
                char want[32];
                snprintf(want, sizeof(want), "invalid.txt:%zu: ", n_errors + 3);
                ok(startswith(*e, want), "error names line %zu: %s", n_errors + 3, *e);
        }
        is_int(n_errors, 12, "every invalid line reported");
        strv_free(errors);
}

int main(void) {
        test_fixtures();
        test_refs();
        test_ref_parts_and_lengths();
        test_file();
        test_file_ok();
        test_file_edge();
        test_container_names();
        test_matching();
        return tap_done();
}
