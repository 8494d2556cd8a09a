// Linked into every test binary of a ThreadSanitizer build (LOCUS_SANITIZE=thread; see
// tests/CMakeLists.txt and .ci/run): limits oneTBB to one thread for the whole process, so
// every tbb::parallel_for / parallel_invoke / parallel_sort runs on the thread that called
// it and TBB starts no worker threads.
//
// Why: Debian's libtbb is not built with -fsanitize=thread, so ThreadSanitizer cannot see
// the synchronisation inside it (its task queues, its worker wake-ups) and reports the
// hand-over of a task's data to a worker as a race. Those reports are false and would bury
// real ones. Locus's own threads (the log's syncer, write groups, the sweeper, the
// reclusterer, the checkpointer, the tests' writers and readers) are untouched and fully
// checked. What this gives up: races between the bodies of one parallel loop, which
// ThreadSanitizer could not check reliably without an instrumented TBB anyway; the parallel
// paths are instead tested for output equal to their serial runs (builds and joins in
// tests/engine/, CRC32C and the index validation passes in tests/storage/).
//
// Seen without it: one checkpoint test of locus_db_durable_test alone gave 19 reports, each
// on data or memory handed between the caller of Crc32cExtend's parallel_invoke (over a
// checkpoint and over a 5 MB log record) and the TBB worker that ran one half.
#include <tbb/global_control.h>

namespace {

// Constructed before main, destroyed after it: no test runs TBB with more than one thread.
const tbb::global_control serial_tbb(tbb::global_control::max_allowed_parallelism, 1);

}  // namespace
