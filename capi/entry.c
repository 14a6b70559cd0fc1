// The C entry points of every function of include/p2pnode.h that Go
// implements: each one refuses, in C, a call made in a child forked from
// the process that loaded the library (P2P_EFORK), and otherwise calls the
// Go function (//export p2pgo_*) with its arguments. In such a child the Go
// runtime's threads are gone, so a call must not enter Go at all: that can
// wait forever for a thread that is not there.
//
// Written from the header's prototypes (one wrapper per function, in the
// header's order); capi/test/check_header.py checks that each wrapper's
// signature is the header's and that it calls the Go function of its name,
// whose parameters cgo's generated header gives (pointers are passed as
// void *: the check compares those types with the header's).
#include <stddef.h>
#include <stdint.h>

#include "p2pnode.h"
#include "shim.h"
#include "_cgo_export.h"

#if defined(_WIN32)
#define P2P_API __declspec(dllexport)
#else
#define P2P_API __attribute__((visibility("default")))
#endif

#define P2P_FORK_GUARD()                                 \
    do {                                                 \
        if (p2p_forked_) return p2p_fork_fail_();        \
    } while (0)

#define P2P_FORK_GUARD_OUT(out)                          \
    do {                                                 \
        if (p2p_forked_) {                               \
            if ((out) != NULL) *(out) = NULL;            \
            return p2p_fork_fail_();                     \
        }                                                \
    } while (0)

P2P_API int p2p_node_new(const char *host, int port, const char *id, int max_connections, p2p_node **out) {
    P2P_FORK_GUARD_OUT(out);
    return p2pgo_node_new((void *)host, port, (void *)id, max_connections, (void *)out);
}

P2P_API int p2p_node_set_callback(p2p_node *node, p2p_event_fn fn, void *user_data) {
    P2P_FORK_GUARD();
    return p2pgo_node_set_callback((void *)node, fn, (void *)user_data);
}

P2P_API int p2p_node_set_limit(p2p_node *node, int limit, int64_t value) {
    P2P_FORK_GUARD();
    return p2pgo_node_set_limit((void *)node, limit, value);
}

P2P_API int p2p_node_get_limit(p2p_node *node, int limit, int64_t *value) {
    P2P_FORK_GUARD();
    return p2pgo_node_get_limit((void *)node, limit, (void *)value);
}

P2P_API int p2p_node_set_debug(p2p_node *node, int on) {
    P2P_FORK_GUARD();
    return p2pgo_node_set_debug((void *)node, on);
}

P2P_API int p2p_node_get_debug(p2p_node *node, int *on) {
    P2P_FORK_GUARD();
    return p2pgo_node_get_debug((void *)node, (void *)on);
}

P2P_API int p2p_node_start(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_node_start((void *)node);
}

P2P_API int p2p_node_stop(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_node_stop((void *)node);
}

P2P_API int p2p_node_free(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_node_free((void *)node);
}

P2P_API int p2p_node_port(p2p_node *node, int *port) {
    P2P_FORK_GUARD();
    return p2pgo_node_port((void *)node, (void *)port);
}

P2P_API int p2p_node_counters(p2p_node *node, p2p_counters *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_counters((void *)node, (void *)out);
}

P2P_API int p2p_peer_counters(p2p_node *node, uint64_t peer, p2p_counters *out) {
    P2P_FORK_GUARD();
    return p2pgo_peer_counters((void *)node, peer, (void *)out);
}

P2P_API int p2p_node_connect(p2p_node *node, const char *host, int port, int reconnect, uint64_t *peer) {
    P2P_FORK_GUARD();
    return p2pgo_node_connect((void *)node, (void *)host, port, reconnect, (void *)peer);
}

P2P_API int p2p_node_disconnect(p2p_node *node, uint64_t peer) {
    P2P_FORK_GUARD();
    return p2pgo_node_disconnect((void *)node, peer);
}

P2P_API int p2p_node_send(p2p_node *node, uint64_t peer, const void *data, size_t len, int compression) {
    P2P_FORK_GUARD();
    return p2pgo_node_send((void *)node, peer, (void *)data, len, compression);
}

P2P_API int p2p_node_broadcast(p2p_node *node, const void *data, size_t len, const uint64_t *exclude, size_t n_exclude, int compression) {
    P2P_FORK_GUARD();
    return p2pgo_node_broadcast((void *)node, (void *)data, len, (void *)exclude, n_exclude, compression);
}

