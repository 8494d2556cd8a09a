// History on disk (docs/LOG_FORMAT.md, "History"): each sealed chunk of a history namespace is
// written once, at the first checkpoint after it was sealed, as its own index file
// (docs/FORMAT.md, "History chunk files"): a 3D f64 tree over the chunk's (x, y, t) entry
// boxes, each entry's object as a 4-byte payload, and the chunk's columns in the metadata.
// A chunk changes only by erasures (DeleteHistory); the next checkpoint writes it again under a
// new number and the old file goes. A checkpoint's history section lists, per history
// namespace, the object ids by number, the chunk files in sequence order and the open part.
// Pure functions over bytes; the files are written and removed by checkpoint.cc and read by
// recovery.cc.
#ifndef LOCUS_API_DB_HISTORY_FILES_H_
#define LOCUS_API_DB_HISTORY_FILES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/history.h"
#include "locus/status.h"

namespace locus::db_internal {

std::string HistoryFileName(uint64_t number);  // "history-<16 hex>.locus"
bool ParseHistoryFileName(std::string_view name, uint64_t* number);

// A chunk file's bytes (deterministic: the same image gives the same bytes).
Status EncodeHistoryChunk(const engine::HistoryChunkImage& image, std::vector<uint8_t>* out);
// Validates the index file (every checksum) and decodes the columns: Corruption naming what is
// wrong. The image's values are checked again by History::ImportChunk.
Result<engine::HistoryChunkImage> DecodeHistoryChunk(std::span<const uint8_t> bytes);

// One history namespace in a checkpoint.
struct HistorySection {
  uint32_t ns = 0;                 // index into the checkpoint's namespaces
  std::vector<std::string> names;  // object id by number
  std::vector<uint64_t> files;     // the live chunks' files, in sequence order
  std::vector<engine::HistoryOpenObject> open;
};
void EncodeHistorySections(const std::vector<HistorySection>& sections, std::vector<uint8_t>* out);
// Corruption naming the field on any bad length, count or trailing byte.
Status DecodeHistorySections(std::string_view bytes, std::vector<HistorySection>* out);

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_HISTORY_FILES_H_
