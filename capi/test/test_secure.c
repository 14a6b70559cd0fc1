/*
 * test_secure.c - the secure node of the C ABI (p2p_secure_*): keys, signed
 * messages both ways, rejections with their codes, ping, discovery, key
 * pinning, and the misuse of each function. Part of test_capi (see the
 * table there); the wire format itself is tested against Python in
 * p2p/secure.
 *
 * Keys: RSA generation is slow (more so under valgrind), so four 2048-bit
 * keys are made once per process and saved as plain PEM files, which every
 * node then loads.
 */
#include "harness.h" /* first: it defines _GNU_SOURCE */

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure_tests.h"

/* ---- Keys shared by the tests ---------------------------------------------- */

#define N_KEYS 4
static char key_dir[64];
static char key_paths[N_KEYS][128];
static char key_pems[N_KEYS][1024];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_key_dir(void) {
    if (key_dir[0]) nftw(key_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* key_file returns the path of shared key i (made on first use), or NULL. */
static const char *key_file(int i) {
    if (key_paths[i][0]) return key_paths[i];
    if (!key_dir[0]) {
        strcpy(key_dir, "/tmp/p2pnode-keys-XXXXXX");
        if (!mkdtemp(key_dir)) return NULL;
        atexit(remove_key_dir);
    }
    p2p_node *n = NULL;
    if (p2p_secure_node_new("127.0.0.1", 0, NULL, 0, NULL, &n) != P2P_OK) return NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/key%d.pem", key_dir, i);
    int ok = p2p_secure_key_generate(n, 2048) == P2P_OK &&
             p2p_secure_key_save(n, path, NULL, P2P_KEY_FORMAT_P2PNODE) == P2P_OK &&
             h_secure_public_key(n, key_pems[i], sizeof key_pems[i]) == P2P_OK;
    p2p_node_free(n);
    if (!ok) return NULL;
    strcpy(key_paths[i], path);
    return key_paths[i];
}

/* ---- Secure sides ---------------------------------------------------------- */

typedef struct snode {
    p2p_node *n;
    recorder r;
    int poll;
    char id[P2P_MAX_ID_LEN + 1];
    int port;
} snode;

/* snode_up makes a started secure node with shared key `key` (callback mode
 * unless poll). cfg may be NULL. */
static int snode_up(snode *s, int poll, int key, const p2p_secure_config *cfg) {
    memset(s, 0, sizeof *s);
    rec_init(&s->r, 4096);
    s->poll = poll;
    const char *path = key_file(key);
    if (!path) return -1;
    if (p2p_secure_node_new("127.0.0.1", 0, NULL, 0, cfg, &s->n) != P2P_OK) return -2;
    if (!poll) p2p_node_set_callback(s->n, rec_callback, &s->r);
    if (p2p_secure_key_load(s->n, path, NULL) != P2P_OK) return -3;
    h_node_id(s->n, s->id, sizeof s->id);
    s->port = node_port(s->n);
    return p2p_node_start(s->n);
}

static void snode_free(snode *s) {
    if (s->n) p2p_node_free(s->n);
    s->n = NULL;
    if (s->r.ev) rec_destroy(&s->r);
}

#define WAIT_S(s, cond) ((s)->poll ? WAIT_POLL((s)->n, &(s)->r, cond) : WAIT_UNTIL(cond))

/* a dials b and both see the connection; *ab is a's handle of b. */
static int slink(snode *a, snode *b, uint64_t *ab) {
    size_t in0 = rec_count(&b->r, P2P_EVENT_INBOUND_CONNECTED);
    uint64_t peer = 0;
    if (p2p_node_connect(a->n, "127.0.0.1", b->port, 0, &peer) != P2P_OK) return -1;
    if (ab) *ab = peer;
    if (!WAIT_S(b, rec_count(&b->r, P2P_EVENT_INBOUND_CONNECTED) > in0)) return -2;
    if (!WAIT_S(a, rec_count(&a->r, P2P_EVENT_OUTBOUND_CONNECTED) > 0)) return -3;
    return 0;
}

/* WAIT_ALL(poll, nodes, cond): waits for cond; in poll mode pumps every node
 * of the NULL-terminated array nodes meanwhile (they answer each other). */
#define WAIT_ALL(poll, nodes, cond)                                        \
    __extension__({                                                        \
        int64_t until_ = h_now_ms() + WAIT_MS;                             \
        int ok_;                                                           \
        while (!(ok_ = !!(cond)) && h_now_ms() < until_) {                 \
            if (poll)                                                      \
                for (snode **p_ = (nodes); *p_; p_++) rec_pump((*p_)->n, &(*p_)->r, 2); \
            else                                                           \
                h_nap();                                                   \
        }                                                                  \
        ok_;                                                               \
    })

/* The nth event of type as a snapshot (entries never move once recorded). */
#define NTH(s, type, i) rec_nth(&(s)->r, (type), (i))

static int has(const rec_event *e, const char *needle) {
    return e && e->data && strstr((const char *)e->data, needle) != NULL;
}

/* ---- Creation, configuration, keys ------------------------------------------ */

void test_secure_new_and_config(void) {
    p2p_node *n = NULL;
    p2p_secure_config cfg;
    char buf[16];
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, NULL, NULL), P2P_EINVAL);
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 70000, NULL, 0, NULL, &n), P2P_EINVAL);
    CHECK(n == NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.key_policy = 7;
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &n), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "key_policy") != NULL);
    cfg.key_policy = P2P_NO_PINNING;
    cfg.min_key_bits = -1;
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, &cfg, &n), P2P_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.replay_window_ms = -1; /* off: allowed */
    CHECK_RC(p2p_secure_node_new("127.0.0.1", 0, "secure-id", 3, &cfg, &n), P2P_OK);
    REQUIRE(n != NULL);
    /* a node like any other */
    CHECK_RC(h_node_id(n, buf, sizeof buf), P2P_OK);
    CHECK(strcmp(buf, "secure-id") == 0);
    int64_t v = 0;
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_MAX_CONNECTIONS, &v), P2P_OK);
    CHECK(v == 3);
    /* no key: nothing starts or signs */
    CHECK_RC(p2p_node_start(n), P2P_EKEY);
    CHECK(strstr(p2p_errmsg(), "no key") != NULL);
    CHECK_RC(h_secure_public_key(n, buf, sizeof buf), P2P_EKEY);
    CHECK_RC(p2p_secure_key_save(n, "/tmp/never-written.key", "pw", P2P_KEY_FORMAT_P2PNODE), P2P_EKEY);
    CHECK_RC(p2p_secure_send_ping(n), P2P_EKEY);
    CHECK_RC(h_secure_create_message(n, "{}", 2, NULL, 0, NULL), P2P_EKEY);
    CHECK(strcmp(p2p_strerror(P2P_EKEY), "unknown error") != 0);
    CHECK(strcmp(p2p_strerror(P2P_EREJECTED), "unknown error") != 0);
    CHECK(strcmp(p2p_strerror(P2P_EKEY), p2p_strerror(P2P_EREJECTED)) != 0);
    /* with a key it starts */
    REQUIRE(key_file(0));
    CHECK_RC(p2p_secure_key_load(n, key_file(0), NULL), P2P_OK);
    CHECK_RC(p2p_node_start(n), P2P_OK);