P2P_API int p2p_node_send_batch(p2p_node *node, uint64_t peer, const void *data, const size_t *lens, size_t count, int compression, size_t *sent) {
    P2P_FORK_GUARD();
    return p2pgo_node_send_batch((void *)node, peer, (void *)data, (void *)lens, count, compression, (void *)sent);
}

P2P_API int p2p_peer_port(p2p_node *node, uint64_t peer, int *port) {
    P2P_FORK_GUARD();
    return p2pgo_peer_port((void *)node, peer, (void *)port);
}

P2P_API int p2p_peer_direction(p2p_node *node, uint64_t peer, int *direction) {
    P2P_FORK_GUARD();
    return p2pgo_peer_direction((void *)node, peer, (void *)direction);
}

P2P_API int p2p_peer_set_info(p2p_node *node, uint64_t peer, const char *key, const void *value, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_peer_set_info((void *)node, peer, (void *)key, (void *)value, len);
}

P2P_API int p2p_node_poll(p2p_node *node, p2p_event *events, size_t max, int timeout_ms, size_t *count) {
    P2P_FORK_GUARD();
    return p2pgo_node_poll((void *)node, (void *)events, max, timeout_ms, (void *)count);
}

P2P_API int p2p_node_poll_batch(p2p_node *node, p2p_event *events, size_t max, int timeout_ms, size_t *count, const uint8_t **data, size_t *data_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_poll_batch((void *)node, (void *)events, max, timeout_ms, (void *)count, (void *)data, (void *)data_len);
}

P2P_API int p2p_node_reply(p2p_node *node, int answer) {
    P2P_FORK_GUARD();
    return p2pgo_node_reply((void *)node, answer);
}

P2P_API int p2p_secure_node_new(const char *host, int port, const char *id, int max_connections, const p2p_secure_config *cfg, p2p_node **out) {
    P2P_FORK_GUARD_OUT(out);
    return p2pgo_secure_node_new((void *)host, port, (void *)id, max_connections, (void *)cfg, (void *)out);
}

P2P_API int p2p_secure_key_generate(p2p_node *node, int bits) {
    P2P_FORK_GUARD();
    return p2pgo_secure_key_generate((void *)node, bits);
}

P2P_API int p2p_secure_key_load(p2p_node *node, const char *path, const char *password) {
    P2P_FORK_GUARD();
    return p2pgo_secure_key_load((void *)node, (void *)path, (void *)password);
}

P2P_API int p2p_secure_key_save(p2p_node *node, const char *path, const char *password, int format) {
    P2P_FORK_GUARD();
    return p2pgo_secure_key_save((void *)node, (void *)path, (void *)password, format);
}

P2P_API int p2p_secure_send_message(p2p_node *node, const char *json, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_send_message((void *)node, (void *)json, len);
}

P2P_API int p2p_secure_send(p2p_node *node, uint64_t peer, const char *json, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_send((void *)node, peer, (void *)json, len);
}

P2P_API int p2p_secure_broadcast(p2p_node *node, const char *json, size_t len, const uint64_t *exclude, size_t n_exclude) {
    P2P_FORK_GUARD();
    return p2pgo_secure_broadcast((void *)node, (void *)json, len, (void *)exclude, n_exclude);
}

P2P_API int p2p_secure_send_ping(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_secure_send_ping((void *)node);
}

P2P_API int p2p_secure_send_discovery(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_secure_send_discovery((void *)node);
}

P2P_API int p2p_secure_check_message(const char *json, size_t len, int *reject) {
    P2P_FORK_GUARD();
    return p2pgo_secure_check_message((void *)json, len, (void *)reject);
}

P2P_API int p2p_secure_pin(p2p_node *node, const char *id, const char *pem) {
    P2P_FORK_GUARD();
    return p2pgo_secure_pin((void *)node, (void *)id, (void *)pem);
}

P2P_API int p2p_node_request_stop(p2p_node *node) {
    P2P_FORK_GUARD();
    return p2pgo_node_request_stop((void *)node);
}

P2P_API int p2p_secure_verify(const char *pem, const char *text, size_t len, const char *signature) {
    P2P_FORK_GUARD();
    return p2pgo_secure_verify((void *)pem, (void *)text, len, (void *)signature);
}

P2P_API int p2p_secure_derive_key(const void *password, size_t password_len, const void *salt, size_t salt_len, void *key, size_t key_len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_derive_key((void *)password, password_len, (void *)salt, salt_len, (void *)key, key_len);
}

