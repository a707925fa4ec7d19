/* SPDX-License-Identifier: MIT */
/* libcurl behind a small request API: one multi handle keeps connections alive (and
 * multiplexes HTTP/2 streams), a token bucket paces every attempt, failed attempts are
 * retried by policy. Every request, even a single one, runs through the same multi loop. */
#define _GNU_SOURCE 1

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "http.h"
#include "macro.h"

#define ERROR_BODY_MAX (256u * 1024u)
#define BUFFERED_BODY_MAX (64u * 1024u * 1024u)

struct http_client {
        struct http_options o;
        char *base_url; /* with tls_server_name in place of the host when set */
        char *ca_pem;
        char *tls_server_name;
        char *proxy;
        char *user_agent;
        struct curl_slist *connect_to;
        CURLM *multi;
        CURLSH *share;
        struct token_bucket bucket;
        struct http_counter *counters;
        size_t n_counters;
        uint64_t retries;
        uint64_t rnd;
};

enum transfer_state { T_PENDING, T_RUNNING, T_DONE };

struct transfer {
        struct http_client *c;
        const struct http_request *req;
        struct http_response *resp;
        CURL *easy;
        struct curl_slist *headers;
        char *url;
        enum transfer_state state;
        unsigned attempt;
        int64_t start_us;
        int64_t go_at_us; /* not before; token already taken when has_token */
        bool has_token;
        size_t cap;
        int cb_error;
        char errbuf[CURL_ERROR_SIZE];
};