out:
    if (n) p2p_node_free(n);
}

void test_secure_keys(void) {
    p2p_node *a = NULL, *b = NULL;
    char pem_a[1024], pem_b[1024], path[256];
    REQUIRE(key_file(0));
    REQUIRE(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, NULL, &a) == P2P_OK);
    REQUIRE(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, NULL, &b) == P2P_OK);
    CHECK_RC(p2p_secure_key_generate(a, 1024), P2P_EINVAL); /* under 2048 */
    CHECK_RC(p2p_secure_key_generate(a, -5), P2P_EINVAL);
    CHECK_RC(p2p_secure_key_load(a, key_file(0), NULL), P2P_OK);
    CHECK_RC(h_secure_public_key(a, pem_a, sizeof pem_a), P2P_OK);
    CHECK(strncmp(pem_a, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
    CHECK(strcmp(pem_a, key_pems[0]) == 0);

    /* both formats round-trip, with the password */
    static const int formats[] = {P2P_KEY_FORMAT_P2PNODE, P2P_KEY_FORMAT_P2PSECURE};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/round%d.key", key_dir, i);
        CHECK_RC(p2p_secure_key_save(a, path, "pässword", formats[i]), P2P_OK);
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        CHECK_RC(p2p_secure_key_load(b, path, "wrong"), P2P_EKEY);
        CHECK(strlen(p2p_errmsg()) > 0);
        CHECK_RC(p2p_secure_key_load(b, path, "pässword"), P2P_OK);
        CHECK_RC(h_secure_public_key(b, pem_b, sizeof pem_b), P2P_OK);
        CHECK(strcmp(pem_a, pem_b) == 0);
        CHECK_RC(p2p_secure_key_generate(b, 2048 + 8 * i), P2P_OK); /* b gets a key of its own again */
        CHECK_RC(h_secure_public_key(b, pem_b, sizeof pem_b), P2P_OK);
        CHECK(strcmp(pem_a, pem_b) != 0);
    }
    snprintf(path, sizeof path, "%s/nopw.key", key_dir);
    CHECK_RC(p2p_secure_key_save(a, path, "", P2P_KEY_FORMAT_P2PSECURE), P2P_EINVAL);
    CHECK_RC(p2p_secure_key_save(a, path, NULL, 9), P2P_EINVAL);
    CHECK_RC(p2p_secure_key_save(a, NULL, NULL, P2P_KEY_FORMAT_P2PNODE), P2P_EINVAL);
    CHECK_RC(p2p_secure_key_save(a, "/nonexistent-dir/x.key", NULL, P2P_KEY_FORMAT_P2PNODE), P2P_EKEY);
    CHECK_RC(p2p_secure_key_load(b, "/nonexistent-dir/x.key", NULL), P2P_EKEY);
    CHECK_RC(p2p_secure_key_load(b, "/etc/hostname", NULL), P2P_EKEY);
    CHECK_RC(p2p_secure_key_load(b, NULL, NULL), P2P_EINVAL);
out:
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
}

/* The p2p_secure_* functions refuse a plain node; NULL and freed handles get
 * P2P_EHANDLE (also in the misuse table of test_capi.c). */
void test_secure_on_plain_node(void) {
    p2p_node *n = mk_node(NULL, NULL);
    char buf[64];
    REQUIRE(n);
    CHECK_RC(p2p_secure_key_generate(n, 2048), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "not a secure node") != NULL);
    CHECK_RC(p2p_secure_send_ping(n), P2P_EINVAL);
    CHECK_RC(h_secure_public_key(n, buf, sizeof buf), P2P_EINVAL);
    CHECK_RC(p2p_secure_pin(n, "x", NULL), P2P_EINVAL);
    CHECK_RC(p2p_secure_send_ping(NULL), P2P_EHANDLE);
    CHECK_RC(p2p_secure_key_load(NULL, "x", NULL), P2P_EHANDLE);
out:
    if (n) p2p_node_free(n);
}

/* ---- Messages ---------------------------------------------------------------- */

static const char MSG[] = "{\"text\": \"h\\u00e9llo \\ud83d\\ude00\", \"f\": 1.0, \"tiny\": 2.5e-07, "
                          "\"big\": 123456789012345678901234567890, \"list\": [1, null, true]}";

