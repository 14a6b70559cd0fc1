/* harness.c - the event recorder and node helpers of harness.h. */
#include "harness.h"

int h_test_failed;

int64_t h_wait_ms(void) {
    static int64_t ms;
    if (ms == 0) {
        const char *env = getenv("P2P_TEST_WAIT_MS");
        ms = env && atoll(env) > 0 ? atoll(env) : 10000;
    }
    return ms;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* The entries of a discovery answer as one string, "id@host:port/in,...". */
static char *summarize_nodes(const p2p_discovered *nodes, size_t n) {
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += strlen(nodes[i].id) + strlen(nodes[i].host) + 24;
    char *s = malloc(cap);
    size_t off = 0;
    s[0] = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(s + off, cap - off, "%s%s@%s:%d/%s", i ? "," : "", nodes[i].id, nodes[i].host,
                                nodes[i].port, nodes[i].direction == P2P_INBOUND ? "in" : "out");
    return s;
}

void rec_init(recorder *r, size_t cap) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->cap = cap;
    r->ev = calloc(cap, sizeof *r->ev);
    r->answer = 1;
}

void rec_destroy(recorder *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->ev[i].peer_id);
        free(r->ev[i].peer_host);
        free(r->ev[i].host);
        free(r->ev[i].data);
        free(r->ev[i].sender_id);
        free(r->ev[i].msg_type);
        free(r->ev[i].reason);
        free(r->ev[i].nodes);
    }
    free(r->ev);
    r->ev = NULL;
    r->n = 0;
    pthread_mutex_destroy(&r->mu);
}

void rec_add(recorder *r, const p2p_event *ev) {
    rec_event e;
    memset(&e, 0, sizeof e);
    e.type = ev->type;
    e.kind = ev->kind;
    e.compression = ev->compression;
    e.direction = ev->direction;
    e.peer_port = ev->peer_port;
    e.port = ev->port;
    e.trials = ev->trials;
    e.reserved = ev->reserved;
    e.peer = ev->peer;
    e.node = ev->node;
    e.peer_id = dup_or_null(ev->peer_id);
    e.peer_host = dup_or_null(ev->peer_host);
    /* host is documented for RECONNECTION_ERROR only: do not read it elsewhere. */
    e.host = ev->type == P2P_EVENT_RECONNECTION_ERROR ? dup_or_null(ev->host) : NULL;
    e.data_len = ev->data_len;
    if (ev->data) {
        e.data = malloc(ev->data_len + 1);
        memcpy(e.data, ev->data, ev->data_len);
        e.data[ev->data_len] = 0;
    }
    e.thread = pthread_self();
    e.dropped = ev->dropped;
    e.dropped_bytes = ev->dropped_bytes;
    e.sender_id = dup_or_null(ev->sender_id);
    e.msg_type = dup_or_null(ev->msg_type);
    e.reason = dup_or_null(ev->reason);
    e.reject = ev->reject;
    e.reserved2 = ev->reserved2;
    e.n_nodes = ev->n_nodes;
    e.nodes = summarize_nodes(ev->nodes, ev->n_nodes);
    pthread_mutex_lock(&r->mu);
    if (r->n < r->cap) {
        r->ev[r->n++] = e;
        pthread_mutex_unlock(&r->mu);
        return;
    }
    r->overflow++;
    pthread_mutex_unlock(&r->mu);
    free(e.peer_id);
    free(e.peer_host);
    free(e.host);
    free(e.data);
    free(e.sender_id);
    free(e.msg_type);
    free(e.reason);
    free(e.nodes);
}