static int64_t now_us(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t client_random(struct http_client *c) {
        /* xorshift64*: jitter only, nothing secret depends on it. */
        c->rnd ^= c->rnd >> 12;
        c->rnd ^= c->rnd << 25;
        c->rnd ^= c->rnd >> 27;
        return (uint32_t) ((c->rnd * 2685821657736338717ULL) >> 32);
}

_printf_(3, 4) static void client_log(struct http_client *c, int prio, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        if (!c->o.log)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        c->o.log(c->o.log_userdata, prio, "%s", buf);
}

void http_options_init(struct http_options *o) {
        *o = (struct http_options) {
                .connect_timeout_ms = 10000,
                .request_timeout_ms = 60000,
                .max_attempts = 5,
                .deadline_ms = 120000,
                .retry_after_max_ms = 10000,
                .backoff_base_ms = 250,
                .backoff_max_ms = 8000,
                .qps = 20,
                .burst = 40,
                .max_in_flight = 8,
        };
}

void http_response_done(struct http_response *r) {
        if (!r)
                return;
        free(r->body);
        free(r->content_type);
        free(r->error_text);
        for (size_t i = 0; i < HTTP_WANT_HEADERS_MAX; i++)
                free(r->headers[i]);
        *r = (struct http_response) { .retry_after_s = -1 };
}

static int dup_mem(char **ret, const char *s, size_t len) {
        char *p;

        if (!s) {
                *ret = NULL;
                return 0;
        }
        p = malloc(len + 1);
        if (!p)
                return -ENOMEM;
        memcpy(p, s, len);
        p[len] = 0;
        *ret = p;
        return 0;
}

/* With tls_server_name the URL names that host (so SNI and certificate verification use
 * it) and CURLOPT_CONNECT_TO sends the connection to the real host and port. */
static int client_setup_url(struct http_client *c, char **ret_cause) {
        CURLU *u = curl_url();
        char *host = NULL, *port = NULL, *url = NULL;
        int r = -EINVAL;

        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, c->o.base_url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
                /* asprintf() leaves the pointer undefined on failure */
                if (ret_cause && asprintf(ret_cause, "invalid server URL '%s'", c->o.base_url) < 0)
                        *ret_cause = NULL;
                goto finish;
        }
        if (c->tls_server_name) {
                _cleanup_(freep) char *map = NULL;

                if (asprintf(&map, "%s:%s:%s:%s", c->tls_server_name, port, host, port) < 0 ||
                    !(c->connect_to = curl_slist_append(NULL, map)) ||
                    curl_url_set(u, CURLUPART_HOST, c->tls_server_name, 0) != CURLUE_OK) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        if (curl_url_set(u, CURLUPART_PATH, NULL, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
                r = -ENOMEM;
                goto finish;
        }
        /* Requests append absolute paths: drop the "/" libcurl leaves. */
        if (url[0] && url[strlen(url) - 1] == '/')
                url[strlen(url) - 1] = 0;
        c->base_url = strdup(url);
        r = c->base_url ? 0 : -ENOMEM;
finish:
        curl_free(host);
        curl_free(port);
        curl_free(url);
        curl_url_cleanup(u);
        return r;
}

int http_client_new(const struct http_options *o, struct http_client **ret, char **ret_cause) {
        _cleanup_(http_client_freep) struct http_client *c = NULL;
        int r;

        if (!o->base_url)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->o = *o;
        if (dup_mem(&c->ca_pem, o->ca_pem, o->ca_len) < 0 ||
            dup_mem(&c->tls_server_name, o->tls_server_name, strlen(strempty(o->tls_server_name))) < 0 ||
            dup_mem(&c->proxy, o->proxy, strlen(strempty(o->proxy))) < 0)
                return -ENOMEM;
        if (o->user_agent)
                c->user_agent = strdup(o->user_agent);
        else if (asprintf(&c->user_agent, "clyde-seed/%s", PACKAGE_VERSION) < 0)
                c->user_agent = NULL;
        if (!c->user_agent)
                return -ENOMEM;
        c->o.base_url = o->base_url;
        r = client_setup_url(c, ret_cause);
        if (r < 0)
                return r;
        c->o.base_url = NULL; /* borrowed from the caller: not kept */

        c->multi = curl_multi_init();
        c->share = curl_share_init();
        if (!c->multi || !c->share)
                return -ENOMEM;
        (void) curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        if (c->o.max_in_flight == 0)
                c->o.max_in_flight = 1;
        if (c->o.max_attempts == 0)
                c->o.max_attempts = 1;
        c->rnd = (uint64_t) now_us() ^ ((uint64_t) getpid() << 32) ^ (uintptr_t) c;
        if (c->rnd == 0)
                c->rnd = 1;
        token_bucket_init(&c->bucket, o->qps, o->burst, now_us());
        *ret = TAKE_PTR(c);
        return 0;
}

struct http_client *http_client_free(struct http_client *c) {
        if (!c)
                return NULL;
        if (c->multi)
                (void) curl_multi_cleanup(c->multi);
        if (c->share)
                (void) curl_share_cleanup(c->share);
        curl_slist_free_all(c->connect_to);
        free(c->base_url);
        free(c->ca_pem);
        free(c->tls_server_name);
        free(c->proxy);
        free(c->user_agent);
        free(c->counters);
        free(c);
        return NULL;
}

size_t http_client_counters(const struct http_client *c, const struct http_counter **ret) {
        *ret = c->counters;
        return c->n_counters;
}

uint64_t http_client_retries(const struct http_client *c) {
        return c->retries;
}

static void count(struct http_client *c, const char *verb, long status) {
        struct http_counter *n;

        for (size_t i = 0; i < c->n_counters; i++)
                if (c->counters[i].status == status && streq(c->counters[i].verb, verb)) {
                        c->counters[i].count++;
                        return;
                }
        n = realloc(c->counters, (c->n_counters + 1) * sizeof(*n));
        if (!n)
                return; /* counters are best effort */
        c->counters = n;
        n = &c->counters[c->n_counters++];
        *n = (struct http_counter) { .status = status, .count = 1 };
        (void) snprintf(n->verb, sizeof(n->verb), "%s", verb);
}

/* ---- one transfer ---- */

static bool response_is_2xx(struct transfer *t) {
        long code = 0;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        return code >= 200 && code < 300;
}

static int buffer_append(struct transfer *t, const char *data, size_t len, size_t max) {
        struct http_response *r = t->resp;

        if (r->body_len + len > max)
                return -EFBIG;
        if (r->body_len + len + 1 > t->cap) {
                size_t cap = MAX(t->cap * 2, r->body_len + len + 1);
                char *p = realloc(r->body, MAX(cap, (size_t) 4096));

                if (!p)
                        return -ENOMEM;
                r->body = p;
                t->cap = MAX(cap, (size_t) 4096);
        }
        memcpy(r->body + r->body_len, data, len);
        r->body_len += len;
        r->body[r->body_len] = 0;
        return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t len = size * nmemb;
        int r;

        bool ok2 = response_is_2xx(t);

        if (ok2 && t->req->on_data) {
                t->resp->streamed = true;
                r = t->req->on_data(data, len, t->req->userdata);
        } else if (ok2)
                r = buffer_append(t, data, len, BUFFERED_BODY_MAX);
        else {
                /* An error body: keep its start, drop the rest. */
                size_t room = ERROR_BODY_MAX - MIN(t->resp->body_len, (size_t) ERROR_BODY_MAX);

                r = buffer_append(t, data, MIN(len, room), ERROR_BODY_MAX);
        }
        if (r < 0) {
                t->cb_error = r;
                return 0; /* aborts with CURLE_WRITE_ERROR */
        }
        return len;
}

static char *header_value(const char *line, size_t len, const char *name) {
        size_t n = strlen(name);
        const char *v, *end = line + len;

        if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
                return NULL;
        for (v = line + n + 1; v < end && (*v == ' ' || *v == '\t'); v++)
                ;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        return strndup(v, (size_t) (end - v));
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t len = size * nmemb;
        _cleanup_(freep) char *v = NULL;

        /* A new status line (after 100 Continue, say) starts a new set of headers. */
        if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
                t->resp->retry_after_s = -1;
                for (size_t i = 0; i < HTTP_WANT_HEADERS_MAX; i++) {
                        free(t->resp->headers[i]);
                        t->resp->headers[i] = NULL;
                }
        }
        v = header_value(line, len, "Retry-After");
        if (v && http_parse_retry_after(v, &t->resp->retry_after_s) < 0)
                t->resp->retry_after_s = -1;
        for (size_t i = 0; t->req->want_headers && i < HTTP_WANT_HEADERS_MAX && t->req->want_headers[i]; i++)
                if (!t->resp->headers[i])
                        t->resp->headers[i] = header_value(line, len, t->req->want_headers[i]);
        return len;
}

static int transfer_headers(struct transfer *t) {
        const struct http_request *q = t->req;
        _cleanup_(freep) char *accept = NULL, *ctype = NULL, *auth = NULL;
        struct curl_slist *l = NULL, *n;

        if (asprintf(&accept, "Accept: %s", q->accept ?: "application/json") < 0)
                return -ENOMEM;
        if (q->content_type && asprintf(&ctype, "Content-Type: %s", q->content_type) < 0)
                return -ENOMEM;
        if (q->bearer_token && asprintf(&auth, "Authorization: Bearer %s", q->bearer_token) < 0)
                return -ENOMEM;
        const char *lines[] = { accept, ctype, auth, q->body ? NULL : "Expect:" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                if (!lines[i])
                        continue;
                n = curl_slist_append(l, lines[i]);
                if (!n) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = n;
        }
        if (auth)
                explicit_bzero(auth, strlen(auth));
        t->headers = l;
        return 0;
}

static void set_blob(CURL *e, CURLoption opt, const char *data, size_t len) {
        struct curl_blob b = { .data = (void *) data, .len = len, .flags = CURL_BLOB_COPY };

        (void) curl_easy_setopt(e, opt, &b);
}

static void transfer_tls(struct transfer *t) {
        struct http_client *c = t->c;
        CURL *e = t->easy;

        if (c->ca_pem)
                set_blob(e, CURLOPT_CAINFO_BLOB, c->ca_pem, c->o.ca_len);
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->o.insecure ? 0L : 1L);
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->o.insecure ? 0L : 2L);
        if (t->req->cert_pem) {
                set_blob(e, CURLOPT_SSLCERT_BLOB, t->req->cert_pem, t->req->cert_len);
                (void) curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (t->req->key_pem) {
                set_blob(e, CURLOPT_SSLKEY_BLOB, t->req->key_pem, t->req->key_len);
                (void) curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
        }
        if (c->connect_to)
                (void) curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
}