static void run_messages(int poll) {
    snode a, b;
    uint64_t ab = 0;
    memset(&b, 0, sizeof b);
    REQUIRE(snode_up(&a, poll, 0, NULL) == 0 && snode_up(&b, poll, 1, NULL) == 0);
    REQUIRE(slink(&a, &b, &ab) == 0);
    /* send_message: every peer gets {"_type": "message", "message": ...} */
    CHECK_RC(p2p_secure_send_message(a.n, MSG, strlen(MSG)), P2P_OK);
    REQUIRE(WAIT_S(&b, rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1));
    const rec_event *e = NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0);
    CHECK(strcmp(e->sender_id, a.id) == 0);
    CHECK(strcmp(e->peer_id, a.id) == 0);
    CHECK(strcmp(e->msg_type, "message") == 0);
    CHECK(e->kind == P2P_KIND_JSON && e->compression == P2P_COMPRESSION_NONE);
    CHECK(strcmp(e->reason, "") == 0 && e->reject == 0 && e->n_nodes == 0);
    /* the value as Python's json.dumps(sort_keys=True) writes it */
    CHECK(has(e, "\"message\": {\"big\": 123456789012345678901234567890, \"f\": 1.0, \"list\": [1, null, true], "
                 "\"text\": \"h\\u00e9llo \\ud83d\\ude00\", \"tiny\": 2.5e-07}"));
    CHECK(has(e, "\"_signature\": \"") && has(e, "\"_public_key\": \"-----BEGIN PUBLIC KEY-----"));
    CHECK(p2p_secure_check_message((const char *)e->data, e->data_len, NULL) == P2P_OK);
    /* other JSON values than objects are messages too */
    CHECK_RC(p2p_secure_send_message(a.n, "\"just text\"", 11), P2P_OK);
    CHECK_RC(p2p_secure_send_message(a.n, "42", 2), P2P_OK);
    REQUIRE(WAIT_S(&b, rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 3));
    CHECK(has(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 1), "\"message\": \"just text\""));
    CHECK(has(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 2), "\"message\": 42"));
    /* the other way, to one peer, with an application type */
    uint64_t ba = NTH(&b, P2P_EVENT_INBOUND_CONNECTED, 0)->peer;
    const char *custom = "{\"_type\": \"order\", \"qty\": 3, \"_id\": \"forged\"}";
    CHECK_RC(p2p_secure_send(b.n, ba, custom, strlen(custom)), P2P_OK);
    REQUIRE(WAIT_S(&a, rec_count(&a.r, P2P_EVENT_SECURE_MESSAGE) == 1));
    e = NTH(&a, P2P_EVENT_SECURE_MESSAGE, 0);
    CHECK(strcmp(e->msg_type, "order") == 0);
    CHECK(strcmp(e->sender_id, b.id) == 0); /* the caller's _id was replaced */
    CHECK(has(e, "\"qty\": 3"));
    /* bad input costs the call only */
    CHECK_RC(p2p_secure_send_message(a.n, "{not json", 9), P2P_EINVAL);
    CHECK_RC(p2p_secure_send_message(a.n, NULL, 0), P2P_EINVAL);
    CHECK_RC(p2p_secure_send(b.n, ba, "[1, 2]", 6), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "object") != NULL);
    CHECK_RC(p2p_secure_send(b.n, 999999, "{}", 2), P2P_ENOPEER);
    CHECK_RC(p2p_secure_send_message(a.n, "\"\xff\"", 3), P2P_EINVAL); /* not UTF-8 */
    /* the secure node raises no plain message event */
    CHECK(rec_count(&a.r, P2P_EVENT_MESSAGE) == 0 && rec_count(&b.r, P2P_EVENT_MESSAGE) == 0);
    CHECK(rec_count(&a.r, P2P_EVENT_MESSAGE_REJECTED) == 0 && rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 0);
out:
    snode_free(&a);
    snode_free(&b);
}

void test_secure_messages_callback(void) { run_messages(0); }
void test_secure_messages_poll(void) { run_messages(1); }

/* Replaces the first occurrence of from by to in s (same length). */
static void patch(char *s, const char *from, const char *to) {
    char *p = strstr(s, from);
    if (p) memcpy(p, to, strlen(to));
}

static void run_rejections(int poll) {
    snode a, b;
    uint64_t ab = 0;
    char signed_msg[4096];
    size_t len = 0;
    memset(&b, 0, sizeof b);
    REQUIRE(snode_up(&a, poll, 0, NULL) == 0 && snode_up(&b, poll, 1, NULL) == 0);
    REQUIRE(slink(&a, &b, &ab) == 0);
    /* unsigned bytes: malformed, and the payload is handed over as it came */
    CHECK_RC(p2p_node_send(a.n, ab, "hello", 5, P2P_COMPRESSION_ZLIB), P2P_OK);
    REQUIRE(WAIT_S(&b, rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 1));
    const rec_event *e = NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 0);
    CHECK(e->reject == P2P_REJECT_MALFORMED);
    CHECK(strlen(e->reason) > 0);
    CHECK(P2P_REJECT_NONE == 0);
    CHECK(e->data_len == 5 && memcmp(e->data, "hello", 5) == 0);
    CHECK(e->kind == P2P_KIND_TEXT && e->compression == P2P_COMPRESSION_ZLIB);
    CHECK(strcmp(e->peer_id, a.id) == 0 && strcmp(e->sender_id, "") == 0);
    /* a JSON object without the fields */
    CHECK_RC(p2p_node_send(a.n, ab, "{\"a\": 1}", 8, 0), P2P_OK);
    /* tampered: a value changed after signing */
    const char *order = "{\"_type\": \"order\", \"qty\": 3}";
    CHECK_RC(h_secure_create_message(a.n, order, strlen(order), signed_msg, sizeof signed_msg, &len), P2P_OK);
    char tampered[4096];
    memcpy(tampered, signed_msg, len);
    tampered[len] = 0;
    patch(tampered, "\"qty\": 3", "\"qty\": 4");
    CHECK_RC(p2p_node_send(a.n, ab, tampered, len, 0), P2P_OK);
    /* the genuine one passes once, then is a replay */
    CHECK_RC(p2p_node_send(a.n, ab, signed_msg, len, 0), P2P_OK);
    CHECK_RC(p2p_node_send(a.n, ab, signed_msg, len, 0), P2P_OK);
    REQUIRE(WAIT_S(&b, rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 4));
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 1)->reject == P2P_REJECT_MALFORMED);
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 2)->reject == P2P_REJECT_BAD_SIGNATURE);
    CHECK(strcmp(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 2)->sender_id, a.id) == 0); /* claimed, unverified */
    CHECK(strcmp(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 1)->sender_id, "") == 0);   /* {"a": 1} claims none */
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 3)->reject == P2P_REJECT_REPLAY);
    CHECK(strstr(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 3)->reason, "replay") != NULL);
    CHECK(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1);
    CHECK(has(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0), "\"qty\": 3"));
    /* the connection stays up and works */
    CHECK(peer_count(b.n, P2P_ALL) == 1);
    CHECK_RC(p2p_secure_send_message(a.n, "1", 1), P2P_OK);
    CHECK(WAIT_S(&b, rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 2));
out:
    snode_free(&a);
    snode_free(&b);
}

