/*
 * test_native.c - the native protocol through the C ABI (0.4, issue 19):
 * encrypted links between two C nodes and what p2p_peer_facts says of
 * them, the modes, refusals (P2P_EREFUSED), the identity key (files,
 * PEM, public key), the trust store and the misuse of each function. Real
 * nodes on loopback; every wait has a deadline.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "native_tests.h"

/* The node's public key into key[P2P_KEY_LEN]; 1 on success. */
static int public_key(p2p_node *n, uint8_t *key) {
    p2p_buf b = P2P_BUF_INIT;
    int ok = p2p_node_public_key_buf(n, &b) == P2P_OK && b.len == P2P_KEY_LEN;
    if (ok) memcpy(key, b.data, P2P_KEY_LEN);
    p2p_buf_free(&b);
    return ok;
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Two started callback nodes a -> b; *ab the outbound peer, *ba the inbound one. */
typedef struct pair {
    recorder ra, rb;
    p2p_node *a, *b;
    uint64_t ab, ba;
} pair;

static void pair_init(pair *p, const char *ida, const char *idb) {
    memset(p, 0, sizeof *p);
    rec_init(&p->ra, 256);
    rec_init(&p->rb, 256);
    p->a = mk_node(&p->ra, ida);
    p->b = mk_node(&p->rb, idb);
}

static int pair_connect(pair *p) {
    if (!p->a || !p->b) return 0;
    if (p2p_node_start(p->a) != P2P_OK || p2p_node_start(p->b) != P2P_OK) return 0;
    if (p2p_node_connect(p->a, "127.0.0.1", node_port(p->b), 0, &p->ab) != P2P_OK) return 0;
    if (!WAIT_UNTIL(rec_count(&p->rb, P2P_EVENT_INBOUND_CONNECTED) == 1)) return 0;
    p->ba = rec_nth(&p->rb, P2P_EVENT_INBOUND_CONNECTED, 0)->peer;
    return 1;
}

static void pair_free(pair *p) {
    if (p->a) p2p_node_free(p->a);
    if (p->b) p2p_node_free(p->b);
    rec_destroy(&p->ra);
    rec_destroy(&p->rb);
}

void test_native_encrypted_link(void) {
    pair p;
    uint8_t ka[P2P_KEY_LEN], kb[P2P_KEY_LEN];
    p2p_peer f;
    p2p_buf b = P2P_BUF_INIT;
    pair_init(&p, "native-a", "native-b");
    REQUIRE(p.a && p.b);
    /* the public key is there from p2p_node_new on */
    REQUIRE(public_key(p.a, ka) && public_key(p.b, kb));
    CHECK(memcmp(ka, kb, P2P_KEY_LEN) != 0);
    REQUIRE(pair_connect(&p));
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(p.a, p.ab, &f), P2P_OK);
    CHECK(f.size == sizeof f && f.encrypted == 1 && memcmp(f.key, kb, P2P_KEY_LEN) == 0);
    CHECK(strcmp(f.id, "native-b") == 0);
    p2p_buf_free(&f.mem);
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(p.b, p.ba, &f), P2P_OK);
    CHECK(f.encrypted == 1 && memcmp(f.key, ka, P2P_KEY_LEN) == 0);
    p2p_buf_free(&f.mem);
    /* a 0.3 caller (size up to mem) gets its prefix, nothing written beyond */
    struct {
        p2p_peer p;
    } old;
    memset(&old, 0xcd, sizeof old);
    old.p.size = offsetof(p2p_peer, encrypted);
    CHECK_RC(p2p_peer_facts(p.a, p.ab, &old.p), P2P_OK);
    CHECK(old.p.size == offsetof(p2p_peer, encrypted) && strcmp(old.p.id, "native-b") == 0);
    CHECK(old.p.encrypted == (int32_t)0xcdcdcdcd && old.p.key[0] == 0xcd);
    p2p_buf_free(&old.p.mem);
    /* trust on first use pinned each side's key */
    CHECK_RC(p2p_node_pinned_key_buf(p.a, "native-b", 8, &b), P2P_OK);
    CHECK(b.len == P2P_KEY_LEN && memcmp(b.data, kb, P2P_KEY_LEN) == 0);
    p2p_buf_free(&b);
    /* messages flow, binary-safe, compressed too */
    static const char msg[] = "over tls\x04\x00end";
    CHECK_RC(p2p_node_send(p.a, p.ab, msg, sizeof msg, P2P_COMPRESSION_ZLIB), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count_msg(&p.rb, msg, sizeof msg) == 1));