static long transfer_timeout(const struct transfer *t) {
        if (t->req->timeout_ms < 0)
                return 0;
        return t->req->timeout_ms > 0 ? t->req->timeout_ms : t->c->o.request_timeout_ms;
}

static int transfer_setup(struct transfer *t) {
        struct http_client *c = t->c;
        const struct http_request *q = t->req;
        CURL *e;
        int r;

        if (asprintf(&t->url, "%s%s", c->base_url, q->path) < 0)
                return -ENOMEM;
        e = t->easy = curl_easy_init();
        if (!e)
                return -ENOMEM;
        r = transfer_headers(t);
        if (r < 0)
                return r;
        (void) curl_easy_setopt(e, CURLOPT_URL, t->url);
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(e, CURLOPT_SHARE, c->share);
        (void) curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                                (long) (c->o.disable_http2 ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS));
        (void) curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
        (void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
        (void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, transfer_timeout(t));
        if (!c->o.disable_compression)
                (void) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        if (c->proxy)
                (void) curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
        if (q->username) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(e, CURLOPT_USERNAME, q->username);
                (void) curl_easy_setopt(e, CURLOPT_PASSWORD, strempty(q->password));
        }
        transfer_tls(t);
        if (streq(q->method, "HEAD"))
                (void) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        else if (!streq(q->method, "GET"))
                (void) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
        if (q->follow_redirects) {
                (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
                (void) curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
                (void) curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        }
        if (q->body) {
                (void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) q->body_len);
                (void) curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body);
        }
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
        (void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        (void) curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
        (void) curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
        (void) curl_easy_setopt(e, CURLOPT_PRIVATE, t);
        return 0;
}

