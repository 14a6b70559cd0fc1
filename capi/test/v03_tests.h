/* v03_tests.h - the tests of the 0.3 functions (test_v03.c), listed for the
 * table of test_capi.c as secure_tests.h lists its own: X(name, subset). */
#ifndef P2P_V03_TESTS_H
#define P2P_V03_TESTS_H

#define V03_TESTS(X)            \
    X(v03_names, 1)             \
    X(v03_buf_node, 1)          \
    X(v03_peer_facts_stats, 1)  \
    X(v03_handler, 1)           \
    X(v03_next, 1)              \
    X(v03_secure_buf, 1)        \
    X(v03_secure_passwords, 1)

#define V03_DECLARE_(name, subset) void test_##name(void);
V03_TESTS(V03_DECLARE_)
#undef V03_DECLARE_

#endif