void test_secure_rejections_callback(void) { run_rejections(0); }
void test_secure_rejections_poll(void) { run_rejections(1); }

/* ---- Ping and discovery --------------------------------------------------------- */

static int has_ping(snode *s, uint64_t peer) {
    size_t len = 0;
    int rc = h_peer_get_info(s->n, peer, "ping", NULL, 0, &len); /* P2P_ERANGE: there, and longer than 0 */
    return (rc == P2P_OK || rc == P2P_ERANGE) && len > 0;
}

static void run_ping_discovery(int poll) {
    snode a, b, c;
    uint64_t ab = 0, bc = 0;
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    REQUIRE(snode_up(&a, poll, 0, NULL) == 0 && snode_up(&b, poll, 1, NULL) == 0 && snode_up(&c, poll, 2, NULL) == 0);
    REQUIRE(slink(&a, &b, &ab) == 0 && slink(&b, &c, &bc) == 0);
    /* ping: the latency lands in the peer's info as JSON number text */
    snode *all[] = {&a, &b, &c, NULL};
    CHECK_RC(p2p_secure_send_ping(a.n), P2P_OK);
    REQUIRE(WAIT_ALL(poll, all, has_ping(&a, ab)));
    char text[64];
    size_t len = 0;
    CHECK_RC(h_peer_get_info(a.n, ab, "ping", text, sizeof text - 1, &len), P2P_OK);
    text[len < sizeof text ? len : sizeof text - 1] = 0; /* the value is bytes, not a C string */
    char *end = NULL;
    double latency = strtod(text, &end);
    CHECKF(end && *end == 0 && latency >= 0 && latency < 60, "ping info %s", text);
    CHECK(!has_ping(&b, bc)); /* only the pinger learns a latency */

    /* discovery: b answers and passes it on to c, whose answer b relays */
    CHECK_RC(p2p_secure_send_discovery(a.n), P2P_OK);
    REQUIRE(WAIT_ALL(poll, all, rec_count(&a.r, P2P_EVENT_DISCOVERY_ANSWER) == 2));
    char want_b[4 * P2P_MAX_ID_LEN], want_c[2 * P2P_MAX_ID_LEN];
    snprintf(want_b, sizeof want_b, "%s@127.0.0.1:%d/in,%s@127.0.0.1:%d/out", a.id, a.port, c.id, c.port);
    snprintf(want_c, sizeof want_c, "%s@127.0.0.1:%d/in", b.id, b.port);
    int seen_b = 0, seen_c = 0;
    for (int i = 0; i < 2; i++) {
        const rec_event *e = NTH(&a, P2P_EVENT_DISCOVERY_ANSWER, i);
        CHECK(strcmp(e->peer_id, b.id) == 0); /* both come through b */
        CHECK(strcmp(e->msg_type, "discovery_answer") == 0);
        CHECK(e->kind == P2P_KIND_JSON && has(e, "\"nodes\": ["));
        if (strcmp(e->sender_id, b.id) == 0) {
            seen_b = 1;
            CHECKF(e->n_nodes == 2 && strcmp(e->nodes, want_b) == 0, "b's answer: %s", e->nodes);
        } else if (strcmp(e->sender_id, c.id) == 0) {
            seen_c = 1;
            CHECKF(e->n_nodes == 1 && strcmp(e->nodes, want_c) == 0, "c's answer: %s", e->nodes);
        }
    }
    CHECK(seen_b && seen_c);
    /* answers and discoveries are the node's own business */
    CHECK(rec_count(&b.r, P2P_EVENT_DISCOVERY_ANSWER) == 0 && rec_count(&c.r, P2P_EVENT_DISCOVERY_ANSWER) == 0);
    CHECK(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 0 && rec_count(&c.r, P2P_EVENT_SECURE_MESSAGE) == 0);
    CHECK(rec_count(&a.r, P2P_EVENT_MESSAGE_REJECTED) == 0 && rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 0);
out:
    snode_free(&a);
    snode_free(&b);
    snode_free(&c);
}

void test_secure_ping_discovery_callback(void) { run_ping_discovery(0); }
void test_secure_ping_discovery_poll(void) { run_ping_discovery(1); }

/* ---- Key pinning ------------------------------------------------------------------ */

void test_secure_pinning(void) {
    snode a, b;
    uint64_t ab = 0;
    char pem[1024];
    memset(&b, 0, sizeof b);
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, NULL) == 0);
    REQUIRE(key_file(2));
    REQUIRE(slink(&a, &b, &ab) == 0);
    /* b expects another key for a's id */
    CHECK_RC(h_secure_pinned_key(b.n, a.id, pem, sizeof pem), P2P_ENOTFOUND);
    CHECK_RC(p2p_secure_pin(b.n, a.id, key_pems[2]), P2P_OK);
    CHECK_RC(h_secure_pinned_key(b.n, a.id, pem, sizeof pem), P2P_OK);
    CHECK(strcmp(pem, key_pems[2]) == 0);
    CHECK_RC(p2p_secure_send_message(a.n, "1", 1), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 1));
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 0)->reject == P2P_REJECT_KEY_MISMATCH);
    /* unpinned, the next key seen is pinned (trust on first use) */
    CHECK_RC(p2p_secure_pin(b.n, a.id, NULL), P2P_OK);
    CHECK_RC(h_secure_pinned_key(b.n, a.id, pem, sizeof pem), P2P_ENOTFOUND);
    CHECK_RC(p2p_secure_send_message(a.n, "2", 1), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1));
    CHECK_RC(h_secure_pinned_key(b.n, a.id, pem, sizeof pem), P2P_OK);
    CHECK(strcmp(pem, key_pems[0]) == 0);
    /* now a changes its key: b refuses it */
    CHECK_RC(p2p_secure_key_load(a.n, key_file(2), NULL), P2P_OK);
    CHECK_RC(p2p_secure_send_message(a.n, "3", 1), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 2));
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 1)->reject == P2P_REJECT_KEY_MISMATCH);
    /* a node's own id is pinned to its own key */
    CHECK_RC(h_secure_pinned_key(b.n, b.id, pem, sizeof pem), P2P_OK);
    CHECK(strcmp(pem, key_pems[1]) == 0);
    /* bad arguments */
    CHECK_RC(p2p_secure_pin(b.n, a.id, "not a key"), P2P_EINVAL);
    CHECK_RC(p2p_secure_pin(b.n, NULL, key_pems[2]), P2P_EINVAL);
    CHECK_RC(h_secure_pinned_key(b.n, NULL, pem, sizeof pem), P2P_EINVAL);