out:
    pair_free(&p);
}

void test_native_mode_off_plaintext(void) {
    pair p;
    p2p_peer f;
    int64_t v = -1;
    pair_init(&p, "off-a", "off-b");
    REQUIRE(p.a && p.b);
    CHECK_RC(p2p_node_get_limit(p.a, P2P_LIMIT_ENCRYPTION, &v), P2P_OK);
    CHECK(v == P2P_ENCRYPTION_PREFERRED);
    CHECK_RC(p2p_node_set_limit(p.a, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_OFF), P2P_OK);
    CHECK_RC(p2p_node_get_limit(p.a, P2P_LIMIT_ENCRYPTION, &v), P2P_OK);
    CHECK(v == P2P_ENCRYPTION_OFF);
    REQUIRE(pair_connect(&p));
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(p.a, p.ab, &f), P2P_OK);
    CHECK(f.encrypted == 0 && all_zero(f.key, P2P_KEY_LEN));
    p2p_buf_free(&f.mem);
    P2P_INIT(&f);
    CHECK_RC(p2p_peer_facts(p.b, p.ba, &f), P2P_OK);
    CHECK(f.encrypted == 0 && all_zero(f.key, P2P_KEY_LEN));
    p2p_buf_free(&f.mem);
    CHECK_RC(p2p_node_send(p.a, p.ab, "plain", 5, P2P_COMPRESSION_NONE), P2P_OK);
    CHECK(WAIT_UNTIL(rec_count_msg(&p.rb, "plain", 5) == 1));
    /* the mode is fixed once started */
    CHECK_RC(p2p_node_set_limit(p.a, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_REQUIRED), P2P_ESTATE);
    CHECK_RC(p2p_node_get_limit(p.a, P2P_LIMIT_ENCRYPTION, &v), P2P_OK);
    CHECK(v == P2P_ENCRYPTION_OFF);
out:
    pair_free(&p);
}

void test_native_required_vs_off(void) {
    pair p;
    uint64_t peer = 0;
    pair_init(&p, "req-a", "req-b");
    REQUIRE(p.a && p.b);
    CHECK_RC(p2p_node_set_limit(p.a, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_REQUIRED), P2P_OK);
    CHECK_RC(p2p_node_set_limit(p.b, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_OFF), P2P_OK);
    /* a short greeting wait: b never greets */
    CHECK_RC(p2p_node_set_limit(p.a, P2P_LIMIT_NEGOTIATION_WAIT_MS, 100), P2P_OK);
    REQUIRE(p2p_node_start(p.a) == P2P_OK && p2p_node_start(p.b) == P2P_OK);
    CHECK_RC(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &peer), P2P_EREFUSED);
    CHECK(strstr(p2p_errmsg(), "encryption") != NULL || strstr(p2p_errmsg(), "native") != NULL);
    CHECK(peer_count(p.a, P2P_ALL) == 0);
    CHECK(rec_count(&p.ra, P2P_EVENT_OUTBOUND_CONNECTED) == 0);
out:
    pair_free(&p);
}

