// ResourceQuota: per-agent limits on each resource type, and the ledger of what each
// CloudAI agent holds.
//
// A quota caps what one agent may hold of one type; types without a quota are unlimited
// for that agent. The ledger counts, per agent and type, what is held and what is
// reserved by requests still in progress, and Check compares held + reserved + the new
// amount with the limit, so concurrent requests of one agent cannot overrun its quota
// together. Lowering a quota below current usage is allowed: it refuses new requests only.
//
// A request's life in the ledger: Reserve (checked against the quota) -> Commit when it is
// granted, or Unreserve when it fails; later Release gives the held amounts back.
// Reserve and Release are all-or-nothing over the types they name.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cloudai/rm/acquire_options.h"
#include "cloudai/rm/status.h"

namespace cloudai::rm {

class ResourceQuota {
 public:
  // limit >= 0 (0 allows nothing), else kInvalidArgument.
  Status SetQuota(const std::string& agent, const std::string& type, int64_t limit);
  void RemoveQuota(const std::string& agent, const std::string& type);
  std::optional<int64_t> GetQuota(const std::string& agent, const std::string& type) const;

  // OK if the agent may take `amount` (> 0) more of `type`, else kQuotaExceeded.
  Status Check(const std::string& agent, const std::string& type, int64_t amount) const;

  // Checks every amount (each > 0) against the agent's quotas and reserves them all, or
  // returns kQuotaExceeded and reserves nothing.
  Status Reserve(const std::string& agent, const ResourceAmounts& amounts);
  // Turns reserved amounts into held ones.
  void Commit(const std::string& agent, const ResourceAmounts& amounts);
  // Drops reserved amounts (the request failed).
  void Unreserve(const std::string& agent, const ResourceAmounts& amounts);
  // Gives held amounts back; kNotAcquired (and no change) if any exceeds what is held.
  Status Release(const std::string& agent, const ResourceAmounts& amounts);

  // Held amount of one type.
  int64_t Usage(const std::string& agent, const std::string& type) const;
  // Held amounts of every type the agent holds.
  ResourceAmounts AgentUsage(const std::string& agent) const;

 private:
  struct Entry {
    std::optional<int64_t> limit;
    int64_t held = 0;
    int64_t reserved = 0;
  };
  using AgentEntries = std::map<std::string, Entry, std::less<>>;

  Status CheckLocked(const std::string& agent, const std::string& type, int64_t amount) const;
  const Entry* Find(const std::string& agent, const std::string& type) const;
  Entry* Find(const std::string& agent, const std::string& type);
  // Erases entries that hold nothing and carry no limit.
  void Prune(const std::string& agent);

  mutable std::mutex mu_;
  std::map<std::string, AgentEntries, std::less<>> agents_;
};

}  // namespace cloudai::rm
