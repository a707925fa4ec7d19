/* SPDX-License-Identifier: MIT */
/* Label selectors, label key/value validation, and tolerations. */
#include <errno.h>
#include <stdlib.h>

#include "labelsel.h"
#include "macro.h"
#include "tap.h"
#include "toleration.h"

static void test_keys_values(void) {
        static const struct {
                const char *key;
                bool valid;
        } keys[] = {
                { "app", true },
                { "clyde.io/seeder", true },
                { "a", true },
                { "A_b.c-D", true },
                { "example.com/a", true },
                { "kubernetes.io/os", true },
                { "", false },
                { "/a", false },
                { "a/", false },
                { "-a", false },
                { "a-", false },
                { "a b", false },
                { "Example.com/a", false },
                { "ex_ample.com/a", false },
                { "a/b/c", false },
                { "123456789012345678901234567890123456789012345678901234567890123", true },
                { "1234567890123456789012345678901234567890123456789012345678901234", false },
        };
        _cleanup_(freep) char *why = NULL;
        char *k = NULL, *v = NULL;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                is_int(label_key_validate(keys[i].key, NULL), keys[i].valid ? 0 : -EINVAL, "key '%s'",
                       keys[i].key);
        is_int(label_value_validate("", NULL), 0, "empty value is valid");
        is_int(label_value_validate("true", NULL), 0, "value true");
        is_int(label_value_validate("a.b_c-d", NULL), 0, "value with punctuation");
        is_int(label_value_validate("-x", NULL), -EINVAL, "value starting with '-'");
        is_int(label_value_validate("x/y", NULL), -EINVAL, "value with '/'");
        is_int(label_value_validate("1234567890123456789012345678901234567890123456789012345678901234", &why),
               -EINVAL, "value of 64 characters");
        ok(why && strstr(why, "63"), "cause mentions the limit: %s", strempty(why));

        is_int(label_pair_parse("clyde.io/seeder=true", &k, &v, NULL), 0, "pair parses");
        is_str(k, "clyde.io/seeder", "pair key");
        is_str(v, "true", "pair value");
        free(k);
        free(v);
        is_int(label_pair_parse("seeder=", &k, &v, NULL), 0, "pair with empty value");
        is_str(v, "", "empty value kept");
        free(k);
        free(v);
        is_int(label_pair_parse("seeder", &k, &v, &why), -EINVAL, "pair without '='");
        ok(strstr(why, "key=value"), "cause says key=value: %s", why);
        is_int(label_pair_parse("a=b=c", &k, &v, NULL), -EINVAL, "pair with two '='");
        is_int(label_pair_parse("=b", &k, &v, NULL), -EINVAL, "pair with empty key");
        is_int(label_pair_parse("a=b c", &k, &v, NULL), -EINVAL, "pair with space in value");

        ok(dns_label_valid("clyde-seed-1"), "dns label");
        ok(!dns_label_valid("Clyde"), "dns label uppercase");
        ok(!dns_label_valid("a.b"), "dns label with dot");
        ok(dns_subdomain_valid("a.b-c.d"), "dns subdomain");
        ok(!dns_subdomain_valid("a..b"), "dns subdomain empty label");
}

static const char *const labels[] = {
        "app",        "web",   "tier", "frontend", "kubernetes.io/os", "linux",
        "empty",      "",      "num",  "7",
};

struct sel_case {
        const char *sel;
        int parse;   /* 0 or -EINVAL */
        bool match;  /* against `labels` */
        const char *canonical;
};

