// Helpers the history rooms share (history.cc, history_queries.cc): one object's path as the
// engine returns it (engine::History::Timeline), read at any instant by the motion rule.
//
// Thread safety: pure functions (the callers hold the namespace's lock).
#ifndef LOCUS_API_DB_HISTORY_PATH_H_
#define LOCUS_API_DB_HISTORY_PATH_H_

#include <optional>
#include <string_view>
#include <vector>

#include "api/db/namespace.h"
#include "engine/motion.h"
#include "locus/db.h"

namespace locus::db_internal {

Position PositionOf(const engine::Fix& f);
// The position at t on a path (samples sorted by t), or nullopt outside its first..last.
std::optional<engine::Fix> PathAt(const std::vector<engine::Fix>& path, double t,
                                  engine::Space space);
// The history number of `id`; NotFound naming the namespace and the object.
Result<uint32_t> HistoryNumber(const HistoryState& h, std::string_view ns_name,
                               std::string_view id);

}  // namespace locus::db_internal

#endif  // LOCUS_API_DB_HISTORY_PATH_H_
