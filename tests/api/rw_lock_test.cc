// Tests the database's namespace lock (api/db/rw_lock.h).
#include "api/db/rw_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace locus {
namespace {

// The namespace lock (api/db/rw_lock.h) on its own: plain data under it is never seen torn
// (ThreadSanitizer checks the ordering in CI), a writer gets in while readers loop without
// pause (writers go ahead of new readers), and sleepers wake: one side holds the lock far
// longer than the others spin, so they sleep on the word and must be woken by the release.
TEST(DbConcurrencyTest, NamespaceLockExcludesPrefersWritersAndWakesSleepers) {
  db_internal::RwLock lock;
  int64_t a = 0, b = 0;  // guarded by lock: a == b whenever it is free
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_lock hold(lock);
        ASSERT_EQ(a, b);
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {  // completes only if writers get in among looping readers
    std::unique_lock hold(lock);
    ++a;
    ++b;
  }
  {  // A long hold: the readers outlast their spinning and sleep until the release.
    std::unique_lock hold(lock);
    const int64_t before = reads.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(reads.load(), before);  // none got in
  }
  const int64_t after_release = reads.load();
  while (reads.load() < after_release + 100) std::this_thread::yield();  // they woke
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(a, 2000);
  EXPECT_EQ(b, 2000);
  // A long read hold: the writer sleeps, and the last reader's release wakes it.
  std::atomic<bool> wrote{false};
  std::thread writer;
  {
    std::shared_lock hold(lock);
    writer = std::thread([&] {
      std::unique_lock w(lock);
      ++a;
      wrote = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(wrote.load());
  }
  writer.join();
  EXPECT_TRUE(wrote.load());
  std::shared_lock hold(lock);
  EXPECT_EQ(a, 2001);
}

}  // namespace
}  // namespace locus
