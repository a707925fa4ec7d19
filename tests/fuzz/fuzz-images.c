/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the images file, image references, label selectors and
 * tolerations. Beyond "no crash", it checks invariants and aborts when one breaks:
 * a normalised reference parses again to itself, matches itself as a kubelet name,
 * and every assigned container name is a unique DNS-1123 label that is not reserved. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "labelsel.h"
#include "macro.h"
#include "toleration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct image_entry *e) {
        struct image_ref again = {};

        if (image_ref_parse(e->ref.normalized, &again, NULL) < 0 || !streq(again.normalized, e->ref.normalized))
                abort();
        if (!image_name_matches(e->ref.normalized, &e->ref))
                abort();
        image_ref_done(&again);
}

static void check_names(const struct image_list *l) {
        const char **refs = calloc(l->n + 1, sizeof(char *));
        char **names = NULL;

        if (!refs)
                return;
        for (size_t i = 0; i < l->n; i++)
                refs[i] = l->entries[i].ref.normalized;
        if (images_container_names(refs, l->n, &names) == 0) {
                for (size_t i = 0; i < l->n; i++) {
                        if (!dns_label_valid(names[i]) || streq(names[i], IMAGES_RESERVED_NAME))
                                abort();
                        for (size_t j = 0; j < i; j++)
                                if (streq(names[i], names[j]))
                                        abort();
                }
                strv_free(names);
        }
        free(refs);
}

static void fuzz_strings(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, MIN(size, (size_t) 4096));
        struct labelsel *sel = NULL;
        struct toleration t = {};
        char *why = NULL, *str = NULL;

        if (!s)
                return;
        if (labelsel_parse(s, &sel, &why) == 0) {
                /* The canonical form parses back to the same canonical form. */
                struct labelsel *sel2 = NULL;
                char *str2 = NULL;
                if (labelsel_to_string(sel, &str) == 0 && labelsel_parse(str, &sel2, NULL) == 0 &&
                    labelsel_to_string(sel2, &str2) == 0 && !streq(str, str2))
                        abort();
                free(str2);
                labelsel_free(sel2);
        }
        free(why);
        why = NULL;
        (void) toleration_parse(s, &t, &why);
        toleration_done(&t);
        free(why);
        free(str);
        labelsel_free(sel);
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct image_list *l = NULL;
        char **errors = NULL;

        if (images_parse((const char *) data, size, "fuzz", &l, &errors) == 0) {
                for (size_t i = 0; i < l->n; i++)
                        check_entry(&l->entries[i]);
                check_names(l);
                image_list_free(l);
        } else
                strv_free(errors);
        fuzz_strings(data, size);
        return 0;
}