out:
    snode_free(&a);
    snode_free(&b);
}

void test_secure_trusted_keys_only(void) {
    snode a, b;
    uint64_t ab = 0;
    p2p_secure_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memset(&b, 0, sizeof b);
    cfg.key_policy = P2P_TRUSTED_KEYS_ONLY;
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, &cfg) == 0);
    REQUIRE(slink(&a, &b, &ab) == 0);
    CHECK_RC(p2p_secure_send_message(a.n, "1", 1), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 1));
    CHECK(NTH(&b, P2P_EVENT_MESSAGE_REJECTED, 0)->reject == P2P_REJECT_UNTRUSTED_KEY);
    CHECK_RC(p2p_secure_pin(b.n, a.id, key_pems[0]), P2P_OK);
    CHECK_RC(p2p_secure_send_message(a.n, "2", 1), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1));
    CHECK(rec_count(&b.r, P2P_EVENT_MESSAGE_REJECTED) == 1);
out:
    snode_free(&a);
    snode_free(&b);
}

/* ---- create_message and check_message ------------------------------------------------ */

void test_secure_create_and_check(void) {
    snode a;
    char buf[4096];
    size_t len = 0;
    int reject = -1;
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0);
    const char *data = "{\"_type\": \"x\", \"v\": [1.5, \"\\u20ac\"]}";
    /* ask for the length, then sign into a buffer that fits */
    CHECK_RC(h_secure_create_message(a.n, data, strlen(data), NULL, 0, &len), P2P_ERANGE);
    CHECK(len > 1000);
    CHECK_RC(h_secure_create_message(a.n, data, strlen(data), buf, sizeof buf, &len), P2P_OK);
    buf[len] = 0;
    CHECK(strstr(buf, "\"_id\": \"") && strstr(buf, "\"_mcs\": ") && strstr(buf, "\"_mcr\": ") &&
          strstr(buf, "\"_timestamp\": ") && strstr(buf, "\"_message_id\": \"") && strstr(buf, "\"v\": [1.5, \"\\u20ac\"]"));
    CHECK_RC(p2p_secure_check_message(buf, len, &reject), P2P_OK);
    CHECK(reject == 0);
    /* each field tampered with in turn */
    static const char *fields[] = {"\"_hash\": \"", "\"_message_id\": \"", "\"_signature\": \"", "\"_id\": \"", "\"v\": [1"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char t[4096];
        memcpy(t, buf, len + 1);
        char *p = strstr(t, fields[i]);
        REQUIRE(p);
        p += strlen(fields[i]);
        *p = *p == '2' ? '3' : '2'; /* a hex digit, a base64 letter, or an id character */
        CHECK_RC(p2p_secure_check_message(t, len, &reject), P2P_EREJECTED);
        /* the signature covers every other field, so it is what fails first */
        CHECKF(reject == P2P_REJECT_BAD_SIGNATURE, "%s: reject %d", fields[i], reject);
    }
    CHECK_RC(p2p_secure_check_message("{\"a\": 1}", 8, &reject), P2P_EREJECTED);
    CHECK(reject == P2P_REJECT_MALFORMED);
    CHECK_RC(p2p_secure_check_message("not json", 8, &reject), P2P_EREJECTED);
    CHECK(reject == P2P_REJECT_MALFORMED);
    CHECK_RC(p2p_secure_check_message(NULL, 0, NULL), P2P_EREJECTED);
    CHECK_RC(p2p_secure_check_message(NULL, 4, &reject), P2P_EINVAL);
    CHECK_RC(h_secure_create_message(a.n, "[]", 2, buf, sizeof buf, &len), P2P_EINVAL);
    CHECK_RC(h_secure_create_message(a.n, "{", 1, buf, sizeof buf, &len), P2P_EINVAL);
out:
    snode_free(&a);
}

void test_secure_broadcast_exclude(void) {
    snode a, b, c;
    uint64_t ab = 0, ac = 0;
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, NULL) == 0 && snode_up(&c, 0, 2, NULL) == 0);
    REQUIRE(slink(&a, &b, &ab) == 0 && slink(&a, &c, &ac) == 0);
    const char *d = "{\"_type\": \"note\", \"n\": 1}";
    CHECK_RC(p2p_secure_broadcast(a.n, d, strlen(d), &ab, 1), P2P_OK);
    CHECK_RC(p2p_secure_broadcast(a.n, d, strlen(d), NULL, 0), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&c.r, P2P_EVENT_SECURE_MESSAGE) == 2 && rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1));
    CHECK(strcmp(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0)->msg_type, "note") == 0);
    CHECK_RC(p2p_secure_broadcast(a.n, d, strlen(d), NULL, 1), P2P_EINVAL);
    CHECK_RC(p2p_secure_broadcast(a.n, "3", 1, NULL, 0), P2P_EINVAL);
out:
    snode_free(&a);
    snode_free(&b);
    snode_free(&c);
}

/* An event raised inside a secure event's callback gets its own record: the
 * outer event's strings and bytes stay as they were. */
typedef struct nested_ctx {
    int done, intact;
} nested_ctx;

static void nested_hook(recorder *r, const p2p_event *ev) {
    nested_ctx *x = r->ctx;
    if (ev->type != P2P_EVENT_SECURE_MESSAGE || x->done) return;
    char sender[P2P_MAX_ID_LEN + 1], type[64];
    snprintf(sender, sizeof sender, "%s", ev->sender_id);
    snprintf(type, sizeof type, "%s", ev->msg_type);
    size_t len = ev->data_len;
    unsigned char *copy = malloc(len);
    memcpy(copy, ev->data, len);
    p2p_node_disconnect(ev->node, ev->peer); /* raises DISCONNECT_WITH_OUTBOUND inline */
    x->intact = strcmp(sender, ev->sender_id) == 0 && strcmp(type, ev->msg_type) == 0 && len == ev->data_len &&
                memcmp(copy, ev->data, len) == 0;
    free(copy);
    __atomic_store_n(&x->done, 1, __ATOMIC_SEQ_CST);
}