static const struct sel_case sel_cases[] = {
        { "", 0, true, "" },
        { "   ", 0, true, "" },
        { "app=web", 0, true, "app=web" },
        { "app==web", 0, true, "app=web" },
        { " app = web ", 0, true, "app=web" },
        { "app=db", 0, false, "app=db" },
        { "app!=db", 0, true, "app!=db" },
        { "app!=web", 0, false, "app!=web" },
        { "missing!=x", 0, true, "missing!=x" },
        { "app in (web,db)", 0, true, "app in (web,db)" },
        { "app in ( db , cache )", 0, false, "app in (db,cache)" },
        { "app notin (db)", 0, true, "app notin (db)" },
        { "app notin (web)", 0, false, "app notin (web)" },
        { "missing notin (x)", 0, true, "missing notin (x)" },
        { "missing in (x)", 0, false, "missing in (x)" },
        { "app", 0, true, "app" },
        { "missing", 0, false, "missing" },
        { "!missing", 0, true, "!missing" },
        { "! app", 0, false, "!app" },
        { "app=web,tier=frontend", 0, true, "app=web,tier=frontend" },
        { "app=web,tier=backend", 0, false, "app=web,tier=backend" },
        { "app,kubernetes.io/os=linux,!missing", 0, true, "app,kubernetes.io/os=linux,!missing" },
        { "empty=", 0, true, "empty=" },
        { "empty", 0, true, "empty" },
        { "app=", 0, false, "app=" },
        { "num>5", 0, true, "num>5" },
        { "num<5", 0, false, "num<5" },
        { "app>5", 0, false, "app>5" },
        { "num>x", -EINVAL, false, NULL },
        { "app=web,", -EINVAL, false, NULL },
        { ",app", -EINVAL, false, NULL },
        { "app in web", -EINVAL, false, NULL },
        { "app in (web", -EINVAL, false, NULL },
        { "app in ()", -EINVAL, false, NULL },
        { "app foo (x)", -EINVAL, false, NULL },
        { "app=web tier=x", -EINVAL, false, NULL },
        { "-bad=x", -EINVAL, false, NULL },
        { "app=-bad", -EINVAL, false, NULL },
        { "!app=web", -EINVAL, false, NULL },
        { "=web", -EINVAL, false, NULL },
        { "app=(web)", -EINVAL, false, NULL },
};

static void test_selectors(void) {
        for (size_t i = 0; i < ELEMENTSOF(sel_cases); i++) {
                const struct sel_case *c = &sel_cases[i];
                _cleanup_(labelsel_freep) struct labelsel *sel = NULL;
                _cleanup_(freep) char *why = NULL, *str = NULL;
                int r = labelsel_parse(c->sel, &sel, &why);

                is_int(r, c->parse, "parse '%s'", c->sel);
                if (r < 0) {
                        ok(why && *why, "'%s' has a cause: %s", c->sel, strempty(why));
                        continue;
                }
                is_int(labelsel_match_pairs(sel, labels, ELEMENTSOF(labels) / 2), c->match, "match '%s'",
                       c->sel);
                is_int(labelsel_to_string(sel, &str), 0, "format '%s'", c->sel);
                is_str(str, c->canonical, "canonical '%s'", c->sel);
        }
}

static const char *lookup_role(const char *key, void *userdata) {
        return streq(key, "role") ? userdata : NULL;
}

static void test_callback_and_messages(void) {
        _cleanup_(labelsel_freep) struct labelsel *sel = NULL;
        _cleanup_(freep) char *why = NULL;

        is_int(labelsel_parse("role in (seeder, cache)", &sel, NULL), 0, "parse for callback");
        ok(labelsel_match(sel, lookup_role, (void *) "cache"), "callback match");
        ok(!labelsel_match(sel, lookup_role, (void *) "web"), "callback mismatch");
        ok(!labelsel_match(sel, lookup_role, NULL), "callback absent");
        ok(labelsel_match(NULL, lookup_role, NULL), "NULL selector matches everything");

        is_int(labelsel_parse("app in web", &sel, &why), -EINVAL, "message for missing '('");
        is_str(why, "position 7: expected '(' after 'in'", "message names the position");
        is_int(labelsel_parse("Bad_/x=1", &sel, &why), -EINVAL, "bad key prefix");
        ok(strstr(why, "prefix"), "message explains the prefix: %s", why);
}