size_t rec_len(recorder *r) {
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t rec_count(recorder *r, int type) {
    size_t c = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        if (type == 0 || r->ev[i].type == type) c++;
    pthread_mutex_unlock(&r->mu);
    return c;
}

long rec_index(recorder *r, int type, size_t nth) {
    long found = -1;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        if (type == 0 || r->ev[i].type == type) {
            if (nth == 0) {
                found = (long)i;
                break;
            }
            nth--;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

const rec_event *rec_nth(recorder *r, int type, size_t nth) {
    long i = rec_index(r, type, nth);
    return i < 0 ? NULL : &r->ev[i];
}

size_t rec_count_msg(recorder *r, const void *data, size_t len) {
    size_t c = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        rec_event *e = &r->ev[i];
        if (e->type == P2P_EVENT_MESSAGE && e->data_len == len &&
            (len == 0 || memcmp(e->data, data, len) == 0))
            c++;
    }
    pthread_mutex_unlock(&r->mu);
    return c;
}

void rec_set_answer(recorder *r, int answer) {
    pthread_mutex_lock(&r->mu);
    r->answer = answer;
    pthread_mutex_unlock(&r->mu);
}

int rec_callback(void *user, const p2p_event *ev) {
    recorder *r = user;
    rec_add(r, ev);
    if (r->hook) r->hook(r, ev);
    pthread_mutex_lock(&r->mu);
    int answer = r->answer;
    pthread_mutex_unlock(&r->mu);
    return answer;
}

int rec_pump(p2p_node *node, recorder *r, int timeout_ms) {
    p2p_event evs[64];
    size_t n = 0;
    int rc = p2p_node_poll(node, evs, 64, timeout_ms, &n);
    for (size_t i = 0; i < n; i++) {
        rec_add(r, &evs[i]);
        if (r->hook) r->hook(r, &evs[i]);
        if (evs[i].type == P2P_EVENT_RECONNECTION_ERROR) {
            pthread_mutex_lock(&r->mu);
            int answer = r->answer;
            pthread_mutex_unlock(&r->mu);
            p2p_node_reply(node, answer);
        }
    }
    return rc;
}

p2p_node *mk_node(recorder *r, const char *id) {
    p2p_node *n = NULL;
    if (p2p_node_new("127.0.0.1", 0, id, 0, &n) != P2P_OK) {
        fprintf(stderr, "    mk_node: %s\n", p2p_errmsg());
        return NULL;
    }
    if (r) p2p_node_set_callback(n, rec_callback, r);
    return n;
}

int node_port(p2p_node *n) {
    int port = -1;
    p2p_node_port(n, &port);
    return port;
}

size_t peer_count(p2p_node *n, int direction) {
    size_t count = 0;
    int rc = h_node_peers(n, direction, NULL, 0, &count);
    if (rc != P2P_OK && rc != P2P_ERANGE) return (size_t)-1;
    return count;
}

/* ---- Results into test buffers ------------------------------------------ */

/* h_copy copies l bytes of src into buf[0..cap) as h_buf_take does. */
static int h_copy(const void *src, size_t l, void *buf, size_t cap, size_t *len, int nul) {
    if (buf == NULL) cap = 0;
    if (len != NULL) *len = l;
    size_t need = l + (nul ? 1 : 0);
    size_t n = need <= cap ? l : (cap > 0 && nul ? cap - 1 : cap);
    if (n > 0) memcpy(buf, src, n);
    if (nul && cap > 0) ((char *)buf)[n] = 0;
    return need > cap ? P2P_ERANGE : P2P_OK;
}

int h_buf_take(int rc, p2p_buf *b, void *buf, size_t cap, size_t *len, int nul) {
    if (rc == P2P_OK) {
        rc = h_copy(b->data, b->len, buf, cap, len, nul);
    } else if (len != NULL) {
        *len = 0;
    }
    p2p_buf_free(b);
    return rc;
}

#define H_TAKE(call, buf, cap, len, nul)                    \
    do {                                                    \
        p2p_buf b_ = {NULL, 0};                             \
        int rc_ = (call);                                   \
        return h_buf_take(rc_, &b_, (buf), (cap), (len), (nul)); \
    } while (0)

int h_node_id(p2p_node *n, char *buf, size_t cap) { H_TAKE(p2p_node_id_buf(n, &b_), buf, cap, NULL, 1); }
int h_node_host(p2p_node *n, char *buf, size_t cap) { H_TAKE(p2p_node_host_buf(n, &b_), buf, cap, NULL, 1); }

int h_node_peers(p2p_node *n, int direction, uint64_t *peers, size_t cap, size_t *count) {
    p2p_buf b = {NULL, 0};
    int rc = p2p_node_peers_buf(n, direction, &b);
    size_t k = 0;
    rc = h_buf_take(rc, &b, peers, cap * sizeof *peers, &k, 0);
    if (count != NULL) *count = k / sizeof *peers;
    return rc;
}

static int h_peer_fact(p2p_node *n, uint64_t peer, int host, char *buf, size_t cap) {
    p2p_peer f;
    P2P_INIT(&f);
    int rc = p2p_peer_facts(n, peer, &f);
    if (rc != P2P_OK) return rc;
    rc = host ? h_copy(f.host, f.host_len, buf, cap, NULL, 1) : h_copy(f.id, f.id_len, buf, cap, NULL, 1);
    p2p_buf_free(&f.mem);
    return rc;
}

int h_peer_id(p2p_node *n, uint64_t peer, char *buf, size_t cap) { return h_peer_fact(n, peer, 0, buf, cap); }
int h_peer_host(p2p_node *n, uint64_t peer, char *buf, size_t cap) { return h_peer_fact(n, peer, 1, buf, cap); }

int h_peer_get_info(p2p_node *n, uint64_t peer, const char *key, void *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_peer_get_info_buf(n, peer, key, &b_), buf, cap, len, 0);
}
int h_secure_public_key(p2p_node *n, char *buf, size_t cap) { H_TAKE(p2p_secure_public_key_buf(n, &b_), buf, cap, NULL, 1); }
int h_secure_private_key(p2p_node *n, char *buf, size_t cap) {
    H_TAKE(p2p_secure_private_key_buf(n, &b_), buf, cap, NULL, 1);
}
int h_secure_pinned_key(p2p_node *n, const char *id, char *buf, size_t cap) {
    H_TAKE(p2p_secure_pinned_key_buf(n, id, &b_), buf, cap, NULL, 1);
}
int h_secure_create_message(p2p_node *n, const char *json, size_t jlen, char *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_create_message_buf(n, json, jlen, &b_), buf, cap, len, 0);
}
int h_secure_canonical(const char *json, size_t jlen, char *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_canonical_buf(json, jlen, &b_), buf, cap, len, 0);
}
int h_secure_sign(p2p_node *n, const char *text, size_t tlen, char *buf, size_t cap) {
    H_TAKE(p2p_secure_sign_buf(n, text, tlen, &b_), buf, cap, NULL, 1);
}
int h_secure_encrypt(const char *pem, const void *data, size_t dlen, char *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_encrypt_buf(pem, data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_decrypt(p2p_node *n, const char *text, size_t tlen, void *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_decrypt_buf(n, text, tlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_pad(const void *data, size_t dlen, void *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_aes_pad_buf(data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_encrypt(const void *key, size_t klen, const void *data, size_t dlen, void *buf, size_t cap,
                         size_t *len) {
    H_TAKE(p2p_secure_aes_encrypt_buf(key, klen, data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_decrypt(const void *key, size_t klen, const void *data, size_t dlen, void *buf, size_t cap,
                         size_t *len) {
    H_TAKE(p2p_secure_aes_decrypt_buf(key, klen, data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_encrypt_pw(const void *pw, size_t pwlen, const void *data, size_t dlen, void *buf, size_t cap,
                            size_t *len) {
    H_TAKE(p2p_secure_aes_encrypt_pw_buf(pw, pwlen, data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_decrypt_pw(const void *pw, size_t pwlen, const void *data, size_t dlen, void *buf, size_t cap,
                            size_t *len) {
    H_TAKE(p2p_secure_aes_decrypt_pw_buf(pw, pwlen, data, dlen, &b_), buf, cap, len, 0);
}
int h_secure_aes_decrypt_file(const char *path, const void *key, size_t klen, void *buf, size_t cap, size_t *len) {
    H_TAKE(p2p_secure_aes_decrypt_file_buf(path, key, klen, &b_), buf, cap, len, 0);
}
int h_secure_aes_decrypt_file_pw(const char *path, const void *pw, size_t pwlen, void *buf, size_t cap,
                                 size_t *len) {
    H_TAKE(p2p_secure_aes_decrypt_file_pw_buf(path, pw, pwlen, &b_), buf, cap, len, 0);
}