void test_secure_nested_events(void) {
    snode a, b;
    uint64_t ab = 0;
    nested_ctx x = {0, 0};
    memset(&b, 0, sizeof b);
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, NULL) == 0);
    a.r.hook = nested_hook;
    a.r.ctx = &x;
    REQUIRE(slink(&a, &b, &ab) == 0);
    uint64_t ba = NTH(&b, P2P_EVENT_INBOUND_CONNECTED, 0)->peer;
    CHECK_RC(p2p_secure_send(b.n, ba, "{\"_type\": \"bye\"}", 16), P2P_OK);
    REQUIRE(WAIT_UNTIL(__atomic_load_n(&x.done, __ATOMIC_SEQ_CST)));
    CHECK(x.intact);
    CHECK(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_OUTBOUND_DISCONNECTED) == 1));
    long i_msg = rec_index(&a.r, P2P_EVENT_SECURE_MESSAGE, 0);
    long i_dis = rec_index(&a.r, P2P_EVENT_DISCONNECT_WITH_OUTBOUND, 0);
    CHECK(i_msg >= 0 && i_dis > i_msg);
out:
    snode_free(&a);
    snode_free(&b);
}

/* ---- p2psecure's helpers ------------------------------------------------------------ */

void test_secure_helpers(void) {
    snode a, b;
    char ct[1024], sig[1024], pem[P2P_MAX_PRIVATE_KEY_PEM_LEN + 1];
    unsigned char plain[1024], out[1024];
    size_t len = 0, len2 = 0;
    memset(&b, 0, sizeof b);
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, NULL) == 0);

    /* get_private_key: PKCS#1 PEM, no final newline */
    CHECK_RC(h_secure_private_key(a.n, pem, sizeof pem), P2P_OK);
    CHECK(strncmp(pem, "-----BEGIN RSA PRIVATE KEY-----\n", 32) == 0);
    CHECK(strlen(pem) > 1000 && strcmp(pem + strlen(pem) - 29, "-----END RSA PRIVATE KEY-----") == 0);
    /* a private key's PEM encrypts to its public half */
    CHECK_RC(h_secure_encrypt(pem, "k", 1, ct, sizeof ct, &len), P2P_OK);
    CHECK_RC(h_secure_decrypt(a.n, ct, len, plain, sizeof plain, &len2), P2P_OK);
    CHECK(len2 == 1 && plain[0] == 'k');
    memset(pem, 0, sizeof pem);

    /* encrypt to b, decrypt at b; a cannot */
    const char *secret = "geheim \xc3\xa9\x00!";
    size_t slen = 11;
    CHECK_RC(h_secure_encrypt(key_pems[1], secret, slen, NULL, 0, &len), P2P_ERANGE);
    CHECK(len == 344); /* base64 of 256 bytes */
    CHECK_RC(h_secure_encrypt(key_pems[1], secret, slen, ct, sizeof ct, &len), P2P_OK);
    CHECK(len == 344 && ct[343] == '=');
    CHECK_RC(h_secure_decrypt(b.n, ct, len, plain, sizeof plain, &len2), P2P_OK);
    CHECK(len2 == slen && memcmp(plain, secret, slen) == 0);
    CHECK_RC(h_secure_decrypt(a.n, ct, len, plain, sizeof plain, &len2), P2P_EINVAL);
    CHECK_RC(h_secure_decrypt(b.n, "@@", 2, plain, sizeof plain, NULL), P2P_EINVAL);
    CHECK_RC(h_secure_decrypt(b.n, NULL, 5, plain, sizeof plain, NULL), P2P_EINVAL);
    CHECK_RC(h_secure_encrypt(NULL, "x", 1, ct, sizeof ct, &len), P2P_EINVAL);
    CHECK_RC(h_secure_encrypt("not a key", "x", 1, ct, sizeof ct, &len), P2P_EINVAL);
    CHECK_RC(h_secure_encrypt(key_pems[1], out, 246, ct, sizeof ct, &len), P2P_EINVAL); /* over k - 11 */
    CHECK_RC(h_secure_encrypt(key_pems[1], NULL, 0, ct, sizeof ct, &len), P2P_OK);       /* empty is fine */

    /* sign and verify text */
    const char *text = "{\"a\": 1}";
    CHECK_RC(h_secure_sign(a.n, text, strlen(text), sig, sizeof sig), P2P_OK);
    CHECK(strlen(sig) == 344);
    CHECK_RC(p2p_secure_verify(key_pems[0], text, strlen(text), sig), P2P_OK);
    CHECK_RC(p2p_secure_verify(key_pems[0], text, strlen(text) - 1, sig), P2P_EREJECTED);
    CHECK_RC(p2p_secure_verify(key_pems[1], text, strlen(text), sig), P2P_EREJECTED);
    CHECK_RC(p2p_secure_verify(key_pems[0], text, strlen(text), "!!"), P2P_EREJECTED);
    CHECK_RC(p2p_secure_verify("nope", text, strlen(text), sig), P2P_EINVAL);
    CHECK_RC(p2p_secure_verify(key_pems[0], text, strlen(text), NULL), P2P_EINVAL);

    /* canonical text (get_data_uniq_string) */
    const char *json = "{\"b\":1,\"a\":[1.0,\"\xc3\xa9\",1E16]}";
    CHECK_RC(h_secure_canonical(json, strlen(json), ct, sizeof ct, &len), P2P_OK);
    ct[len] = 0;
    CHECKF(strcmp(ct, "{\"a\": [1.0, \"\\u00e9\", 1e+16], \"b\": 1}") == 0, "canonical %s", ct);
    CHECK_RC(h_secure_canonical("{", 1, ct, sizeof ct, &len), P2P_EINVAL);

    /* PBKDF2 with PyCryptodome's defaults (PBKDF2(b"password", b"salt", 32)) */
    static const unsigned char want_key[32] = {
        0x6e, 0x88, 0xbe, 0x8b, 0xad, 0x7e, 0xae, 0x9d, 0x9e, 0x10, 0xaa, 0x06, 0x12, 0x24, 0x03, 0x4f,
        0xed, 0x48, 0xd0, 0x3f, 0xcb, 0xad, 0x96, 0x8b, 0x56, 0x00, 0x67, 0x84, 0x53, 0x9d, 0x52, 0x14};
    unsigned char key[32];
    CHECK_RC(p2p_secure_derive_key("password", 8, "salt", 4, key, sizeof key), P2P_OK);
    CHECK(memcmp(key, want_key, 32) == 0);
    CHECK_RC(p2p_secure_derive_key("password", 8, "salt", 4, key, 0), P2P_EINVAL);
    CHECK_RC(p2p_secure_derive_key("password", 8, "salt", 4, NULL, 32), P2P_EINVAL);
    CHECK_RC(p2p_secure_derive_key(NULL, 0, NULL, 0, key, 16), P2P_OK);

    /* zero padding */
    CHECK_RC(h_secure_aes_pad("abc", 3, out, sizeof out, &len), P2P_OK);
    CHECK(len == 16 && memcmp(out, "abc\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    CHECK_RC(h_secure_aes_pad(key, 16, NULL, 0, &len), P2P_ERANGE);
    CHECK(len == 32);

    /* AES with a key, and with a password: lengths, round trips, misuse */
    for (size_t n = 0; n <= 33; n += 11) {
        memset(plain, 'x', n);
        CHECK_RC(h_secure_aes_encrypt(key, 32, plain, n, out, sizeof out, &len), P2P_OK);
        CHECK(len == 16 + n + 16 - n % 16);
        unsigned char back[1024];
        CHECK_RC(h_secure_aes_decrypt(key, 32, out, len, back, sizeof back, &len2), P2P_OK);
        CHECK(len2 == n && memcmp(back, plain, n) == 0);
        CHECK_RC(h_secure_aes_encrypt_pw("pw", 2, plain, n, out, sizeof out, &len), P2P_OK);
        CHECK(len == 48 + n + 16 - n % 16);
        CHECK_RC(h_secure_aes_decrypt_pw("pw", 2, out, len, back, sizeof back, &len2), P2P_OK);
        CHECK(len2 == n && memcmp(back, plain, n) == 0);
    }
    CHECK_RC(h_secure_aes_encrypt(key, 20, "x", 1, out, sizeof out, &len), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "16, 24 or 32") != NULL);
    CHECK_RC(h_secure_aes_encrypt(key, 16, "x", 1, out, sizeof out, &len), P2P_OK);
    CHECK_RC(h_secure_aes_decrypt(key, 16, out, 20, out, sizeof out, &len), P2P_EINVAL); /* not whole blocks */
    CHECK_RC(h_secure_aes_decrypt_pw("pw", 2, out, 8, plain, sizeof plain, &len), P2P_EINVAL);
    CHECK_RC(h_secure_aes_encrypt(key, 32, NULL, 4, out, sizeof out, &len), P2P_EINVAL);

    /* files */
    char path[256], path_pw[256];
    snprintf(path, sizeof path, "%s/data.enc", key_dir);
    snprintf(path_pw, sizeof path_pw, "%s/data-pw.enc", key_dir);
    CHECK_RC(p2p_secure_aes_encrypt_file(path, key, 32, "Hallo", 5), P2P_OK);
    CHECK_RC(p2p_secure_aes_encrypt_file_pw(path_pw, "password123", 11, "Hallo Maurice", 13), P2P_OK);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
    CHECK(stat(path_pw, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 64);
    CHECK_RC(h_secure_aes_decrypt_file(path, key, 32, plain, sizeof plain, &len), P2P_OK);
    CHECK(len == 5 && memcmp(plain, "Hallo", 5) == 0);
    CHECK_RC(h_secure_aes_decrypt_file_pw(path_pw, "password123", 11, plain, sizeof plain, &len), P2P_OK);
    CHECK(len == 13 && memcmp(plain, "Hallo Maurice", 13) == 0);
    CHECK_RC(h_secure_aes_decrypt_file_pw(path_pw, "password123", 11, NULL, 0, &len), P2P_ERANGE);
    CHECK(len == 13);
    CHECK_RC(h_secure_aes_decrypt_file("/nonexistent/x.enc", key, 32, plain, sizeof plain, &len), P2P_EKEY);
    CHECK_RC(p2p_secure_aes_encrypt_file("/nonexistent/x.enc", key, 32, "x", 1), P2P_EKEY);
    CHECK_RC(p2p_secure_aes_encrypt_file(NULL, key, 32, "x", 1), P2P_EINVAL);
    CHECK_RC(h_secure_aes_decrypt_file_pw(NULL, "pw", 2, plain, sizeof plain, &len), P2P_EINVAL);
    CHECK_RC(p2p_secure_aes_encrypt_file_pw(path, NULL, 3, "x", 1), P2P_EINVAL);

    /* the node-bound helpers want a secure node with a key */
    p2p_node *plain_node = NULL, *keyless = NULL;
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &plain_node) == P2P_OK);
    CHECK_RC(h_secure_sign(plain_node, "x", 1, sig, sizeof sig), P2P_EINVAL);
    CHECK_RC(h_secure_private_key(plain_node, pem, sizeof pem), P2P_EINVAL);
    REQUIRE(p2p_secure_node_new("127.0.0.1", 0, NULL, 0, NULL, &keyless) == P2P_OK);
    CHECK_RC(h_secure_sign(keyless, "x", 1, sig, sizeof sig), P2P_EKEY);
    CHECK_RC(h_secure_decrypt(keyless, ct, 4, plain, sizeof plain, &len), P2P_EKEY);
    CHECK_RC(h_secure_private_key(keyless, pem, sizeof pem), P2P_EKEY);
    p2p_node_free(plain_node);
    p2p_node_free(keyless);
    CHECK_RC(h_secure_sign(keyless, "x", 1, sig, sizeof sig), P2P_EHANDLE);
