// The database's catalogue of namespaces (db_impl.h): creating, listing, dropping and finding
// them. Creations and drops are logged under ns_change_mu, so a checkpoint's roll of the log
// sees the namespaces exactly as they are at its segment's start.
#include <string>
#include <utility>
#include <vector>

#include "api/db/db_impl.h"

namespace locus {

using db_internal::NsPtr;

NsPtr Db::Impl::NewNamespace(const NamespaceOptions& o) const {
  auto ns = std::make_shared<Namespace>(o, options.block_rows);
  ns->build_hook = seams.recluster_build;
  if (o.history.enabled) {
    engine::HistoryConfig config;
    config.space = db_internal::SpaceOf(o.coordinates);
    config.keep_metadata = o.history.keep_metadata;
    config.chunk_samples = o.history.chunk_samples;
    ns->history = std::make_unique<db_internal::HistoryState>(config);
  }
  return ns;
}

NsPtr Db::Impl::Find(std::string_view name) const {
  std::shared_lock lock(ns_mu);
  auto it = namespaces.find(name);
  return it == namespaces.end() ? nullptr : it->second;
}

NsPtr Db::Impl::FindOrCreate(std::string_view name) {
  if (auto ns = Find(name)) return ns;
  std::lock_guard change(ns_change_mu);
  std::unique_lock lock(ns_mu);
  auto it = namespaces.find(name);
  if (it != namespaces.end()) return it->second;
  auto ns = NewNamespace(NamespaceOptions{});
  if (log) {
    LogRecord(db_internal::kCreateNamespace,
              [&](std::vector<uint8_t>* out) {
                db_internal::EncodeNamespace(name, ns->options, out);
              })
        .status()
        .IgnoreError();
  }
  namespaces.emplace(std::string(name), ns);
  return ns;
}

Result<NsPtr> Db::Impl::Require(std::string_view name) const {
  LOCUS_RETURN_IF_ERROR(db_internal::CheckName(name, "namespace", options.max_namespace_bytes));
  auto ns = Find(name);
  if (!ns) return NotFoundError("namespace '" + std::string(name) + "' does not exist");
  return ns;
}

Status Db::CreateNamespace(std::string_view name, const NamespaceOptions& given) {
  LOCUS_RETURN_IF_ERROR(
      db_internal::CheckName(name, "namespace", impl_->options.max_namespace_bytes));
  LOCUS_RETURN_IF_ERROR(db_internal::CheckNamespaceOptions(given));
  // History options mean nothing without history: normalised, so that a namespace compares
  // equal to itself after a restart (the log keeps only what is enabled).
  NamespaceOptions options = given;
  if (!options.history.enabled) options.history = {};
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  {
    std::lock_guard change(impl_->ns_change_mu);
    std::unique_lock lock(impl_->ns_mu);
    auto it = impl_->namespaces.find(name);
    if (it != impl_->namespaces.end()) {
      if (it->second->options.coordinates == options.coordinates &&
          it->second->options.history == options.history) {
        return Status();
      }
      if (it->second->options.coordinates == options.coordinates) {
        return AlreadyExistsError("namespace '" + std::string(name) +
                                  "' exists with other history options");
      }
      return AlreadyExistsError("namespace '" + std::string(name) + "' exists with coordinates " +
                                CoordinateSystemName(it->second->options.coordinates) + ", not " +
                                CoordinateSystemName(options.coordinates));
    }
    if (impl_->log) {
      LOCUS_ASSIGN_OR_RETURN(
          lsn, impl_->LogRecord(db_internal::kCreateNamespace, [&](std::vector<uint8_t>* out) {
            db_internal::EncodeNamespace(name, options, out);
          }));
    }
    impl_->namespaces.emplace(std::string(name), impl_->NewNamespace(options));
  }
  return impl_->Commit(lsn, {});
}

std::vector<std::string> Db::ListNamespaces() const {
  std::shared_lock lock(impl_->ns_mu);
  std::vector<std::string> out;
  for (const auto& [name, ns] : impl_->namespaces) out.push_back(name);
  return out;
}

Status Db::DropNamespace(std::string_view name) {
  LOCUS_RETURN_IF_ERROR(
      db_internal::CheckName(name, "namespace", impl_->options.max_namespace_bytes));
  LOCUS_RETURN_IF_ERROR(impl_->WritableCheck());
  uint64_t lsn = 0;
  {
    std::lock_guard change(impl_->ns_change_mu);
    std::unique_lock lock(impl_->ns_mu);
    auto it = impl_->namespaces.find(name);
    if (it == impl_->namespaces.end()) {
      return NotFoundError("namespace '" + std::string(name) + "' does not exist");
    }
    // Our own reference outlives the guard below: erasing the map's may free the namespace
    // (and the mutex the guard holds) otherwise.
    const NsPtr ns = it->second;
    // Under the namespace's writer lock, so every write logged into it comes before the
    // drop in the log and none after (writers that find it dropped look it up again).
    std::lock_guard w(ns->writer);
    if (impl_->log) {
      LOCUS_ASSIGN_OR_RETURN(
          lsn, impl_->LogRecord(db_internal::kDropNamespace, [&](std::vector<uint8_t>* out) {
            db_internal::EncodeName(name, out);
          }));
    }
    ns->dropped = true;
    impl_->namespaces.erase(it);  // queries holding it finish on their own reference
  }
  return impl_->Commit(lsn, {});
}

}  // namespace locus