void test_native_pin_wrong_key(void) {
    pair p;
    uint64_t peer = 0;
    uint8_t wrong[P2P_KEY_LEN], kb[P2P_KEY_LEN];
    p2p_buf b = P2P_BUF_INIT;
    p2p_node *c = NULL;
    pair_init(&p, "pin-a", "pin-b");
    REQUIRE(p.a && p.b);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "pin-c", 0, &c) == P2P_OK);
    REQUIRE(public_key(c, wrong) && public_key(p.b, kb));
    CHECK_RC(p2p_node_pin(p.a, "pin-b", 5, wrong, P2P_KEY_LEN), P2P_OK);
    CHECK_RC(p2p_node_pinned_key_buf(p.a, "pin-b", 5, &b), P2P_OK);
    CHECK(b.len == P2P_KEY_LEN && memcmp(b.data, wrong, P2P_KEY_LEN) == 0);
    p2p_buf_free(&b);
    REQUIRE(p2p_node_start(p.a) == P2P_OK && p2p_node_start(p.b) == P2P_OK);
    CHECK_RC(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &peer), P2P_EREFUSED);
    CHECK(strstr(p2p_errmsg(), "pinned") != NULL);
    CHECK(peer_count(p.a, P2P_ALL) == 0);
    /* pinned to the right key (the pin is replaced, while running) it connects */
    CHECK_RC(p2p_node_pin(p.a, "pin-b", 5, kb, P2P_KEY_LEN), P2P_OK);
    CHECK_RC(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &peer), P2P_OK);
out:
    if (c) p2p_node_free(c);
    pair_free(&p);
}

void test_native_allow_list(void) {
    pair p;
    uint64_t peer = 0;
    uint8_t kc[P2P_KEY_LEN], kb[P2P_KEY_LEN];
    p2p_node *c = NULL;
    pair_init(&p, "allow-a", "allow-b");
    REQUIRE(p.a && p.b);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "allow-c", 0, &c) == P2P_OK);
    REQUIRE(public_key(c, kc) && public_key(p.b, kb));
    /* only c's key, for any id: b is refused */
    CHECK_RC(p2p_node_allow(p.a, NULL, 0, kc, P2P_KEY_LEN), P2P_OK);
    REQUIRE(p2p_node_start(p.a) == P2P_OK && p2p_node_start(p.b) == P2P_OK);
    CHECK_RC(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &peer), P2P_EREFUSED);
    /* b's key for b's id: admitted */
    CHECK_RC(p2p_node_allow(p.a, "allow-b", 7, kb, P2P_KEY_LEN), P2P_OK);
    CHECK_RC(p2p_node_connect(p.a, "127.0.0.1", node_port(p.b), 0, &peer), P2P_OK);
out:
    if (c) p2p_node_free(c);
    pair_free(&p);
}

void test_native_identity_files(void) {
    char dir[] = "/tmp/p2pnode-identity-XXXXXX", path[64], missing[80];
    p2p_node *a = NULL, *b = NULL, *c = NULL;
    uint8_t ka[P2P_KEY_LEN], kb[P2P_KEY_LEN];
    p2p_buf pem = P2P_BUF_INIT;
    struct stat st;
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/id.pem", dir);
    snprintf(missing, sizeof missing, "%s/none/id.pem", dir);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "id-a", 0, &a) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "id-b", 0, &b) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, "id-c", 0, &c) == P2P_OK);
    REQUIRE(public_key(a, ka));
    /* save: mode 0600, loadable by another node */
    CHECK_RC(p2p_node_identity_save(a, path), P2P_OK);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_RC(p2p_node_identity_load(b, path), P2P_OK);
    CHECK(public_key(b, kb) && memcmp(ka, kb, P2P_KEY_LEN) == 0);
    /* the PEM, and set from it */
    CHECK_RC(p2p_node_identity_buf(a, &pem), P2P_OK);
    CHECK(pem.data && strstr((const char *)pem.data, "-----BEGIN PRIVATE KEY-----") != NULL);
    CHECK_RC(p2p_node_set_identity(c, pem.data, pem.len), P2P_OK);
    CHECK(public_key(c, kb) && memcmp(ka, kb, P2P_KEY_LEN) == 0);
    /* bad input */
    CHECK_RC(p2p_node_identity_load(c, missing), P2P_EKEY);
    CHECK_RC(p2p_node_identity_save(c, missing), P2P_EKEY);
    CHECK_RC(p2p_node_set_identity(c, (const uint8_t *)"not a key", 9), P2P_EINVAL);
    CHECK_RC(p2p_node_set_identity(c, pem.data, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_set_identity(c, pem.data, P2P_MAX_PRIVATE_KEY_PEM_LEN + 1), P2P_EINVAL);
    CHECK(public_key(c, kb) && memcmp(ka, kb, P2P_KEY_LEN) == 0); /* kept */
    /* fixed once started; saving still works */
    REQUIRE(p2p_node_start(c) == P2P_OK);
    CHECK_RC(p2p_node_set_identity(c, pem.data, pem.len), P2P_ESTATE);
    CHECK_RC(p2p_node_identity_load(c, path), P2P_ESTATE);
    CHECK_RC(p2p_node_identity_save(c, path), P2P_OK);
out:
    p2p_buf_free(&pem);
    if (a) p2p_node_free(a);
    if (b) p2p_node_free(b);
    if (c) p2p_node_free(c);
    unlink(path);
    rmdir(dir);
}