out:
    snode_free(&a);
    snode_free(&b);
}

/* ---- Delegating ping, pong and discovery ------------------------------------------- */

typedef struct delegate_ctx {
    int rc_bad; /* how many p2p_secure_handle calls failed unexpectedly */
    int already; /* ROUTE_DISCOVERY calls answered P2P_EALREADY */
    char id[P2P_MAX_ID_LEN + 1];
} delegate_ctx;

/* What a p2psecure subclass's default hooks do, step by step. */
static void delegate_hook(recorder *r, const p2p_event *ev) {
    delegate_ctx *d = r->ctx;
    if (ev->type != P2P_EVENT_SECURE_MESSAGE) return;
    const char *json = (const char *)ev->data;
    int rc = P2P_OK;
    if (strcmp(ev->msg_type, "ping") == 0) {
        rc = p2p_secure_handle(ev->node, ev->peer, P2P_STEP_RECEIVED_PING, json, ev->data_len);
    } else if (strcmp(ev->msg_type, "pong") == 0) {
        rc = p2p_secure_handle(ev->node, ev->peer, P2P_STEP_RECEIVED_PONG, json, ev->data_len);
    } else if (strcmp(ev->msg_type, "discovery") == 0) {
        rc = p2p_secure_handle(ev->node, ev->peer, P2P_STEP_ROUTE_DISCOVERY, json, ev->data_len);
        if (rc == P2P_EALREADY) {
            d->already++;
            return;
        }
        if (rc == P2P_OK) rc = p2p_secure_handle(ev->node, ev->peer, P2P_STEP_SEND_DISCOVERY_ANSWER, json, ev->data_len);
    } else if (strcmp(ev->msg_type, "discovery_answer") == 0) {
        rc = p2p_secure_handle(ev->node, 0, P2P_STEP_RELAY_DISCOVERY_ANSWER, json, ev->data_len);
    }
    if (rc != P2P_OK) d->rc_bad++;
}