static void transfer_done(struct transfer *t) {
        if (t->easy)
                curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->url);
}

/* ---- outcome of an attempt ---- */

/* Whether a failed attempt cannot have reached the server. */
static bool curl_nothing_sent(CURLcode cc) {
        switch (cc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return true;
        default:
                return false;
        }
}

static int curl_to_errno(CURL *e, CURLcode cc) {
        long os = 0;

        switch (cc) {
        case CURLE_OK:
                return 0;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                (void) curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os);
                if (os == EHOSTUNREACH || os == ENETUNREACH || os == ETIMEDOUT)
                        return -EHOSTUNREACH;
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return -EPROTO;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
                return -ECONNRESET;
        default:
                return -EIO;
        }
}

/* A transport failure worth another attempt, given the policy. */
static bool transport_retryable(const struct transfer *t, CURLcode cc, int err) {
        if (t->resp->streamed || t->cb_error != 0 || err == -EPROTO || err == -EINVAL ||
            err == -ENOMEM)
                return false;
        switch (t->req->retry) {
        case HTTP_RETRY_IDEMPOTENT:
                return true;
        case HTTP_RETRY_UNSAFE:
                return curl_nothing_sent(cc);
        default:
                return false;
        }
}

static void attempt_reset(struct transfer *t) {
        struct http_response *r = t->resp;

        r->status = 0;
        r->body_len = 0;
        if (r->body)
                r->body[0] = 0;
        r->retry_after_s = -1;
        r->error = 0;
        r->maybe_sent = false;
        free(r->content_type);
        r->content_type = NULL;
        free(r->error_text);
        r->error_text = NULL;
        for (size_t i = 0; i < HTTP_WANT_HEADERS_MAX; i++) {
                free(r->headers[i]);
                r->headers[i] = NULL;
        }
        t->errbuf[0] = 0;
}

/* Debug: the protocol an attempt used and whether it opened a connection, so a log shows
 * that requests share one multiplexed HTTP/2 connection (or fall back to HTTP/1.1). */
static void log_protocol(struct transfer *t) {
        long version = 0, connects = 0;

        (void) curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
        (void) curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
        client_log(t->c, LOG_DEBUG, "%s %s: %s%s", t->req->method, t->req->path,
                   version == CURL_HTTP_VERSION_2_0 ? "HTTP/2" :
                   version == CURL_HTTP_VERSION_1_1 ? "HTTP/1.1" :
                   version == CURL_HTTP_VERSION_1_0 ? "HTTP/1.0" : "no response",
                   connects > 0 ? ", new connection" : "");
}

/* Records the outcome of an attempt; returns true when another attempt should follow,
 * with t->go_at_us set. */
static bool attempt_finish(struct transfer *t, CURLcode cc) {
        struct http_client *c = t->c;
        struct http_response *r = t->resp;
        const char *ct = NULL;
        bool retry;
        long delay;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
        if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
                r->content_type = strdup(ct);
        log_protocol(t);
        if (cc != CURLE_OK) {
                r->error = t->cb_error ?: curl_to_errno(t->easy, cc);
                r->maybe_sent = !curl_nothing_sent(cc);
                r->status = t->cb_error ? r->status : 0;
                if (asprintf(&r->error_text, "%s %s: %s", t->req->method, t->req->path,
                             t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc)) < 0)
                        r->error_text = NULL;
                retry = transport_retryable(t, cc, r->error);
        } else
                retry = !r->streamed && http_status_retryable(r->status, r->retry_after_s, t->req->retry);
        count(c, t->req->method, r->status);

        if (!retry || t->attempt >= c->o.max_attempts)
                return false;
        delay = http_retry_delay_ms(r->retry_after_s, c->o.retry_after_max_ms, t->attempt,
                                    c->o.backoff_base_ms, c->o.backoff_max_ms, client_random(c));
        if (c->o.deadline_ms > 0 && now_us() + delay * 1000 > t->start_us + c->o.deadline_ms * 1000)
                return false;
        if (cc != CURLE_OK)
                client_log(c, LOG_INFO, "%s %s: %s, retrying in %ld ms (attempt %u of %u)",
                           t->req->method, t->req->path,
                           t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc), delay,
                           t->attempt + 1, c->o.max_attempts);
        else
                client_log(c, LOG_INFO, "%s %s: HTTP %ld%s, retrying in %ld ms (attempt %u of %u)",
                           t->req->method, t->req->path, r->status,
                           r->retry_after_s >= 0 ? " with Retry-After" : "", delay,
                           t->attempt + 1, c->o.max_attempts);
        c->retries++;
        t->go_at_us = now_us() + delay * 1000;
        return true;
}