static void test_tolerations(void) {
        static const struct {
                const char *spec;
                int r;
                const char *key, *value, *effect;
                enum toleration_op op;
        } cases[] = {
                { "dedicated=seed:NoSchedule", 0, "dedicated", "seed", "NoSchedule", TOLERATION_EQUAL },
                { "dedicated=seed", 0, "dedicated", "seed", NULL, TOLERATION_EQUAL },
                { "gpu:NoExecute", 0, "gpu", NULL, "NoExecute", TOLERATION_EXISTS },
                { "example.com/gpu", 0, "example.com/gpu", NULL, NULL, TOLERATION_EXISTS },
                { "k=:PreferNoSchedule", 0, "k", "", "PreferNoSchedule", TOLERATION_EQUAL },
                { "*", 0, NULL, NULL, NULL, TOLERATION_EXISTS },
                { "*:NoSchedule", 0, NULL, NULL, "NoSchedule", TOLERATION_EXISTS },
                { ":NoSchedule", -EINVAL },
                { "*=x", -EINVAL },
                { "k:noschedule", -EINVAL },
                { "k:", -EINVAL },
                { "", -EINVAL },
                { "bad key", -EINVAL },
                { "k=bad value", -EINVAL },
                { "k=v:NoSchedule:x", -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(toleration_done) struct toleration t = {};
                _cleanup_(freep) char *why = NULL;
                int r = toleration_parse(cases[i].spec, &t, &why);

                is_int(r, cases[i].r, "toleration '%s'", cases[i].spec);
                if (r < 0) {
                        ok(why && strstr(why, "toleration"), "cause: %s", strempty(why));
                        continue;
                }
                is_str(t.key, cases[i].key, "'%s' key", cases[i].spec);
                is_str(t.value, cases[i].value, "'%s' value", cases[i].spec);
                is_str(t.effect, cases[i].effect, "'%s' effect", cases[i].spec);
                is_int(t.op, cases[i].op, "'%s' operator", cases[i].spec);
        }
}

static void test_taint_matching(void) {
        static const char *const specs[] = { "dedicated=seed:NoSchedule", "gpu", "*:NoExecute" };
        struct node_taint t_ded = { (char *) "dedicated", (char *) "seed", (char *) "NoSchedule" };
        struct node_taint t_ded_other = { (char *) "dedicated", (char *) "other", (char *) "NoSchedule" };
        struct node_taint t_ded_noexec = { (char *) "dedicated", (char *) "seed", (char *) "PreferNoSchedule" };
        struct node_taint t_gpu = { (char *) "gpu", NULL, (char *) "NoSchedule" };
        struct node_taint t_any_exec = { (char *) "whatever", (char *) "x", (char *) "NoExecute" };
        struct node_taint t_cp = { (char *) "node-role.kubernetes.io/control-plane", NULL, (char *) "NoSchedule" };
        struct node_taint t_pref = { (char *) "x", NULL, (char *) "PreferNoSchedule" };
        struct toleration *tols = NULL, all = { .op = TOLERATION_EXISTS };
        struct toleration empty_eq = { .key = (char *) "k", .op = TOLERATION_EQUAL };
        struct node_taint t_k_novalue = { (char *) "k", NULL, (char *) "NoSchedule" };
        struct node_taint two[] = { t_pref, t_cp };

        is_int(toleration_parse_many(specs, ELEMENTSOF(specs), &tols, NULL), 0, "parse many");
        ok(toleration_tolerates(tols, 3, &t_ded), "Equal with matching value and effect");
        ok(!toleration_tolerates(tols, 3, &t_ded_other), "Equal with another value");
        ok(!toleration_tolerates(tols, 3, &t_ded_noexec), "Equal with another effect");
        ok(toleration_tolerates(tols, 3, &t_gpu), "Exists without effect matches any effect");
        ok(toleration_tolerates(tols, 3, &t_any_exec), "empty key + effect matches every key");
        ok(!toleration_tolerates(tols, 3, &t_cp), "control-plane taint not covered");
        ok(toleration_tolerates(&all, 1, &t_cp), "'*' covers everything");
        ok(toleration_matches(&empty_eq, &t_k_novalue), "Equal with empty value matches a taint without value");
        ok(!taint_blocks_scheduling(&t_pref), "PreferNoSchedule does not block");
        ok(taint_blocks_scheduling(&t_any_exec), "NoExecute blocks");
        ok(toleration_first_untolerated(tols, 3, two, 2) == &two[1], "first untolerated is the control-plane taint");
        ok(toleration_first_untolerated(tols, 3, two, 1) == NULL, "PreferNoSchedule alone is fine");
        toleration_array_free(tols, 3);
}

int main(void) {
        test_keys_values();
        test_selectors();
        test_callback_and_messages();
        test_tolerations();
        test_taint_matching();
        return tap_done();
}