P2P_API int p2p_secure_aes_encrypt_file(const char *path, const void *key, size_t key_len, const void *data, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_encrypt_file((void *)path, (void *)key, key_len, (void *)data, len);
}

P2P_API int p2p_secure_aes_encrypt_file_pw(const char *path, const void *password, size_t password_len, const void *data, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_encrypt_file_pw((void *)path, (void *)password, password_len, (void *)data, len);
}

P2P_API int p2p_secure_set_delegate(p2p_node *node, int types) {
    P2P_FORK_GUARD();
    return p2pgo_secure_set_delegate((void *)node, types);
}

P2P_API int p2p_secure_handle(p2p_node *node, uint64_t peer, int step, const char *json, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_handle((void *)node, peer, step, (void *)json, len);
}

/* ---- 0.3 ---- */

P2P_API int p2p_node_id_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_id_buf((void *)node, (void *)out);
}

P2P_API int p2p_node_host_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_host_buf((void *)node, (void *)out);
}

P2P_API int p2p_node_peers_buf(p2p_node *node, int direction, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_peers_buf((void *)node, direction, (void *)out);
}

P2P_API int p2p_peer_get_info_buf(p2p_node *node, uint64_t peer, const char *key, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_peer_get_info_buf((void *)node, peer, (void *)key, (void *)out);
}

P2P_API int p2p_peer_facts(p2p_node *node, uint64_t peer, p2p_peer *out) {
    P2P_FORK_GUARD();
    return p2pgo_peer_facts((void *)node, peer, (void *)out);
}

P2P_API int p2p_peer_ping(p2p_node *node, uint64_t peer, double *seconds) {
    P2P_FORK_GUARD();
    return p2pgo_peer_ping((void *)node, peer, (void *)seconds);
}

P2P_API int p2p_node_stats(p2p_node *node, p2p_stats *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_stats((void *)node, (void *)out);
}

P2P_API int p2p_peer_stats(p2p_node *node, uint64_t peer, p2p_stats *out) {
    P2P_FORK_GUARD();
    return p2pgo_peer_stats((void *)node, peer, (void *)out);
}

P2P_API int p2p_secure_node_create(const char *host, int port, const char *id, int max_connections, const p2p_secure_opts *opts, p2p_node **out) {
    P2P_FORK_GUARD_OUT(out);
    return p2pgo_secure_node_create((void *)host, port, (void *)id, max_connections, (void *)opts, (void *)out);
}

P2P_API int p2p_node_set_handler(p2p_node *node, p2p_ev_fn fn, void *user_data) {
    P2P_FORK_GUARD();
    return p2pgo_node_set_handler((void *)node, fn, (void *)user_data);
}

P2P_API int p2p_node_next(p2p_node *node, p2p_ev *events, size_t max, int timeout_ms, size_t *count, const uint8_t **data, size_t *data_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_next((void *)node, (void *)events, max, timeout_ms, (void *)count, (void *)data, (void *)data_len);
}

P2P_API int p2p_secure_hash(const char *json, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_hash((void *)json, len, (void *)out);
}

P2P_API int p2p_secure_password(const char *text, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_password((void *)text, len, (void *)out);
}

P2P_API int p2p_secure_key_load_bytes(p2p_node *node, const char *path, const void *password, size_t password_len) {
    P2P_FORK_GUARD();
    return p2pgo_secure_key_load_bytes((void *)node, (void *)path, (void *)password, password_len);
}

P2P_API int p2p_secure_key_save_bytes(p2p_node *node, const char *path, const void *password, size_t password_len, int format) {
    P2P_FORK_GUARD();
    return p2pgo_secure_key_save_bytes((void *)node, (void *)path, (void *)password, password_len, format);
}

P2P_API int p2p_secure_public_key_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_public_key_buf((void *)node, (void *)out);
}

P2P_API int p2p_secure_private_key_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_private_key_buf((void *)node, (void *)out);
}

P2P_API int p2p_secure_pinned_key_buf(p2p_node *node, const char *id, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_pinned_key_buf((void *)node, (void *)id, (void *)out);
}

P2P_API int p2p_secure_create_message_buf(p2p_node *node, const char *json, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_create_message_buf((void *)node, (void *)json, len, (void *)out);
}

P2P_API int p2p_secure_canonical_buf(const char *json, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_canonical_buf((void *)json, len, (void *)out);
}