/* ---- the loop ---- */

struct run {
        struct http_client *c;
        struct transfer *ts;
        size_t n, done, running;
};

static int transfer_start(struct run *run, struct transfer *t) {
        struct http_client *c = run->c;
        int64_t now = now_us(), wait;

        if (!t->has_token) {
                wait = token_bucket_take(&c->bucket, now);
                t->has_token = true;
                if (wait > 0) {
                        t->go_at_us = now + wait;
                        return 0;
                }
        }
        t->has_token = false;
        t->attempt++;
        attempt_reset(t);
        if (t->attempt == 1)
                t->start_us = now;
        if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
                return -ENOMEM;
        t->state = T_RUNNING;
        run->running++;
        return 0;
}

static int start_due(struct run *run) {
        int64_t now = now_us();
        int r;

        for (size_t i = 0; i < run->n && run->running < run->c->o.max_in_flight; i++) {
                struct transfer *t = &run->ts[i];

                if (t->state != T_PENDING || t->go_at_us > now)
                        continue;
                r = transfer_start(run, t);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void collect(struct run *run) {
        struct CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(run->c->multi, &left))) {
                struct transfer *t = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                (void) curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                (void) curl_multi_remove_handle(run->c->multi, t->easy);
                run->running--;
                if (attempt_finish(t, m->data.result))
                        t->state = T_PENDING;
                else {
                        t->state = T_DONE;
                        run->done++;
                }
        }
}

/* How long to sleep in poll: until the next pending transfer is due, at most 1 s. */
static int poll_timeout_ms(const struct run *run) {
        int64_t now = now_us(), best = 1000;

        for (size_t i = 0; i < run->n; i++) {
                const struct transfer *t = &run->ts[i];

                if (t->state == T_PENDING && (run->running < run->c->o.max_in_flight))
                        best = MIN(best, MAX((t->go_at_us - now + 999) / 1000, (int64_t) 0));
        }
        return (int) best;
}

static int run_loop(struct run *run) {
        int still, r;

        while (run->done < run->n) {
                r = start_due(run);
                if (r < 0)
                        return r;
                if (curl_multi_perform(run->c->multi, &still) != CURLM_OK)
                        return -ENOMEM;
                collect(run);
                if (run->done == run->n)
                        break;
                if (curl_multi_poll(run->c->multi, NULL, 0, poll_timeout_ms(run), NULL) != CURLM_OK)
                        return -EIO;
        }
        return 0;
}

int http_request_many(struct http_client *c, const struct http_request *reqs,
                      struct http_response *resps, size_t n) {
        _cleanup_(freep) struct transfer *ts = NULL;
        struct run run = { .c = c, .n = n };
        int r = 0;

        if (n == 0)
                return 0;
        ts = calloc(n, sizeof(*ts));
        if (!ts)
                return -ENOMEM;
        run.ts = ts;
        for (size_t i = 0; i < n && r >= 0; i++) {
                ts[i] = (struct transfer) { .c = c, .req = &reqs[i], .resp = &resps[i] };
                resps[i] = (struct http_response) { .retry_after_s = -1 };
                r = transfer_setup(&ts[i]);
        }
        if (r >= 0)
                r = run_loop(&run);
        for (size_t i = 0; i < n; i++) {
                if (ts[i].state == T_RUNNING)
                        (void) curl_multi_remove_handle(c->multi, ts[i].easy);
                resps[i].attempts = ts[i].attempt;
                transfer_done(&ts[i]);
        }
        return r;
}

int http_request(struct http_client *c, const struct http_request *req,
                 struct http_response *resp) {
        int r;

        r = http_request_many(c, req, resp, 1);
        if (r < 0)
                return r;
        return resp->error;
}