void test_native_limits(void) {
    p2p_node *n = NULL;
    int64_t v = -1;
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &n) == P2P_OK);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_HEARTBEAT_INTERVAL_MS, &v), P2P_OK);
    CHECK(v == 5000);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_HEARTBEAT_TIMEOUT_MS, &v), P2P_OK);
    CHECK(v == 12500);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_NEGOTIATION_WAIT_MS, &v), P2P_OK);
    CHECK(v == 250);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_HEARTBEAT_INTERVAL_MS, 200), P2P_OK);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_HEARTBEAT_TIMEOUT_MS, 700), P2P_OK);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_HEARTBEAT_INTERVAL_MS, &v), P2P_OK);
    CHECK(v == 200);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_HEARTBEAT_TIMEOUT_MS, &v), P2P_OK);
    CHECK(v == 700);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_ENCRYPTION, 3), P2P_EINVAL);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_ENCRYPTION, -1), P2P_EINVAL);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_HEARTBEAT_INTERVAL_MS, INT64_MAX), P2P_EINVAL);
    CHECK_RC(p2p_node_set_limit(n, 23, 1), P2P_EINVAL);
    CHECK_RC(p2p_node_get_limit(n, P2P_LIMIT_ENCRYPTION, &v), P2P_OK);
    CHECK(v == P2P_ENCRYPTION_PREFERRED);
    REQUIRE(p2p_node_start(n) == P2P_OK);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_HEARTBEAT_INTERVAL_MS, 300), P2P_ESTATE);
    /* names */
    int mode = -1;
    CHECK(strcmp(p2p_encryption_name(P2P_ENCRYPTION_OFF), "off") == 0);
    CHECK(strcmp(p2p_encryption_name(P2P_ENCRYPTION_PREFERRED), "preferred") == 0);
    CHECK(strcmp(p2p_encryption_name(P2P_ENCRYPTION_REQUIRED), "required") == 0);
    CHECK(p2p_encryption_name(3) == NULL && p2p_encryption_name(-1) == NULL);
    CHECK_RC(p2p_encryption_from_name("Required", &mode), P2P_OK);
    CHECK(mode == P2P_ENCRYPTION_REQUIRED);
    CHECK_RC(p2p_encryption_from_name(NULL, &mode), P2P_OK);
    CHECK(mode == P2P_ENCRYPTION_PREFERRED);
    CHECK_RC(p2p_encryption_from_name("tls", &mode), P2P_EINVAL);
    CHECK(mode == P2P_ENCRYPTION_PREFERRED);
    CHECK_RC(p2p_encryption_from_name("off", NULL), P2P_EINVAL);
    CHECK(strcmp(p2p_strerror(P2P_EREFUSED), "unknown status code") != 0);
out:
    if (n) p2p_node_free(n);
}