P2P_API int p2p_secure_sign_buf(p2p_node *node, const char *text, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_sign_buf((void *)node, (void *)text, len, (void *)out);
}

P2P_API int p2p_secure_encrypt_buf(const char *pem, const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_encrypt_buf((void *)pem, (void *)data, len, (void *)out);
}

P2P_API int p2p_secure_decrypt_buf(p2p_node *node, const char *text, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_decrypt_buf((void *)node, (void *)text, len, (void *)out);
}

P2P_API int p2p_secure_aes_pad_buf(const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_pad_buf((void *)data, len, (void *)out);
}

P2P_API int p2p_secure_aes_encrypt_buf(const void *key, size_t key_len, const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_encrypt_buf((void *)key, key_len, (void *)data, len, (void *)out);
}

P2P_API int p2p_secure_aes_decrypt_buf(const void *key, size_t key_len, const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_decrypt_buf((void *)key, key_len, (void *)data, len, (void *)out);
}

P2P_API int p2p_secure_aes_encrypt_pw_buf(const void *password, size_t password_len, const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_encrypt_pw_buf((void *)password, password_len, (void *)data, len, (void *)out);
}

P2P_API int p2p_secure_aes_decrypt_pw_buf(const void *password, size_t password_len, const void *data, size_t len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_decrypt_pw_buf((void *)password, password_len, (void *)data, len, (void *)out);
}

P2P_API int p2p_secure_aes_decrypt_file_buf(const char *path, const void *key, size_t key_len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_decrypt_file_buf((void *)path, (void *)key, key_len, (void *)out);
}

P2P_API int p2p_secure_aes_decrypt_file_pw_buf(const char *path, const void *password, size_t password_len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_secure_aes_decrypt_file_pw_buf((void *)path, (void *)password, password_len, (void *)out);
}

/* 0.4: the native protocol (issue 19). */

P2P_API int p2p_node_set_identity(p2p_node *node, const uint8_t *pem, size_t len) {
    P2P_FORK_GUARD();
    return p2pgo_node_set_identity((void *)node, (void *)pem, len);
}

P2P_API int p2p_node_identity_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_identity_buf((void *)node, (void *)out);
}

P2P_API int p2p_node_identity_load(p2p_node *node, const char *path) {
    P2P_FORK_GUARD();
    return p2pgo_node_identity_load((void *)node, (void *)path);
}

P2P_API int p2p_node_identity_save(p2p_node *node, const char *path) {
    P2P_FORK_GUARD();
    return p2pgo_node_identity_save((void *)node, (void *)path);
}

P2P_API int p2p_node_public_key_buf(p2p_node *node, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_public_key_buf((void *)node, (void *)out);
}

P2P_API int p2p_node_pin(p2p_node *node, const char *id, size_t id_len, const uint8_t *key, size_t key_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_pin((void *)node, (void *)id, id_len, (void *)key, key_len);
}

P2P_API int p2p_node_pinned_key_buf(p2p_node *node, const char *id, size_t id_len, p2p_buf *out) {
    P2P_FORK_GUARD();
    return p2pgo_node_pinned_key_buf((void *)node, (void *)id, id_len, (void *)out);
}

P2P_API int p2p_node_allow(p2p_node *node, const char *id, size_t id_len, const uint8_t *key, size_t key_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_allow((void *)node, (void *)id, id_len, (void *)key, key_len);
}

/* 0.4: the network layer (issue 21). */

P2P_API int p2p_node_discover(p2p_node *node, int target_peers) {
    P2P_FORK_GUARD();
    return p2pgo_node_discover((void *)node, target_peers);
}

P2P_API int p2p_node_known_peers_buf(p2p_node *node, p2p_buf *out, size_t *count) {
    P2P_FORK_GUARD();
    return p2pgo_node_known_peers_buf((void *)node, (void *)out, (void *)count);
}

P2P_API int p2p_node_subscribe(p2p_node *node, const char *topic, size_t topic_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_subscribe((void *)node, (void *)topic, topic_len);
}

P2P_API int p2p_node_unsubscribe(p2p_node *node, const char *topic, size_t topic_len) {
    P2P_FORK_GUARD();
    return p2pgo_node_unsubscribe((void *)node, (void *)topic, topic_len);
}

P2P_API int p2p_node_publish(p2p_node *node, const char *topic, size_t topic_len, const void *data, size_t len, int compression) {
    P2P_FORK_GUARD();
    return p2pgo_node_publish((void *)node, (void *)topic, topic_len, (void *)data, len, compression);
}
