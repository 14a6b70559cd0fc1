/* batchcb_tests.h - the tests of callbacks in batches (test_batchcb.c),
 * listed for the table of test_capi.c: X(name, subset). */
#ifndef P2P_BATCHCB_TESTS_H
#define P2P_BATCHCB_TESTS_H

#define BATCHCB_TESTS(X)             \
    X(batchcb_burst, 0)              \
    X(batchcb_burst_sized, 1)        \
    X(batchcb_free_inside, 1)        \
    X(batchcb_free_from_other_thread, 1)

#define BATCHCB_DECLARE_(name, subset) void test_##name(void);
BATCHCB_TESTS(BATCHCB_DECLARE_)
#undef BATCHCB_DECLARE_

#endif