void test_secure_delegate(void) {
    snode a, b, c;
    uint64_t ab = 0, bc = 0;
    delegate_ctx d;
    memset(&d, 0, sizeof d);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    REQUIRE(snode_up(&a, 0, 0, NULL) == 0 && snode_up(&b, 0, 1, NULL) == 0 && snode_up(&c, 0, 2, NULL) == 0);
    b.r.ctx = &d;
    b.r.hook = delegate_hook;
    CHECK_RC(p2p_secure_set_delegate(b.n, 16), P2P_EINVAL);
    CHECK_RC(p2p_secure_set_delegate(b.n, -1), P2P_EINVAL);
    CHECK_RC(p2p_secure_set_delegate(b.n, P2P_DELEGATE_PING | P2P_DELEGATE_PONG | P2P_DELEGATE_DISCOVERY |
                                              P2P_DELEGATE_DISCOVERY_ANSWER),
             P2P_OK);
    REQUIRE(slink(&a, &b, &ab) == 0 && slink(&b, &c, &bc) == 0);

    /* a's ping reaches b's application, which answers with the node's step */
    CHECK_RC(p2p_secure_send_ping(a.n), P2P_OK);
    REQUIRE(WAIT_UNTIL(has_ping(&a, ab)));
    CHECK(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == 1);
    CHECK(strcmp(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0)->msg_type, "ping") == 0);
    CHECK(strcmp(NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0)->sender_id, a.id) == 0);
    /* b's own ping: the pongs come to its application too */
    CHECK_RC(p2p_secure_send_ping(b.n), P2P_OK);
    REQUIRE(WAIT_UNTIL(has_ping(&b, bc)));
    /* discovery from a: b answers and forwards, and relays c's answer */
    CHECK_RC(p2p_secure_send_discovery(a.n), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_DISCOVERY_ANSWER) == 2));
    int from_b = 0, from_c = 0;
    for (int i = 0; i < 2; i++) {
        const rec_event *e = NTH(&a, P2P_EVENT_DISCOVERY_ANSWER, i);
        from_b += strcmp(e->sender_id, b.id) == 0;
        from_c += strcmp(e->sender_id, c.id) == 0;
    }
    CHECK(from_b == 1 && from_c == 1);
    CHECK(d.rc_bad == 0);
    CHECK(rec_count(&b.r, P2P_EVENT_DISCOVERY_ANSWER) == 0);

    /* the steps' misuse */
    const rec_event *ping = NTH(&b, P2P_EVENT_SECURE_MESSAGE, 0);
    REQUIRE(ping != NULL);
    const char *disc = "{\"_type\": \"discovery\", \"id\": \"far\", \"timestamp\": 1.5}";
    CHECK_RC(p2p_secure_handle(b.n, ab, 99, (const char *)ping->data, ping->data_len), P2P_EINVAL);
    CHECK_RC(p2p_secure_handle(b.n, 12345, P2P_STEP_SEND_PONG, "{\"timestamp\": 1}", 16), P2P_ENOPEER);
    CHECK_RC(p2p_secure_handle(b.n, 0, P2P_STEP_SEND_PONG, "[1]", 3), P2P_EINVAL);
    CHECK_RC(p2p_secure_handle(b.n, 0, P2P_STEP_SEND_PONG, NULL, 3), P2P_EINVAL);
    uint64_t ba = 0;
    size_t count = 0;
    REQUIRE(h_node_peers(b.n, P2P_INBOUND, &ba, 1, &count) == P2P_OK && count == 1);
    CHECK_RC(p2p_secure_handle(b.n, ba, P2P_STEP_SEND_PONG, "{\"timestamp\": \"x\"}", 18), P2P_EINVAL);
    CHECK_RC(p2p_secure_handle(b.n, ba, P2P_STEP_ROUTE_DISCOVERY, disc, strlen(disc)), P2P_OK);
    CHECK_RC(p2p_secure_handle(b.n, ba, P2P_STEP_ROUTE_DISCOVERY, disc, strlen(disc)), P2P_EALREADY);
    const char *stray = "{\"_type\": \"discovery_answer\", \"id\": \"nobody\", \"timestamp\": 2, \"nodes\": []}";
    CHECK_RC(p2p_secure_handle(b.n, 0, P2P_STEP_RELAY_DISCOVERY_ANSWER, stray, strlen(stray)), P2P_ENOTFOUND);
    CHECK_RC(p2p_secure_set_delegate(NULL, 0), P2P_EHANDLE);
    /* back to the node's own handling */
    CHECK_RC(p2p_secure_set_delegate(b.n, 0), P2P_OK);
    size_t before = rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE);
    CHECK_RC(p2p_secure_send_discovery(a.n), P2P_OK);
    REQUIRE(WAIT_UNTIL(rec_count(&a.r, P2P_EVENT_DISCOVERY_ANSWER) == 4));
    CHECK(rec_count(&b.r, P2P_EVENT_SECURE_MESSAGE) == before);
out:
    snode_free(&a);
    snode_free(&b);
    snode_free(&c);
}