void test_native_misuse(void) {
    p2p_node *n = NULL, *gone = NULL;
    uint8_t key[P2P_KEY_LEN] = {1};
    p2p_buf b = P2P_BUF_INIT;
    REQUIRE(p2p_node_new("127.0.0.1", 0, "misuse", 0, &n) == P2P_OK);
    REQUIRE(p2p_node_new("127.0.0.1", 0, NULL, 0, &gone) == P2P_OK);
    REQUIRE(p2p_node_free(gone) == P2P_OK);
    /* NULL and freed nodes */
    p2p_node *bad[] = {NULL, gone};
    for (int i = 0; i < 2; i++) {
        p2p_node *x = bad[i];
        CHECK_RC(p2p_node_set_identity(x, (const uint8_t *)"k", 1), P2P_EHANDLE);
        CHECK_RC(p2p_node_identity_buf(x, &b), P2P_EHANDLE);
        CHECK_RC(p2p_node_identity_load(x, "/tmp/x"), P2P_EHANDLE);
        CHECK_RC(p2p_node_identity_save(x, "/tmp/x"), P2P_EHANDLE);
        CHECK_RC(p2p_node_public_key_buf(x, &b), P2P_EHANDLE);
        CHECK_RC(p2p_node_pin(x, "id", 2, key, sizeof key), P2P_EHANDLE);
        CHECK_RC(p2p_node_pinned_key_buf(x, "id", 2, &b), P2P_EHANDLE);
        CHECK_RC(p2p_node_allow(x, NULL, 0, key, sizeof key), P2P_EHANDLE);
        CHECK(b.data == NULL && b.len == 0);
    }
    /* NULL arguments */
    CHECK_RC(p2p_node_set_identity(n, NULL, 10), P2P_EINVAL);
    CHECK_RC(p2p_node_identity_buf(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_identity_load(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_identity_save(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_public_key_buf(n, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_pin(n, NULL, 2, key, sizeof key), P2P_EINVAL);
    CHECK_RC(p2p_node_pin(n, "id", 2, NULL, sizeof key), P2P_EINVAL);
    CHECK_RC(p2p_node_pinned_key_buf(n, NULL, 0, &b), P2P_EINVAL);
    CHECK_RC(p2p_node_pinned_key_buf(n, "id", 2, NULL), P2P_EINVAL);
    CHECK_RC(p2p_node_allow(n, NULL, 0, NULL, sizeof key), P2P_EINVAL);
    /* bad key_len, over-long ids */
    CHECK_RC(p2p_node_pin(n, "id", 2, key, 31), P2P_EINVAL);
    CHECK(strstr(p2p_errmsg(), "P2P_KEY_LEN") != NULL);
    CHECK_RC(p2p_node_pin(n, "id", 2, key, 64), P2P_EINVAL);
    CHECK_RC(p2p_node_allow(n, "id", 2, key, 0), P2P_EINVAL);
    CHECK_RC(p2p_node_pin(n, "id", (size_t)P2P_MAX_ID_LEN + 1, key, sizeof key), P2P_EINVAL);
    CHECK_RC(p2p_node_pinned_key_buf(n, "id", SIZE_MAX, &b), P2P_EINVAL);
    CHECK_RC(p2p_node_pinned_key_buf(n, "nobody", 6, &b), P2P_ENOTFOUND);
    CHECK(b.data == NULL && b.len == 0);
    /* the id is id_len bytes, not up to a NUL */
    CHECK_RC(p2p_node_pin(n, "abcdef", 3, key, sizeof key), P2P_OK);
    CHECK_RC(p2p_node_pinned_key_buf(n, "abc", 3, &b), P2P_OK);
    CHECK(b.len == P2P_KEY_LEN && b.data[0] == 1);
    p2p_buf_free(&b);
    CHECK_RC(p2p_node_pinned_key_buf(n, "abcdef", 6, &b), P2P_ENOTFOUND);
    /* after stop: the identity is fixed, the trust store still answers */
    REQUIRE(p2p_node_start(n) == P2P_OK);
    REQUIRE(p2p_node_stop(n) == P2P_OK);
    CHECK_RC(p2p_node_set_identity(n, (const uint8_t *)"k", 1), P2P_EINVAL);
    CHECK_RC(p2p_node_identity_buf(n, &b), P2P_OK);
    p2p_buf_free(&b);
    CHECK_RC(p2p_node_identity_load(n, "/tmp/p2pnode-no-such-identity.pem"), P2P_EKEY);
    CHECK_RC(p2p_node_public_key_buf(n, &b), P2P_OK);
    CHECK(b.len == P2P_KEY_LEN);
    p2p_buf_free(&b);
    CHECK_RC(p2p_node_pin(n, "later", 5, key, sizeof key), P2P_OK);
    CHECK_RC(p2p_node_set_limit(n, P2P_LIMIT_ENCRYPTION, P2P_ENCRYPTION_OFF), P2P_ESTATE);
out:
    if (n) p2p_node_free(n);
}
